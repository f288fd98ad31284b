"""Which clause the contract suite must name for each fault of the local hub.

The hub describes each fault in words (``Fault.clause``), because the hub never reads ``contracts/``. The self-check
needs the clause *ids* of ``contracts/SOURCES.md`` (``file#/pointer`` or ``rule:...``) to tell "the suite failed, and
for the right reason" from "the suite failed somewhere". This table is that link, kept as data so that a reviewer can
read it against SOURCES.md. A fault is caught when the suite's output names any clause of its row; the first id of
each row is the clause the fault was written to break, the others are clauses it breaks as well by construction (a
204 answer is both "not the deleted model" and "an undocumented status").
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["EXPECTED_CLAUSES"]

_M = "model.schema.json#"
_REQUIRED = f"{_M}/required"
_CREATED = f"{_M}/properties/created/type"
_STATUS_ENUM = f"{_M}/$defs/deployment/properties/status/enum"
_MODEL_TYPE_ENUM = f"{_M}/properties/model_type/enum"
_GONE = "rule:deleted-model-is-gone"
_DELETE_200 = "openapi.yaml#/paths/~1api~1ai~1models~1{id}/delete/responses/200"

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
    }
)
