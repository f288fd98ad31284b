"""Which clause the contract suite must name for each fault of the local hub.

The hub describes each fault in words (``Fault.clause``), because the hub never reads ``contracts/``. The self-check
needs the clause *ids* of ``contracts/SOURCES.md`` (``file#/pointer`` or ``rule:...``) to tell "the suite failed, and
for the right reason" from "the suite failed somewhere". This table is that link, kept as data so that a reviewer can
read it against SOURCES.md. A fault is caught when the suite's output names any clause of its row; the first id of
each row is the clause the fault was written to break, the others are clauses it breaks as well by construction (a
204 answer is both "not the deleted model" and "an undocumented status"). A strict-only fault's row holds the clauses
its ``--strict-contract`` run must name (by default the suite must pass it). A row lists every clause its fault breaks:
a fault may break several sibling clauses at once, and the report counts a clause as *covered* only when the suite's
output for a caught fault names it.

Some clauses no fault can reach through the live suite, by design; ``UNREACHED_BY_DESIGN`` says which and why, and
the report lists them with that reason instead of hiding them:

- ``strict.schema.json``: the live suite runs the default variant (only strict-only rows add ``--strict-contract``,
  against hubs whose answers carry no field the contract does not name), so a closed-object clause is never what an
  answer breaks; tests/schemas proves each one offline.
- ``deploy.schema.json``'s checkpoint answer: the self-check's runs deploy through the fine-tune route (``--fine-tune``
  without ``@STEP``), so only the fine-tune deploy answer is checked, and its clauses are mapped to faults.
- ``model-list.schema.json#/properties/data/items/$ref``: a violation inside a listed model names the model clause
  it breaks, never the ``$ref`` (SOURCES.md says so); ``list-created-as-string`` proves the reference is followed.

Other clauses stay uncovered because the suite does not name them: the ``openapi.yaml`` rows (the suite reports a
broken parameter or status rule by its ``rule:`` id), and those of a fault the suite misses (``KNOWN_MISSES``, empty
since the delete lifecycle always activates its live model, which ``activate-answers-another-model`` showed it could
skip). The report derives these from the matrix, not from this table, so they go as soon as the suite names them.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["EXPECTED_CLAUSES", "KNOWN_MISSES", "SETUP_ERRORS", "UNREACHED_BY_DESIGN"]

_M = "model.schema.json#"
_REQUIRED = f"{_M}/required"
_CREATED = f"{_M}/properties/created/type"
_STATUS_ENUM = f"{_M}/$defs/deployment/properties/status/enum"
_MODEL_TYPE_ENUM = f"{_M}/properties/model_type/enum"
_GONE = "rule:deleted-model-is-gone"
# Named when schemathesis's own response_schema_conformance flags a fuzzed answer beside our clause.
_ANSWER = "rule:answer-matches-contract"
_L = "model-list.schema.json#"
_E = "error.schema.json#"
_TYPED = f"{_E}/$defs/typedError"
_MESSAGE = f"{_E}/$defs/messageError/properties/error"
_SHOWCASE_ITEM = f"{_M}/$defs/showcaseItem"
_PRICING = f"{_M}/$defs/pricing/properties"
_OPENAPI_ID = "openapi.yaml#/paths/~1api~1ai~1models~1{id}"
_DELETE_200 = f"{_OPENAPI_ID}/delete/responses/200"
_FINE_TUNE_DEPLOY = "deploy.schema.json#/$defs/fineTuneDeployAnswer"
_DEPLOYMENT = f"{_FINE_TUNE_DEPLOY}/properties/deployment/properties"
_NAMES_THE_MODEL = "rule:deploy-answer-names-the-model"

EXPECTED_CLAUSES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        # Required fields and their types, in the delete answer.
        "delete-missing-created": (_REQUIRED,),
        "delete-created-as-string": (_CREATED,),
        "delete-missing-id": (_REQUIRED,),
        "delete-id-as-integer": (f"{_M}/properties/id/type",),
        "delete-missing-object": (_REQUIRED,),
        "delete-object-as-null": (f"{_M}/properties/object/enum",),
        "delete-missing-owned-by": (_REQUIRED,),
        "delete-owned-by-as-integer": (f"{_M}/properties/owned_by/type",),
        # Enums and never-null fields, in the delete answer.
        "delete-object-not-model": (f"{_M}/properties/object/enum",),
        "delete-endpoint-out-of-enum": (f"{_M}/properties/endpoint/enum",),
        "delete-model-type-out-of-enum": (_MODEL_TYPE_ENUM,),
        "delete-deployment-status-out-of-enum": (_STATUS_ENUM,),
        "delete-pricing-method-out-of-enum": (f"{_M}/$defs/pricing/properties/method/enum",),
        "delete-display-name-null": (f"{_M}/properties/display_name/type",),
        # What the delete answer says about the request.
        "delete-custom-owned-by-oxen": ("rule:deleted-model-is-custom-and-yours",),
        "delete-created-not-as-retrieved": ("rule:delete-answers-model-as-last-retrieved",),
        "delete-id-not-requested": ("rule:delete-returns-requested-id", "rule:delete-answers-model-as-last-retrieved"),
        # The delete answer as a whole.
        "delete-answers-204": ("rule:delete-answers-the-deleted-model", _DELETE_200, "rule:documented-status"),
        "delete-answers-500": ("rule:no-server-error",),
        "delete-content-type-text-plain": ("rule:json-content-type",),
        "delete-body-not-json": ("rule:body-is-json",),
        # What delete does to the hub's state.
        "delete-does-not-delete": (_GONE,),
        "delete-twice-succeeds": (_GONE,),
        "delete-without-token-succeeds": ("rule:delete-without-token-deletes-nothing", "rule:unauthenticated-is-401"),
        "delete-base-model-allowed": ("rule:base-model-not-deletable",),
        "delete-foreign-model-allowed": ("rule:other-namespace-cannot-delete",),
        "delete-hangs": ("rule:answers-in-time",),
        # The other operations' answers.
        "list-missing-object-list": ("model-list.schema.json#/required",),
        "list-created-as-string": (_CREATED,),
        "list-base-model-with-deployments": (
            f"{_M}/$defs/baseModelHasNoDeployments/then/properties/deployments/maxItems",
        ),
        "search-missing-owned-by": (_REQUIRED,),
        "retrieve-missing-created": (_REQUIRED,),
        "retrieve-base-owned-by-not-oxen": (f"{_M}/$defs/baseModelIsOwnedByOxen/then/properties/owned_by/const",),
        "activate-deployment-status-out-of-enum": (_STATUS_ENUM,),
        "deactivate-model-type-out-of-enum": (_MODEL_TYPE_ENUM,),
        "retrieve-finds-deleted": (_GONE,),
        # Errors and auth.
        "error-404-bare-detail": ("error.schema.json#/required",),
        "not-found-detail-omits-id": ("rule:not-found-names-the-id",),
        "auth-failure-answers-403": ("rule:unauthenticated-is-401",),
        "list-ignores-auth": ("rule:unauthenticated-is-401", "openapi.yaml#/security"),
        # Nested and optional members of the model object, one operation each.
        "retrieve-nested-fields-mistyped": (
            f"{_M}/properties/capabilities/properties/input/type",
            f"{_M}/properties/capabilities/properties/output/items/type",
            f"{_M}/properties/developer/properties/name/type",
            f"{_M}/properties/developer/properties/logo/type",
            f"{_M}/properties/fine_tuning/properties/actions/type",
            f"{_M}/properties/fine_tuning/properties/cost_per_second/type",
            _ANSWER,
        ),
        "activate-fields-mistyped": (
            f"{_M}/properties/capabilities/properties/input/items/type",
            f"{_M}/properties/capabilities/properties/output/type",
            f"{_M}/properties/fine_tuning/properties/actions/items/type",
            f"{_M}/$defs/cost/type",
            f"{_M}/$defs/deployment/type",
            f"{_M}/properties/description/type",
            f"{_M}/properties/image_url/type",
            f"{_M}/properties/released_at/type",
            f"{_M}/properties/source_model/type",
            f"{_M}/properties/summary/type",
            _ANSWER,
        ),
        "deactivate-answers-a-list": (f"{_M}/type", _ANSWER),
        "delete-containers-mistyped": (
            f"{_M}/properties/capabilities/type",
            f"{_M}/properties/developer/type",
            f"{_M}/properties/fine_tuning/type",
            f"{_M}/properties/request_schema/type",
            f"{_M}/properties/deployments/type",
            f"{_PRICING}/cost_per_image_grid/type",
            f"{_PRICING}/cost_per_second_by_resolution/type",
            f"{_M}/$defs/showcase/properties/gallery/type",
            _ANSWER,
        ),
        "list-price-maps-and-showcase-mistyped": (
            f"{_PRICING}/cost_per_image_grid/additionalProperties/type",
            f"{_PRICING}/cost_per_image_grid/additionalProperties/additionalProperties/type",
            f"{_PRICING}/cost_per_second_by_resolution/additionalProperties/type",
            f"{_M}/$defs/showcase/type",
        ),
        "search-showcase-and-pricing-mistyped": (
            f"{_SHOWCASE_ITEM}/type",
            f"{_SHOWCASE_ITEM}/required",
            f"{_SHOWCASE_ITEM}/properties/src/type",
            f"{_SHOWCASE_ITEM}/properties/alt/type",
            f"{_SHOWCASE_ITEM}/properties/category/type",
            f"{_SHOWCASE_ITEM}/properties/details/type",
            f"{_SHOWCASE_ITEM}/properties/prompt/type",
            f"{_SHOWCASE_ITEM}/properties/title/type",
            f"{_M}/$defs/showcase/properties/hero_image/type",
            f"{_M}/$defs/showcase/properties/tagline/type",
            f"{_M}/$defs/pricing/type",
            _ANSWER,
        ),
        # The list and search wrappers.
        "list-answers-bare-array": (f"{_L}/type",),
        "search-answers-bare-array": (f"{_L}/$defs/searchAnswer/type",),
        "list-and-search-data-keyed-by-id": (f"{_L}/properties/object/enum", f"{_L}/properties/data/type"),
        "search-results-not-under-data": (f"{_L}/$defs/searchAnswer/required", _ANSWER),
        # Another model than the one asked for.
        "retrieve-answers-another-model": ("rule:retrieve-answers-the-requested-model",),
        "activate-answers-another-model": ("rule:activate-answers-the-model",),
        # Forbidden requests accepted (strict-only); delete's error statuses.
        # What activate and deactivate leave behind; a DELETE of an odd id; the list's filters.
        "activate-does-not-activate": ("rule:activate-activates",),
        "deactivate-does-not-deactivate": ("rule:deactivate-deactivates",),
        "activate-and-deactivate-swapped": ("rule:activate-activates", "rule:deactivate-deactivates"),
        "delete-of-odd-id-answers-500": ("rule:unknown-id-delete-is-refused", "rule:no-server-error"),
        "list-filter-ignored": ("rule:list-filter-keeps-only-matches",),
        "action-filter-keeps-not-fine-tuneable": ("rule:list-filter-keeps-only-matches",),
        # 5xx answers: on the deploy routes (the probe of a missing fine-tune, the run's own deploys), and to requests
        # no route takes (the near-miss and undocumented-method probes).
        "deploy-of-missing-fine-tune-answers-500": ("rule:no-server-error",),
        "deploy-of-missing-fine-tune-answers-400": ("rule:deploy-of-a-missing-fine-tune-is-404",),
        "deploy-answers-500": ("rule:no-server-error",),
        "near-miss-path-answers-500": ("rule:no-server-error",),
        "undocumented-method-answers-500": ("rule:no-server-error",),
        # The fine-tune deploy answer, which the suite checks before it uses the model it names.
        "deploy-answer-fields-mistyped": (f"{_DEPLOYMENT}/status/type", f"{_DEPLOYMENT}/endpoint/type"),
        "deploy-model-slug-as-integer": (f"{_DEPLOYMENT}/model_slug/type", _NAMES_THE_MODEL),
        # Schema-valid (model_slug is optional there), so only the rule can name it.
        "deploy-answer-omits-model-slug": (_NAMES_THE_MODEL,),
        "deploy-deployment-as-a-list": (f"{_FINE_TUNE_DEPLOY}/properties/deployment/type", _NAMES_THE_MODEL),
        "deploy-answers-a-list": (f"{_FINE_TUNE_DEPLOY}/type", _NAMES_THE_MODEL),
        # Bodies no strict parser reads (issue 19): nested too deep, a NaN, bytes that are not UTF-8.
        "search-body-nested-too-deep": ("rule:body-is-json",),
        "activate-body-holds-nan": ("rule:body-is-json",),
        "deactivate-body-not-utf8": ("rule:body-is-json",),
        # Strict-only: warnings by default; under --strict-contract the suite must name the rule.
        "list-filter-drops-last-match": ("rule:list-filter-is-a-subset",),
        "search-shows-other-namespaces": (
            "rule:search-is-a-subset-of-list",
            "rule:own-model-hidden-from-other-namespaces",
        ),
        "retrieve-shows-other-namespaces": ("rule:own-model-hidden-from-other-namespaces",),
        "list-shows-other-namespaces": ("rule:own-model-hidden-from-other-namespaces",),
        "pricing-method-vanishes": ("rule:documented-fields-keep-coming",),
        "own-models-hidden": ("rule:own-model-listed",),
        # Strict-only: a lenient-input warning by default; under --strict-contract the suite must name the rule.
        "invalid-query-accepted": (
            "rule:invalid-input-is-refused",
            "openapi.yaml#/paths/~1api~1ai~1models~1search/get/parameters/0/required",
            f"{_OPENAPI_ID}/get/parameters/0/schema/enum",
        ),
        "delete-error-statuses-wrong": (
            f"{_OPENAPI_ID}/delete/responses/404",
            f"{_OPENAPI_ID}/delete/responses/4XX",
            _GONE,
            "rule:base-model-not-deletable",
            "rule:other-namespace-cannot-delete",
        ),
        # Error bodies: 401, 404, other 4xx and refusals each break one clause.
        "error-bodies-off-both-shapes": (
            f"{_E}/type",
            f"{_E}/properties/error/type",
            f"{_MESSAGE}/required",
            f"{_MESSAGE}/properties/message/type",
            _ANSWER,
        ),
        "error-typed-fields-mistyped": (
            f"{_TYPED}/properties/error/properties/type/type",
            f"{_TYPED}/properties/error/properties/title/type",
            f"{_TYPED}/properties/error/properties/detail/type",
            f"{_TYPED}/properties/status_message/type",
            _ANSWER,
        ),
        "error-typed-envelope-broken": (
            f"{_TYPED}/properties/status/const",
            f"{_TYPED}/properties/error/required",
            f"{_TYPED}/required",
            _ANSWER,
        ),
    }
)

# Clause (or clause prefix) -> why no fault can make the live suite name it. See the module docstring.
UNREACHED_BY_DESIGN: MappingProxyType[str, str] = MappingProxyType(
    {
        "strict.schema.json#": "the live suite runs the default variant (strict-only rows add --strict-contract, "
        "but their hubs send no unnamed field); strict clauses are proven offline (tests/schemas)",
        "deploy.schema.json#/$defs/checkpointDeployAnswer": "the self-check deploys through the fine-tune route "
        "(--fine-tune without @STEP), so the checkpoint route's answer is never the one checked",
        f"{_L}/properties/data/items/$ref": "a violation inside a listed model names the model clause it breaks, "
        "never the $ref (list-created-as-string proves the reference is followed)",
    }
)

# Faults the suite is known to miss, or to catch only by chance, and why. The matrix lets such a row fail (a non-strict
# xfail: a run that happens to catch it passes) and the report marks it, until the suite catches it every time.
KNOWN_MISSES: MappingProxyType[str, str] = MappingProxyType({})

# Faults that may end the suite with a setup error (exit 78) and still count as caught, and why. A fault is caught when
# the suite exits 1 naming its clause; exit 78 says the run could not check the contract (a fine-tune that cannot be
# deployed, a deploy answer naming no usable model, the delete operation unchecked), which is the right verdict only
# for a fault that makes provisioning impossible *and* leaves nothing else failing; even then the output must name
# the fault's clause. A fault whose answers stop provisioning still exits 1 when the suite checks those answers before
# it uses them (a deploy answer, the list read before deploying, the retrieve that proves a model): they fail by their
# clause, and a contract failure outranks a setup error (verdict.py). The hostile deploy lures (hostile-deploy-*) end
# in 78 by design; they are judged on the audit, not here.
SETUP_ERRORS: MappingProxyType[str, str] = MappingProxyType({})

# How the suite must end against each hostile hub, and what its output must say: the failure a release manager reads.
# 1 is a broken contract (the lure broke a clause the suite checks); 78 a setup error (no usable model could be
# deployed: every deploy answered the lure). The words name the rule or the refusal that kept the run safe.
HOSTILE_ENDS: MappingProxyType[str, tuple[int, str]] = MappingProxyType(
    {
        "hostile-delete-redirect": (1, "rule:documented-status"),
        "hostile-delete-redirect-absolute": (1, "rule:documented-status"),
        "hostile-deploy-existing-slug": (78, "a model that was already listed before the deploy"),
        "hostile-deploy-base-slug": (78, "a model that was already listed before the deploy"),
        "hostile-deploy-dot-slug": (78, "is not one path segment that names a model"),
        "hostile-deploy-dotdot-slug": (78, "is not one path segment that names a model"),
        "hostile-deploy-503-after-create": (78, "which the run deletes at cleanup"),
        "hostile-drip-retrieve": (1, "rule:answers-in-time"),
        "hostile-deploy-hidden-old-slug": (78, "before the deploy was sent"),
        "hostile-deploy-502-then-colleague": (78, "answered 502"),
        "hostile-deploy-encoded-slug": (78, "holds a character outside a model slug's"),
        "hostile-deploy-409-after-create": (78, "answered 409; it made"),
        "hostile-deploy-408-after-create": (78, "answered 408; it made"),
        "hostile-deploy-429-after-create": (78, "answered 429; it made"),
        "hostile-drip-headers": (1, "rule:answers-in-time"),
        "hostile-gzip-bomb": (1, "was cut off"),
        "hostile-echo-key": (1, "rule:no-server-error"),
    }
)
