"""What each fault of the catalog changes in the scenario: which steps differ (``DIFFERING``) and how (``HOW``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from oxen_contract.hub import FAULTS
from oxen_contract.hub.faults.undecodable import NESTING

from ._fault_scenario import (
    ANONYMOUS,
    AUTH_ERRORS,
    BASELINE,
    CROWDED,
    CUSTOM_IDS,
    CUSTOM_RETRIEVED,
    DEPLOYS,
    ERRORS,
    EVERY_DEPLOY,
    INVALID,
    LISTS,
    MODEL_ANSWERS,
    NOT_FOUND,
    OTHER_NOT_FOUND,
    PRESEEDED,
    REDIRECTED,
    REFUSALS,
    RETRIEVED,
    SEARCHES,
    SOURCE_MODEL,
    VICTIM_PATH,
    Answer,
    Steps,
)

DIFFERING: dict[str, set[str]] = {
    **{fault.name: {"delete"} for fault in FAULTS if fault.name.startswith("delete-") and fault.model is not None},
    "delete-answers-204": {"delete"},
    "delete-answers-500": {"delete"},
    "delete-content-type-text-plain": {"delete"},
    "delete-body-not-json": {"delete"},
    "delete-does-not-delete": {"retrieve-deleted", "delete-again", "activate-deleted", "list-after"},
    "delete-twice-succeeds": {"delete-again"},
    "delete-without-token-succeeds": {"delete-anonymous", "after-anonymous", "list-after"},
    "delete-base-model-allowed": {"delete-base", "after-base", "list-after"},
    "delete-foreign-model-allowed": {"delete-foreign", "after-foreign", "list-after"},
    # Only timing changes; see test_delete_hangs_while_other_routes_answer.
    "delete-hangs": set(),
    "list-missing-object-list": LISTS,
    "list-created-as-string": LISTS,
    "list-base-model-with-deployments": LISTS,
    "search-missing-owned-by": SEARCHES,
    "retrieve-missing-created": RETRIEVED,
    "retrieve-base-owned-by-not-oxen": {"retrieve-base", "after-base"},
    "activate-deployment-status-out-of-enum": {"activate-base", "activate-custom"},
    "deactivate-model-type-out-of-enum": {"deactivate-custom"},
    "retrieve-finds-deleted": {"retrieve-deleted"},
    "error-404-bare-detail": NOT_FOUND | OTHER_NOT_FOUND,
    "not-found-detail-omits-id": NOT_FOUND,
    "auth-failure-answers-403": AUTH_ERRORS,
    "list-ignores-auth": {"list-anonymous", "list-bad-token"},
    "retrieve-nested-fields-mistyped": RETRIEVED,
    "activate-fields-mistyped": {"activate-base", "activate-custom"},
    "deactivate-answers-a-list": {"deactivate-custom"},
    "list-price-maps-and-showcase-mistyped": LISTS,
    "search-showcase-and-pricing-mistyped": SEARCHES,
    "list-answers-bare-array": LISTS,
    "search-answers-bare-array": SEARCHES,
    "list-and-search-data-keyed-by-id": LISTS | SEARCHES,
    "search-results-not-under-data": SEARCHES,
    "retrieve-answers-another-model": CUSTOM_RETRIEVED,
    "activate-answers-another-model": {"activate-custom", "deactivate-custom"},
    "invalid-query-accepted": {"search-missing", "retrieve-bad-status"},
    # The model was deactivated before, and stays so until it is deleted.
    "activate-does-not-activate": {"activate-custom", "delete"},
    "activate-and-deactivate-swapped": {"deactivate-custom", "activate-custom", "delete"},
    # Activate follows at once, and sets the status it was already at.
    "deactivate-does-not-deactivate": {"deactivate-custom"},
    # The scenario's unknown id is a plain one; see test_a_delete_of_an_odd_unknown_id_answers_500.
    "delete-of-odd-id-answers-500": set(),
    "list-filter-ignored": {"list-filtered", "list-action"},
    # Only the lists hold base models with fine-tuning actions; every other answer's models have fine_tuning null.
    "action-filter-keeps-not-fine-tuneable": LISTS - {"list-filtered"},
    "deploy-of-missing-fine-tune-answers-500": {"deploy-missing"},
    "deploy-of-missing-fine-tune-answers-400": {"deploy-missing"},
    "deploy-answers-500": EVERY_DEPLOY,
    "near-miss-path-answers-500": {"near-miss"},
    "undocumented-method-answers-500": {"method-not-allowed"},
    "deploy-answer-fields-mistyped": DEPLOYS,
    "deploy-model-slug-as-integer": DEPLOYS,
    "deploy-answer-omits-model-slug": DEPLOYS,
    "deploy-deployment-as-a-list": DEPLOYS,
    "deploy-answers-a-list": DEPLOYS,
    "search-body-nested-too-deep": SEARCHES,
    "activate-body-holds-nan": {"activate-base", "activate-custom"},
    "deactivate-body-not-utf8": {"deactivate-custom"},
    "list-filter-drops-last-match": {"list-filtered", "list-action"},
    "search-shows-other-namespaces": CROWDED,
    "retrieve-shows-other-namespaces": {"retrieve-foreign"},
    "list-shows-other-namespaces": {"list-foreign"},
    "own-models-hidden": {"list", "search", "list-after"},
    "pricing-method-vanishes": MODEL_ANSWERS,
    "delete-error-statuses-wrong": {"delete-unknown", "delete-again", "delete-base", "delete-foreign"},
    "error-bodies-off-both-shapes": ERRORS,
    "error-typed-fields-mistyped": ERRORS,
    # Refusals keep their body; retrieve of another namespace's model is a plain miss, not a refusal.
    "error-typed-envelope-broken": ERRORS - REFUSALS,
    "extra-fields": MODEL_ANSWERS,
    "optional-fields-absent": MODEL_ANSWERS,
    "nullable-fields-null": MODEL_ANSWERS,
    "nested-nullable-fields-null": MODEL_ANSWERS,
    "optional-fields-never-sent": MODEL_ANSWERS,
    "error-shape-message": ERRORS,
    "refusal-403": REFUSALS,
    # A refused change of another namespace's model already answers 404.
    "refusal-404": {"deactivate-base", "delete-base"},
    "refusal-409": REFUSALS,
    # Deploys 2, 3 and 4 get inactive, deploying, deactivating; the first stays active.
    "every-deployment-status": {
        "deploy-checkpoint",
        "list",
        "list-after",
        "search",
        "after-foreign",
        "after-anonymous",
    },
    "dotted-ids": CUSTOM_IDS,
    "reverse-order": LISTS | SEARCHES,
    "benign-crowded-namespaces": CROWDED,
    "benign-ignores-unknown-deployment-status": {"retrieve-bad-status"},
    "benign-search-without-term-lists-all": {"search-missing"},
    "hostile-delete-redirect": REDIRECTED,
    "hostile-delete-redirect-absolute": REDIRECTED,
    # Every deploy answers a model that already exists, so every step that names "the new model" names another.
    "hostile-deploy-existing-slug": CUSTOM_IDS | CROWDED,
    "hostile-deploy-base-slug": CUSTOM_IDS | CROWDED,
    # Clients drop dot segments: paths of "." and ".." reach the list or no route at all.
    "hostile-deploy-dot-slug": CUSTOM_IDS | CROWDED | {"delete-anonymous", "method-not-allowed"},
    "hostile-deploy-dotdot-slug": CUSTOM_IDS
    | CROWDED
    | {"delete-anonymous", "method-not-allowed", "retrieve-anonymous"},
    "hostile-deploy-503-after-create": CROWDED | {"deploy", "deploy-2", "deploy-3", "deploy-checkpoint"},
    # Only the pace of retrieve answers changes; see tests/hub/test_hostile.py.
    "hostile-drip-retrieve": CROWDED,
    # As the existing slug: every deploy answers last month's model, which the list no longer shows.
    "hostile-deploy-hidden-old-slug": CUSTOM_IDS | CROWDED,
    # The colleague's model takes the id the scenario's first deploy would have made (alice:sandbox/ft-1-1), ten
    # seconds later: the steps that name that id see it.
    "hostile-deploy-502-then-colleague": CROWDED
    | EVERY_DEPLOY
    | {"deploy-missing"}
    | {"retrieve-custom", "retrieve-live", "deactivate-custom", "activate-custom", "delete"}
    | {"after-foreign", "after-anonymous"},
    "hostile-deploy-encoded-slug": CUSTOM_IDS | CROWDED,
    **{f"hostile-deploy-{status}-after-create": CROWDED | EVERY_DEPLOY for status in (409, 408, 429)},
    # Only the pace of retrieve heads changes, behind the drip proxy; see tests/hub/test_hostile_answers.py.
    "hostile-drip-headers": CROWDED,
    "hostile-gzip-bomb": CROWDED | CUSTOM_RETRIEVED,
    "hostile-echo-key": set(BASELINE) - ANONYMOUS,
    # Before the key is looked at: an anonymous search is refused with 429 too (the scenario has none).
    "search-rate-limited": SEARCHES | {"search-missing"},
}


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def answer_json(answer: Answer) -> Any:
    return json.loads(answer[3])


def _models(answer: Answer) -> list[dict[str, Any]]:
    body = answer_json(answer)
    return body["data"] if "data" in body else [body["model"] if "model" in body else body]


def _all_models(steps: Steps, labels: set[str]) -> list[dict[str, Any]]:
    return [model for label in sorted(labels) for model in _models(steps[label])]


def _status(label: str, code: int) -> Callable[[Steps], bool]:
    return lambda s: s[label][0] == code


def _delete_model(check: Callable[[dict[str, Any]], bool]) -> Callable[[Steps], bool]:
    return lambda s: s["delete"][0] == 200 and check(answer_json(s["delete"]))


def _customs(answer: Answer) -> list[str]:
    return [m["id"] for m in _models(answer) if m["model_type"] == "custom"]


def _deployments(check: Callable[[dict[str, Any]], bool]) -> Callable[[Steps], bool]:
    return lambda s: all(check(answer_json(s[label])["deployment"]) for label in DEPLOYS)


def _debug(answer: Answer) -> dict[str, str]:
    debug: dict[str, str] = answer_json(answer)["debug"]
    return debug


def _failed_after_create(status: int) -> Callable[[Steps], bool]:
    """Every deploy answered ``status`` with an error body, and created its model all the same."""
    return lambda s: (
        all(s[label][0] == status and "error" in answer_json(s[label]) for label in EVERY_DEPLOY)
        and _customs(s["list"]) == [*PRESEEDED, *_customs(BASELINE["list"])]
    )


def _deploys_answer(model_id: str) -> Callable[[Steps], bool]:
    """Every deploy answered model_id, and none created a model."""
    return lambda s: (
        {answer_json(s[label])["deployment"]["model_slug"] for label in ("deploy", "deploy-2", "deploy-3")}
        == {model_id}
        and answer_json(s["deploy-checkpoint"])["model"]["id"] == model_id
        and _customs(s["list"]) == PRESEEDED
    )


HOW: dict[str, Callable[[Steps], bool]] = {
    "delete-missing-created": _delete_model(lambda m: "created" not in m),
    "delete-created-as-string": _delete_model(lambda m: isinstance(m["created"], str)),
    "delete-missing-id": _delete_model(lambda m: "id" not in m),
    "delete-id-as-integer": _delete_model(lambda m: m["id"] == 42),
    "delete-missing-object": _delete_model(lambda m: "object" not in m),
    "delete-object-as-null": _delete_model(lambda m: m["object"] is None),
    "delete-missing-owned-by": _delete_model(lambda m: "owned_by" not in m),
    "delete-owned-by-as-integer": _delete_model(lambda m: m["owned_by"] == 7),
    "delete-object-not-model": _delete_model(lambda m: m["object"] == "custom_model"),
    "delete-endpoint-out-of-enum": _delete_model(lambda m: m["endpoint"] == "/audio/speech"),
    "delete-model-type-out-of-enum": _delete_model(lambda m: m["model_type"] == "fine_tuned"),
    "delete-deployment-status-out-of-enum": _delete_model(lambda m: m["deployments"] == [{"status": "running"}]),
    "delete-pricing-method-out-of-enum": _delete_model(lambda m: m["pricing"]["method"] == "per_request"),
    "delete-display-name-null": _delete_model(lambda m: m["display_name"] is None),
    "delete-custom-owned-by-oxen": _delete_model(lambda m: m["owned_by"] == "oxen"),
    "delete-id-not-requested": _delete_model(lambda m: m["id"] == "meta-llama/llama-3.1-8b-instruct"),
    "delete-created-not-as-retrieved": lambda s: (
        answer_json(s["delete"])["created"] == answer_json(BASELINE["delete"])["created"] + 1
    ),
    "delete-answers-204": lambda s: s["delete"][0] == 204 and s["delete"][3] == b"",
    "delete-answers-500": lambda s: (
        s["delete"][0] == 500 and answer_json(s["delete"])["error"]["type"] == "unknown_error"
    ),
    "delete-content-type-text-plain": lambda s: s["delete"][1] == "text/plain; charset=utf-8",
    "delete-body-not-json": lambda s: (
        s["delete"][1] == "application/json" and s["delete"][3].startswith(b"Deleted model ")
    ),
    "delete-does-not-delete": lambda s: s["delete"][0] == s["retrieve-deleted"][0] == s["delete-again"][0] == 200,
    "delete-twice-succeeds": lambda s: s["delete-again"][0] == 200 and s["retrieve-deleted"][0] == 404,
    "delete-without-token-succeeds": lambda s: s["delete-anonymous"][0] == 200 and s["after-anonymous"][0] == 404,
    "delete-base-model-allowed": lambda s: s["delete-base"][0] == 200 and s["after-base"][0] == 404,
    "delete-foreign-model-allowed": lambda s: s["delete-foreign"][0] == 200 and s["after-foreign"][0] == 404,
    "delete-hangs": lambda s: True,
    "list-missing-object-list": lambda s: all("object" not in answer_json(s[label]) for label in LISTS),
    "list-created-as-string": lambda s: all(isinstance(m["created"], str) for m in _all_models(s, LISTS)),
    "list-base-model-with-deployments": lambda s: all(
        m["deployments"] for m in _all_models(s, LISTS) if m["model_type"] == "base"
    ),
    "search-missing-owned-by": lambda s: all("owned_by" not in m for m in _all_models(s, SEARCHES)),
    "retrieve-missing-created": lambda s: all("created" not in m for m in _all_models(s, RETRIEVED)),
    "retrieve-base-owned-by-not-oxen": lambda s: answer_json(s["retrieve-base"])["owned_by"] == "vendor",
    "activate-deployment-status-out-of-enum": lambda s: (
        answer_json(s["activate-custom"])["deployments"] == [{"status": "running"}]
    ),
    "deactivate-model-type-out-of-enum": lambda s: answer_json(s["deactivate-custom"])["model_type"] == "deployment",
    "retrieve-finds-deleted": lambda s: s["retrieve-deleted"][0] == 200 and s["delete-again"][0] == 404,
    "error-404-bare-detail": lambda s: all(set(answer_json(s[label])) == {"detail"} for label in NOT_FOUND),
    "not-found-detail-omits-id": lambda s: all(
        answer_json(s[label])["error"]["detail"] == "Model not found" for label in NOT_FOUND
    ),
    "auth-failure-answers-403": lambda s: all(s[label][0] == 403 for label in AUTH_ERRORS),
    "list-ignores-auth": lambda s: s["list-anonymous"][0] == s["list-bad-token"][0] == 200,
    "retrieve-nested-fields-mistyped": lambda s: all(
        m["capabilities"] == {"input": "text", "output": [1]} and m["developer"]["name"] == 7
        for m in _all_models(s, RETRIEVED)
    ),
    "activate-fields-mistyped": lambda s: (
        answer_json(s["activate-custom"])["deployments"] == ["active"]
        and answer_json(s["activate-custom"])["description"] == 42
        and answer_json(s["activate-base"])["deployments"] == []
    ),
    "deactivate-answers-a-list": lambda s: (
        [m["id"] for m in answer_json(s["deactivate-custom"])] == [answer_json(s["deploy"])["deployment"]["model_slug"]]
    ),
    "delete-containers-mistyped": _delete_model(
        lambda m: m["capabilities"] == [] and m["deployments"] == {"status": "active"}
    ),
    "list-price-maps-and-showcase-mistyped": lambda s: all(
        m["showcase"] == "hero.png" and m["pricing"]["cost_per_second_by_resolution"] == {"480p": "0.096"}
        for m in _all_models(s, LISTS)
    ),
    "search-showcase-and-pricing-mistyped": lambda s: (
        bool(_all_models(s, SEARCHES))
        and all(m["pricing"] == "token" and m["showcase"]["hero_image"] == 1 for m in _all_models(s, SEARCHES))
    ),
    "list-answers-bare-array": lambda s: all(answer_json(s[label]) == _models(BASELINE[label]) for label in LISTS),
    "search-answers-bare-array": lambda s: all(answer_json(s[label]) == _models(BASELINE[label]) for label in SEARCHES),
    "list-and-search-data-keyed-by-id": lambda s: all(
        answer_json(s[label]) == {"object": "dict", "data": {m["id"]: m for m in _models(BASELINE[label])}}
        for label in LISTS | SEARCHES
    ),
    "search-results-not-under-data": lambda s: all(
        answer_json(s[label]) == {"object": "list", "results": _models(BASELINE[label])} for label in SEARCHES
    ),
    "retrieve-answers-another-model": lambda s: all(
        answer_json(s[label])["id"] == SOURCE_MODEL for label in CUSTOM_RETRIEVED
    ),
    "activate-answers-another-model": lambda s: (
        answer_json(s["activate-custom"])["id"] == answer_json(s["deactivate-custom"])["id"] == SOURCE_MODEL
    ),
    "invalid-query-accepted": lambda s: (
        answer_json(s["search-missing"]) == answer_json(BASELINE["list"])
        and answer_json(s["retrieve-bad-status"]) == answer_json(BASELINE["retrieve-base"])
    ),
    "delete-error-statuses-wrong": lambda s: all(
        s[label][0] == code and s[label][3] == BASELINE[label][3]
        for label, code in {
            "delete-unknown": 400,
            "delete-again": 400,
            "delete-base": 200,
            "delete-foreign": 200,
        }.items()
    ),
    "error-bodies-off-both-shapes": lambda s: (
        all(isinstance(answer_json(s[label]), str) for label in AUTH_ERRORS)
        and all(isinstance(answer_json(s[label])["error"], str) for label in NOT_FOUND - REFUSALS)
        and all(set(answer_json(s[label])["error"]) == {"reason"} for label in INVALID)
        and all(isinstance(answer_json(s[label])["error"]["message"], list) for label in REFUSALS)
    ),
    "error-typed-fields-mistyped": lambda s: (
        all(answer_json(s[label])["error"]["type"] == 401 for label in AUTH_ERRORS)
        and all(answer_json(s[label])["error"]["title"] is None for label in NOT_FOUND - REFUSALS)
        and all(isinstance(answer_json(s[label])["error"]["detail"], list) for label in INVALID)
        and all(answer_json(s[label])["status_message"] == s[label][0] for label in REFUSALS)
    ),
    "error-typed-envelope-broken": lambda s: (
        all(answer_json(s[label])["status"] == "failed" for label in AUTH_ERRORS)
        and all("title" not in answer_json(s[label])["error"] for label in NOT_FOUND - REFUSALS)
        and all(set(answer_json(s[label])) == {"error", "status"} for label in INVALID)
    ),
    "extra-fields": lambda s: all({"x_hub_rank", "tags"} <= set(m) for m in _all_models(s, MODEL_ANSWERS)),
    "optional-fields-absent": lambda s: all(
        set(m) == {"id", "object", "created", "owned_by"} for m in _all_models(s, MODEL_ANSWERS)
    ),
    "nullable-fields-null": lambda s: all(
        m["description"] is None and m["developer"] is None and m["pricing"]["cost_per_second"] is None
        for m in _all_models(s, MODEL_ANSWERS)
    ),
    "nested-nullable-fields-null": lambda s: all(
        m["developer"]["logo"] is None and m["pricing"]["input_cost_per_token"] is None
        for m in _all_models(s, MODEL_ANSWERS)
    ),
    "optional-fields-never-sent": lambda s: all(
        "showcase" not in m
        and m["description"] is None
        and not {"cost_per_image_grid", "cost_per_second_by_resolution"} & set(m["pricing"])
        and m["display_name"]
        for m in _all_models(s, MODEL_ANSWERS)
    ),
    "error-shape-message": lambda s: all(set(answer_json(s[label])["error"]) == {"message"} for label in ERRORS),
    "refusal-403": lambda s: all(s[label][0] == 403 for label in REFUSALS),
    "refusal-404": lambda s: all(s[label][0] == 404 for label in REFUSALS),
    "refusal-409": lambda s: all(s[label][0] == 409 for label in REFUSALS),
    "every-deployment-status": lambda s: (
        [m["deployments"][0]["status"] for m in _models(s["list-after"]) if m["model_type"] == "custom"]
        == ["inactive", "deploying", "deactivating"]
    ),
    "dotted-ids": lambda s: answer_json(s["deploy"])["deployment"]["model_slug"] == "alice:sandbox.ft-1.v1",
    "reverse-order": lambda s: _models(s["list"]) == _models(BASELINE["list"])[::-1],
    "benign-crowded-namespaces": lambda s: _customs(s["list"]) == [*PRESEEDED, *_customs(BASELINE["list"])],
    # The status is ignored: the answer is the model, as without it.
    "benign-ignores-unknown-deployment-status": lambda s: s["retrieve-bad-status"] == s["retrieve-base"],
    # The list wrapper, with every model the list shows.
    "benign-search-without-term-lists-all": lambda s: s["search-missing"] == s["list"],
    "hostile-delete-redirect": lambda s: (
        s["delete"][:2] == (307, None) and s["delete"][3:] == (b"", VICTIM_PATH) and s["retrieve-deleted"][0] == 200
    ),
    "hostile-delete-redirect-absolute": lambda s: (
        s["delete"][0] == 307 and s["delete"][4] == f"http://hub.test{VICTIM_PATH}" and s["delete-again"][0] == 307
    ),
    "activate-does-not-activate": lambda s: (
        answer_json(s["activate-custom"])["deployments"] == [{"status": "inactive"}]
    ),
    "activate-and-deactivate-swapped": lambda s: (
        answer_json(s["deactivate-custom"])["deployments"] == [{"status": "active"}]
        and answer_json(s["activate-custom"])["deployments"] == [{"status": "inactive"}]
    ),
    "deactivate-does-not-deactivate": lambda s: (
        answer_json(s["deactivate-custom"])["deployments"] == [{"status": "active"}]
    ),
    "delete-of-odd-id-answers-500": lambda s: True,
    "list-filter-ignored": lambda s: s["list-filtered"] == s["list"],
    "action-filter-keeps-not-fine-tuneable": lambda s: (
        all(m["fine_tuning"] is None for m in _all_models(s, LISTS))
        and [m["id"] for m in _models(s["list-action"])] == [m["id"] for m in _models(BASELINE["list-action"])]
        and bool(_models(s["list-action"]))
    ),
    "deploy-of-missing-fine-tune-answers-500": lambda s: (
        s["deploy-missing"][0] == 500 and answer_json(s["deploy-missing"])["error"]["type"] == "unknown_error"
    ),
    "deploy-of-missing-fine-tune-answers-400": lambda s: (
        s["deploy-missing"][0] == 400 and answer_json(s["deploy-missing"])["error"]["type"] == "bad_request"
    ),
    "deploy-answers-500": lambda s: (
        all(s[label][0] == 500 for label in EVERY_DEPLOY) and _customs(s["list"]) == _customs(BASELINE["list"])
    ),
    "near-miss-path-answers-500": lambda s: s["near-miss"][0] == 500,
    "undocumented-method-answers-500": lambda s: (
        s["method-not-allowed"][0] == 500 and s["method-not-allowed"][2] == BASELINE["method-not-allowed"][2]
    ),
    "deploy-answer-fields-mistyped": _deployments(lambda d: (d["status"], d["endpoint"]) == (1, 1)),
    "deploy-model-slug-as-integer": _deployments(lambda d: d["model_slug"] == 42),
    "deploy-answer-omits-model-slug": _deployments(lambda d: "model_slug" not in d and d["status"] == "deploying"),
    "deploy-deployment-as-a-list": lambda s: all(
        isinstance(answer_json(s[label])["deployment"], list) for label in DEPLOYS
    ),
    "deploy-answers-a-list": lambda s: all(isinstance(answer_json(s[label]), list) for label in DEPLOYS),
    "search-body-nested-too-deep": lambda s: all(
        b'"facets":' + b"[" * NESTING + b"]" * NESTING in s[label][3] for label in SEARCHES
    ),
    "activate-body-holds-nan": lambda s: all(
        b'"cost_per_second":NaN' in s[label][3] and s[label][1] == "application/json"
        for label in ("activate-base", "activate-custom")
    ),
    "deactivate-body-not-utf8": lambda s: (
        b'"description":"Mod\xe8le"' in s["deactivate-custom"][3] and not _is_utf8(s["deactivate-custom"][3])
    ),
    "list-filter-drops-last-match": lambda s: _models(s["list-filtered"]) == _models(BASELINE["list-filtered"])[:-1],
    "search-shows-other-namespaces": lambda s: (
        set(_customs(s["search"]))
        == {*PRESEEDED, *_customs(BASELINE["search"]), "bob:sandbox/ft-1-prod", "bob:sandbox/ft-1-old"}
    ),
    "retrieve-shows-other-namespaces": lambda s: s["retrieve-foreign"] == s["retrieve-custom"],
    "list-shows-other-namespaces": lambda s: _customs(s["list-foreign"]) == _customs(s["list"]),
    "own-models-hidden": lambda s: _customs(s["list"]) == _customs(s["search"]) == _customs(s["list-after"]) == [],
    "pricing-method-vanishes": lambda s: all(
        "method" not in m["pricing"] for m in _all_models(s, MODEL_ANSWERS - {"delete"}) if m.get("pricing")
    ),
    "hostile-deploy-existing-slug": _deploys_answer("alice:sandbox/ft-1-old"),
    "hostile-deploy-base-slug": _deploys_answer(SOURCE_MODEL),
    "hostile-deploy-dot-slug": _deploys_answer("."),
    "hostile-deploy-dotdot-slug": _deploys_answer(".."),
    "hostile-deploy-503-after-create": lambda s: (
        all(s[label][0] == 503 for label in ("deploy", "deploy-2", "deploy-3", "deploy-checkpoint"))
        and answer_json(s["deploy"])["error"]["detail"] == "upstream timed out"
        and _customs(s["list"]) == [*PRESEEDED, *_customs(BASELINE["list"])]
    ),
    "hostile-drip-retrieve": lambda s: all(s[label] == BASELINE[label] for label in RETRIEVED),
    "hostile-deploy-hidden-old-slug": lambda s: (
        {answer_json(s[label])["deployment"]["model_slug"] for label in DEPLOYS} == {PRESEEDED[1]}
        and answer_json(s["deploy-checkpoint"])["model"]["id"] == PRESEEDED[1]
        and _customs(s["list"]) == _customs(s["search"]) == PRESEEDED[:1]
        and answer_json(s["retrieve-custom"])["deployments"] == [{"status": "inactive"}]
    ),
    "hostile-deploy-502-then-colleague": lambda s: (
        all(s[label][:2] == (502, "text/html; charset=utf-8") for label in EVERY_DEPLOY)
        and _customs(s["list"]) == _customs(s["search"]) == PRESEEDED
        and answer_json(s["retrieve-custom"])["created"] == answer_json(BASELINE["retrieve-custom"])["created"] + 10
    ),
    "hostile-deploy-encoded-slug": lambda s: (
        answer_json(s["deploy"])["deployment"]["model_slug"] == "alice%3Asandbox%2Fft-1-prod"
        and answer_json(s["retrieve-custom"])["id"] == "alice%3Asandbox%2Fft-1-prod"
        and answer_json(s["retrieve-custom"])["created"] < answer_json(BASELINE["retrieve-custom"])["created"]
        and _customs(s["list-after"]) == PRESEEDED[1:]
    ),
    **{f"hostile-deploy-{status}-after-create": _failed_after_create(status) for status in (409, 408, 429)},
    "hostile-drip-headers": lambda s: all(s[label] == BASELINE[label] for label in RETRIEVED),
    "hostile-gzip-bomb": lambda s: all(s[label][3] == b" " * 2**16 + BASELINE[label][3] for label in CUSTOM_RETRIEVED),
    "hostile-echo-key": lambda s: (
        all(_debug(s[label])["authorization"].startswith("Bearer ") for label in set(BASELINE) - ANONYMOUS)
        and all(s[label][0] == 500 for label in ("search", "search-base", "search-missing"))
        and all("debug" in m for m in _all_models(s, LISTS))
    ),
    "search-rate-limited": lambda s: all(
        s[label][0] == 429 and answer_json(s[label])["error"]["type"] == "unknown_error"
        for label in ("search", "search-base", "search-missing")
    ),
}
