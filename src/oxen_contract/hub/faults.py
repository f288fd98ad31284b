"""The catalog of injectable faults and benign variants (``--fault NAME``, ``--list-faults``).

A contract suite is only worth what it catches: each fault breaks one documented rule in one place, so that the
self-check can prove the suite notices, and each benign variant bends the answers in a way the documentation allows,
so that it can prove the suite raises no false alarm. A strict-only fault breaks a rule that no source states as a
must (a hub that accepts a request the documentation does not allow, or shows one namespace's model to another, is
lenient, not broken): the suite only warns about it by default, and must fail on it under ``--strict-contract``. A
hostile fault lures the suite into harm (following a redirect onto a model it did not make, retrying a deploy,
waiting forever): the suite must end with a verdict and the hub's audit must show no harm done. Every entry is a
small frozen record; adding one is a few lines in ``FAULTS``. An entry can bend, for the operations it names:

- ``model``: every model object in a successful answer;
- ``reply``: the whole successful answer (status, body, content type);
- ``error_info`` / ``error_body``: error answers, before and after they are rendered;
- ``switches``: behaviour the app checks by name (deleting what must stay, ignoring auth, hanging...).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from .records import ApiError, JsonObject, render

OPERATIONS = ("list", "search", "retrieve", "activate", "deactivate", "delete", "deploy", "deploy_checkpoint", "route")
_ALL = frozenset(OPERATIONS)


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer on its way out: a JSON payload, or raw bytes when a fault wants a body that is not JSON."""

    status: int
    payload: object = None
    raw: bytes | None = None
    media_type: str | None = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    # Seconds between the bytes of the body; 0 sends it at once.
    drip: float = 0.0

    @property
    def body(self) -> bytes:
        return self.raw if self.raw is not None else render(self.payload)


class Switch(enum.Enum):
    KEEP_DELETED = "the delete answers 200 but keeps the model"
    DELETE_TWICE = "a deleted model can be deleted again"
    DELETE_WITHOUT_TOKEN = "a delete without a token is carried out"
    DELETE_BASE = "base models can be deleted"
    DELETE_FOREIGN = "another namespace's models can be deleted"
    HANG_DELETE = "the delete sleeps --hang-seconds before answering"
    LIST_WITHOUT_AUTH = "the list ignores credentials"
    RETRIEVE_DELETED = "retrieve still finds deleted models"
    REVERSE_ORDER = "list and search answer in reverse order"
    CYCLE_STATUS = "deploys cycle through every deployment status"
    DOTTED_IDS = "custom ids use dots instead of a slash"
    SEARCH_WITHOUT_TERM = "search without a term answers every model"
    ANY_DEPLOYMENT_STATUS = "retrieve ignores deployment_status"
    CROWDED = "each namespace already holds two custom models deployed last month, NS:sandbox/ft-1-prod and -old"
    REDIRECT_DELETE = "a delete of one's own custom model answers 307 to one's -prod model and deletes nothing"
    REDIRECT_DELETE_ABSOLUTE = (
        "a delete of one's own custom model answers 307 to the absolute URL of one's -prod model and deletes nothing"
    )
    DEPLOY_EXISTING = "deploys create nothing and answer one's -old model"
    DEPLOY_BASE = "deploys create nothing and answer the fine-tune's base model"
    DEPLOY_DOT = "deploys create nothing and answer the id '.'"
    DEPLOY_DOTDOT = "deploys create nothing and answer the id '..'"
    DEPLOY_503 = "deploys create the model, then answer 503 upstream timed out"
    DRIP_RETRIEVE = "a retrieve answer is sent one byte every --drip-seconds"
    ACTIVATE_NOOP = "activate answers the model but leaves its deployments as they were"
    DEACTIVATE_NOOP = "deactivate answers the model but leaves its deployments as they were"
    LIST_IGNORES_FILTERS = "the list ignores developer_name, action and provider_name"
    FILTER_DROPS_LAST = "a filtered list leaves out its last match"
    SEARCH_EVERY_NAMESPACE = "search answers every namespace's custom models"
    RETRIEVE_EVERY_NAMESPACE = "retrieve answers another namespace's custom models"
    LIST_EVERY_NAMESPACE = "the list answers every namespace's custom models"


ModelBend = Callable[[JsonObject], JsonObject]
ReplyBend = Callable[[Reply], Reply]
ErrorInfoBend = Callable[[ApiError], ApiError]
ErrorBodyBend = Callable[[ApiError], object]


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    # The documented rule the fault breaks (for a benign variant: what it varies, still within the rules).
    clause: str
    # What the hub does differently, in a few words.
    effect: str
    benign: bool = False
    # A lure rather than a broken rule: a run is judged by what it did (see the audit), not by its verdict.
    hostile: bool = False
    # A rule no source states as a must: a warning by default, a failure only under --strict-contract.
    strict_only: bool = False
    ops: frozenset[str] = _ALL
    model: ModelBend | None = None
    reply: ReplyBend | None = None
    error_info: ErrorInfoBend | None = None
    error_body: ErrorBodyBend | None = None
    switches: frozenset[Switch] = frozenset()

    def __post_init__(self) -> None:
        if self.benign + self.hostile + self.strict_only > 1:
            raise ValueError(f"{self.name}: a fault is at most one of benign, hostile and strict-only")

    @property
    def kind(self) -> str:
        """What a suite run against it must do.

        "fault": catch it; "benign": pass; "strict-only": pass by default (with a warning) and catch it under
        --strict-contract; "hostile": end with a verdict in time, unharmed. Against a hostile hub the run is judged
        by what the audit shows it did, not by which verdict it reached.
        """
        if self.benign:
            return "benign"
        if self.hostile:
            return "hostile"
        return "strict-only" if self.strict_only else "fault"

    def line(self) -> str:
        """The fault's line in --list-faults."""
        text = self.clause if self.kind == "fault" else f"{self.kind}: {self.clause}"
        return f"{self.name:<40} {text} ({self.effect})"


def _drop(key: str) -> ModelBend:
    def bend(model: JsonObject) -> JsonObject:
        return {k: v for k, v in model.items() if k != key}

    return bend


def _set(key: str, value: object) -> ModelBend:
    def bend(model: JsonObject) -> JsonObject:
        return {**model, key: value}

    return bend


def _pricing_method(value: str) -> ModelBend:
    def bend(model: JsonObject) -> JsonObject:
        return {**model, "pricing": {**model["pricing"], "method": value}}

    return bend


def _without_pricing_method(model: JsonObject) -> JsonObject:
    pricing = model.get("pricing")
    if not isinstance(pricing, dict):
        return model
    return {**model, "pricing": {k: v for k, v in pricing.items() if k != "method"}}


def _only_base(bend: ModelBend) -> ModelBend:
    def bent(model: JsonObject) -> JsonObject:
        return bend(model) if model.get("model_type") == "base" else model

    return bent


def _other_id(model: JsonObject) -> JsonObject:
    # A plausible slip: answering with the base model's id instead of the deleted one.
    return {**model, "id": model.get("source_model") or f"{model['id']}-other"}


def _status(code: int) -> ReplyBend:
    def bend(reply: Reply) -> Reply:
        if code == 500:
            error = ApiError(500, "unknown_error", "Internal error while deleting the model")
            return replace(reply, status=500, payload=error.to_json())
        return replace(reply, status=code, payload=None, raw=b"", media_type=None)

    return bend


def _text_plain(reply: Reply) -> Reply:
    return replace(reply, media_type="text/plain")


def _not_json(reply: Reply) -> Reply:
    model_id = reply.payload.get("id") if isinstance(reply.payload, dict) else None
    return replace(reply, raw=f"Deleted model {model_id}".encode())


def _drop_list_object(reply: Reply) -> Reply:
    payload = reply.payload
    if isinstance(payload, dict):
        payload = {k: v for k, v in payload.items() if k != "object"}
    return replace(reply, payload=payload)


def _bare_detail(error: ApiError) -> object:
    return {"detail": error.detail} if error.status == 404 else error.to_json()


def _omit_id(error: ApiError) -> ApiError:
    if error.detail.startswith("Model not found: "):
        return replace(error, detail="Model not found")
    return error


def _auth_403(error: ApiError) -> ApiError:
    return replace(error, status=403) if error.type == "unauthenticated" else error


def _only_custom(bend: ModelBend) -> ModelBend:
    def bent(model: JsonObject) -> JsonObject:
        return bend(model) if model.get("model_type") == "custom" else model

    return bent


# Model objects with mistyped members. Each bend breaks sibling clauses at once, and sets its fields whatever the
# model held, so that base and custom models (which leave developer, fine_tuning and showcase null) break alike.


def _nested_mistyped(model: JsonObject) -> JsonObject:
    return {
        **model,
        "capabilities": {"input": "text", "output": [1]},
        "developer": {"name": 7, "logo": 7},
        "fine_tuning": {"actions": "text_generation", "cost_per_second": "0.01"},
    }


def _fields_mistyped(model: JsonObject) -> JsonObject:
    return {
        **model,
        "capabilities": {"input": [1], "output": "text"},
        "fine_tuning": {"actions": [1], "cost_per_second": 0.01},
        "pricing": {**model["pricing"], "cost_per_second": "0.01"},
        "deployments": [deployment["status"] for deployment in model["deployments"]],
        "description": 42,
        "image_url": 42,
        "released_at": 1767225600,
        "source_model": {"id": model.get("source_model")},
        "summary": False,
    }


def _containers_mistyped(model: JsonObject) -> JsonObject:
    pricing = {**model["pricing"], "cost_per_image_grid": "high:4K=1.47", "cost_per_second_by_resolution": "0.096/s"}
    return {
        **model,
        "capabilities": [],
        "developer": "",
        "fine_tuning": False,
        "request_schema": "{}",
        "deployments": {"status": "active"},
        "pricing": pricing,
        "showcase": {"gallery": "hero.png", "hero_image": None, "tagline": None},
    }


def _price_maps_mistyped(model: JsonObject) -> JsonObject:
    pricing = {
        **model["pricing"],
        "cost_per_image_grid": {"high": "1.47", "low": {"4K": "cheap"}},
        "cost_per_second_by_resolution": {"480p": "0.096"},
    }
    return {**model, "pricing": pricing, "showcase": "hero.png"}


_BAD_GALLERY = [
    "hero.png",
    {"alt": "a cat"},
    {"src": 1, "alt": 2, "category": 3, "details": 4, "prompt": 5, "title": 6},
]


def _showcase_mistyped(model: JsonObject) -> JsonObject:
    return {**model, "showcase": {"gallery": _BAD_GALLERY, "hero_image": 1, "tagline": 2}, "pricing": "token"}


# Whole answers of list and search.


def _listing_bend(bend: Callable[[list[object]], object]) -> ReplyBend:
    def bent(reply: Reply) -> Reply:
        payload = reply.payload
        if isinstance(payload, dict) and isinstance(payload.get("data"), list):
            payload = bend(payload["data"])
        return replace(reply, payload=payload)

    return bent


def _in_a_list(reply: Reply) -> Reply:
    return replace(reply, payload=[reply.payload])


def _keyed_by_id(data: list[object]) -> object:
    return {"object": "dict", "data": {m["id"]: m for m in data if isinstance(m, dict)}}


_DROP = object()

# Error bodies: one bend per kind of error; refusals (a model that exists, but the caller may not change it) first.


def _error_kinds(
    unauthenticated: ErrorBodyBend | None = None,
    not_found: ErrorBodyBend | None = None,
    invalid: ErrorBodyBend | None = None,
    refused: ErrorBodyBend | None = None,
) -> ErrorBodyBend:
    def bend(error: ApiError) -> object:
        if error.refusal:
            chosen = refused
        else:
            chosen = {"unauthenticated": unauthenticated, "resource_not_found": not_found}.get(error.type, invalid)
        return error.to_json() if chosen is None else chosen(error)

    return bend


def _typed_error(error: ApiError, **changes: object) -> JsonObject:
    """Error shape 1 with members of its ``error`` object changed; a change to ``_DROP`` removes the member."""
    body = error.to_json()
    inner = {**body["error"], **changes}
    return {**body, "error": {k: v for k, v in inner.items() if v is not _DROP}}


# An id a plain slug parser would accept: odd ids (spaces, unicode, reserved characters, NUL) are not.
_PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")


def _odd_id_crashes(error: ApiError) -> ApiError:
    if error.type != "resource_not_found" or error.refusal or error.model_id is None:
        return error
    if _PLAIN_ID.match(error.model_id):
        return error
    return ApiError(500, "unknown_error", "Internal error while looking up the model")


# Deploy answers ({"deployment": {"model_slug", "status", "endpoint"}}).


def _deployment_bend(bend: Callable[[JsonObject], object]) -> ReplyBend:
    def bent(reply: Reply) -> Reply:
        payload = reply.payload
        if isinstance(payload, dict) and isinstance(payload.get("deployment"), dict):
            payload = {**payload, "deployment": bend(payload["deployment"])}
        return replace(reply, payload=payload)

    return bent


def _delete_error_statuses(error: ApiError) -> ApiError:
    if error.refusal:
        return replace(error, status=200)
    return replace(error, status=400) if error.status == 404 else error


# Benign variants ----------------------------------------------------------------------------------------------------

_REQUIRED = ("id", "object", "created", "owned_by")
_NULLABLE = (
    "description",
    "developer",
    "fine_tuning",
    "image_url",
    "released_at",
    "request_schema",
    "showcase",
    "source_model",
    "summary",
)
_COST_FIELDS = (
    "input_cost_per_token",
    "output_cost_per_token",
    "cost_per_second",
    "cost_per_image",
    "cost_per_second_high_res",
    "cost_per_second_with_audio",
    "cost_per_image_grid",
    "cost_per_second_by_resolution",
)


def _extra_fields(model: JsonObject) -> JsonObject:
    return {**model, "x_hub_rank": 7, "tags": ["local", "reference"], "license": {"name": "custom"}}


def _required_only(model: JsonObject) -> JsonObject:
    return {k: v for k, v in model.items() if k in _REQUIRED}


def _null_costs(model: JsonObject) -> JsonObject:
    pricing = model.get("pricing")
    if isinstance(pricing, dict):
        model = {**model, "pricing": {**pricing, **dict.fromkeys(_COST_FIELDS)}}
    return model


def _all_nullables_null(model: JsonObject) -> JsonObject:
    return _null_costs({**model, **dict.fromkeys(_NULLABLE)})


def _nested_nullables_null(model: JsonObject) -> JsonObject:
    # The nullable fields inside objects, which a null parent would hide.
    out = _null_costs(model)
    out["developer"] = {"name": (model.get("developer") or {}).get("name", "oxen"), "logo": None}
    if isinstance(out.get("showcase"), dict):
        gallery = [
            {**item, "category": None, "details": None, "prompt": None, "title": None}
            for item in out["showcase"]["gallery"]
        ]
        out["showcase"] = {"gallery": gallery, "hero_image": None, "tagline": None}
    return out


def _message_shape(error: ApiError) -> object:
    return {"error": {"message": error.detail}}


def _refusal(code: int) -> ErrorInfoBend:
    def bend(error: ApiError) -> ApiError:
        if not error.refusal:
            return error
        if code == 404:
            return replace(error, status=404, type="resource_not_found", detail=f"Model not found: {error.model_id}")
        return replace(error, status=code)

    return bend


_DELETE = frozenset({"delete"})
_MODEL_ANSWERS = frozenset({"list", "search", "retrieve", "activate", "deactivate", "delete", "deploy_checkpoint"})
_EXCEPT_DELETE = _MODEL_ANSWERS - _DELETE


def _delete_model(name: str, clause: str, effect: str, bend: ModelBend) -> Fault:
    return Fault(name, clause, effect, ops=_DELETE, model=bend)


def _switch(
    name: str,
    clause: str,
    switch: Switch,
    ops: Iterable[str] = _DELETE,
    benign: bool = False,
    strict_only: bool = False,
) -> Fault:
    switches = frozenset({switch})
    return Fault(
        name, clause, switch.value, benign=benign, strict_only=strict_only, ops=frozenset(ops), switches=switches
    )


_DEPLOYS = frozenset({"deploy", "deploy_checkpoint"})


def _hostile(name: str, clause: str, switch: Switch, ops: frozenset[str]) -> Fault:
    # Every lure needs victims: models the suite did not make, already in the caller's namespace.
    switches = frozenset({switch, Switch.CROWDED})
    return Fault(name, clause, switch.value, hostile=True, ops=ops, switches=switches)


FAULTS: tuple[Fault, ...] = (
    # Required fields of the model object, in the delete answer.
    _delete_model(
        "delete-missing-created", "model.created is required", "the delete answer omits created", _drop("created")
    ),
    _delete_model(
        "delete-created-as-string",
        "model.created is a required integer",
        "the delete answer sends created as a string",
        lambda m: {**m, "created": str(m["created"])},
    ),
    _delete_model("delete-missing-id", "model.id is required", "the delete answer omits id", _drop("id")),
    _delete_model(
        "delete-id-as-integer", "model.id is a required string", "the delete answer sends id as 42", _set("id", 42)
    ),
    _delete_model(
        "delete-missing-object", "model.object is required", "the delete answer omits object", _drop("object")
    ),
    _delete_model(
        "delete-object-as-null",
        "model.object is a required string",
        "the delete answer sends object null",
        _set("object", None),
    ),
    _delete_model(
        "delete-missing-owned-by", "model.owned_by is required", "the delete answer omits owned_by", _drop("owned_by")
    ),
    _delete_model(
        "delete-owned-by-as-integer",
        "model.owned_by is a required string",
        "the delete answer sends owned_by as 7",
        _set("owned_by", 7),
    ),
    # Enums, in the delete answer.
    _delete_model(
        "delete-object-not-model",
        "model.object is the enum [model]",
        'the delete answer says object "custom_model"',
        _set("object", "custom_model"),
    ),
    _delete_model(
        "delete-endpoint-out-of-enum",
        "model.endpoint is one of the three documented endpoints",
        'the delete answer says endpoint "/audio/speech"',
        _set("endpoint", "/audio/speech"),
    ),
    _delete_model(
        "delete-model-type-out-of-enum",
        "model.model_type is base or custom",
        'the delete answer says model_type "fine_tuned"',
        _set("model_type", "fine_tuned"),
    ),
    _delete_model(
        "delete-deployment-status-out-of-enum",
        "model.deployments[].status is one of the six documented values",
        'the delete answer says deployment status "running"',
        _set("deployments", [{"status": "running"}]),
    ),
    _delete_model(
        "delete-pricing-method-out-of-enum",
        "model.pricing.method is one of the four documented methods",
        'the delete answer says pricing method "per_request"',
        _pricing_method("per_request"),
    ),
    _delete_model(
        "delete-display-name-null",
        "model.display_name is a string, never null",
        "the delete answer sends display_name null",
        _set("display_name", None),
    ),
    _delete_model(
        "delete-custom-owned-by-oxen",
        "a custom model's owned_by is its owner's namespace",
        'the delete answer says owned_by "oxen"',
        _set("owned_by", "oxen"),
    ),
    _delete_model(
        "delete-id-not-requested",
        "the delete answer is the deleted model: its id is the requested id",
        "the delete answer carries the source model's id",
        _other_id,
    ),
    _delete_model(
        "delete-created-not-as-retrieved",
        "the delete answer is the model as last retrieved: same id, created, owned_by and source_model",
        "the delete answer carries created one second later than the model's",
        lambda m: {**m, "created": m["created"] + 1},
    ),
    # The delete answer as a whole.
    Fault(
        "delete-answers-204",
        "delete answers 200 with the deleted model",
        "deletes, then answers 204 with no body",
        ops=_DELETE,
        reply=_status(204),
    ),
    Fault(
        "delete-answers-500",
        "no operation answers 5xx",
        "deletes, then answers 500 unknown_error",
        ops=_DELETE,
        reply=_status(500),
    ),
    Fault(
        "delete-content-type-text-plain",
        "the delete answer is application/json",
        "the delete answer says Content-Type text/plain",
        ops=_DELETE,
        reply=_text_plain,
    ),
    Fault(
        "delete-body-not-json",
        "the delete answer's body is JSON",
        "the delete answer is the text 'Deleted model <id>'",
        ops=_DELETE,
        reply=_not_json,
    ),
    # What delete does.
    _switch(
        "delete-does-not-delete", "a deleted model is gone: retrieve after delete answers 404", Switch.KEEP_DELETED
    ),
    _switch("delete-twice-succeeds", "a second delete of the same model answers 404", Switch.DELETE_TWICE),
    _switch(
        "delete-without-token-succeeds",
        "a delete without a token answers 401 and deletes nothing",
        Switch.DELETE_WITHOUT_TOKEN,
    ),
    _switch(
        "delete-base-model-allowed",
        "a base model cannot be deleted: refused with a 4xx, still listed",
        Switch.DELETE_BASE,
    ),
    _switch(
        "delete-foreign-model-allowed",
        "another namespace's model cannot be deleted: refused with a 4xx",
        Switch.DELETE_FOREIGN,
    ),
    _switch("delete-hangs", "every request gets an answer in time", Switch.HANG_DELETE),
    # The other operations' answers.
    Fault(
        "list-missing-object-list",
        'the list answer is {"object": "list", "data": [...]}',
        'the list answer omits "object"',
        ops=frozenset({"list"}),
        reply=_drop_list_object,
    ),
    Fault(
        "list-created-as-string",
        "model.created is a required integer",
        "list answers created as strings",
        ops=frozenset({"list"}),
        model=lambda m: {**m, "created": str(m["created"])},
    ),
    Fault(
        "list-base-model-with-deployments",
        "deployments is empty for base models",
        "list answers base models with an active deployment",
        ops=frozenset({"list"}),
        model=_only_base(_set("deployments", [{"status": "active"}])),
    ),
    Fault(
        "search-missing-owned-by",
        "model.owned_by is required",
        "search answers omit owned_by",
        ops=frozenset({"search"}),
        model=_drop("owned_by"),
    ),
    Fault(
        "retrieve-missing-created",
        "model.created is required",
        "the retrieve answer omits created",
        ops=frozenset({"retrieve"}),
        model=_drop("created"),
    ),
    Fault(
        "retrieve-base-owned-by-not-oxen",
        'owned_by is "oxen" for base models',
        'retrieve answers base models with owned_by "vendor"',
        ops=frozenset({"retrieve"}),
        model=_only_base(_set("owned_by", "vendor")),
    ),
    Fault(
        "activate-deployment-status-out-of-enum",
        "model.deployments[].status is one of the six documented values",
        'the activate answer says deployment status "running"',
        ops=frozenset({"activate"}),
        model=_set("deployments", [{"status": "running"}]),
    ),
    Fault(
        "deactivate-model-type-out-of-enum",
        "model.model_type is base or custom",
        'the deactivate answer says model_type "deployment"',
        ops=frozenset({"deactivate"}),
        model=_set("model_type", "deployment"),
    ),
    _switch(
        "retrieve-finds-deleted",
        "a deleted model is gone: retrieve after delete answers 404",
        Switch.RETRIEVE_DELETED,
        ops={"retrieve"},
    ),
    # Errors and auth.
    Fault(
        "error-404-bare-detail",
        "error bodies take one of the two documented shapes",
        'every 404 answers a bare {"detail": ...}',
        error_body=_bare_detail,
    ),
    Fault(
        "not-found-detail-omits-id",
        "the not-found error names the id: Model not found: <id>",
        'not-found errors say only "Model not found"',
        error_info=_omit_id,
    ),
    Fault(
        "auth-failure-answers-403",
        "a missing or bad token answers 401 unauthenticated",
        "auth failures answer 403",
        error_info=_auth_403,
    ),
    _switch(
        "list-ignores-auth",
        "every operation needs a bearer token: without one, 401",
        Switch.LIST_WITHOUT_AUTH,
        ops={"list"},
    ),
    # Nested and optional members of the model object, mistyped: one fault per operation, sibling clauses at once.
    Fault(
        "retrieve-nested-fields-mistyped",
        "capabilities.input is an array and capabilities.output holds strings; developer.name and developer.logo, "
        "fine_tuning.actions and fine_tuning.cost_per_second are typed",
        'the retrieve answer has capabilities {"input": "text", "output": [1]}, developer {"name": 7, "logo": 7}, '
        'fine_tuning {"actions": "text_generation", "cost_per_second": "0.01"}',
        ops=frozenset({"retrieve"}),
        model=_nested_mistyped,
    ),
    Fault(
        "activate-fields-mistyped",
        "capabilities.input holds strings and capabilities.output is an array; fine_tuning.actions holds strings; "
        "pricing costs are numbers; each deployment is an object; description, image_url, released_at, source_model "
        "and summary are strings or null",
        'the activate answer has capabilities {"input": [1], "output": "text"}, fine_tuning.actions [1], '
        'pricing.cost_per_second "0.01", deployments as bare status strings, description 42, image_url 42, '
        'released_at 1767225600, source_model {"id": ...}, summary false',
        ops=frozenset({"activate"}),
        model=_fields_mistyped,
    ),
    Fault(
        "deactivate-answers-a-list",
        "the model is a JSON object",
        "the deactivate answer is the model inside a one-element array",
        ops=frozenset({"deactivate"}),
        reply=_in_a_list,
    ),
    Fault(
        "delete-containers-mistyped",
        "capabilities, developer, fine_tuning and request_schema are objects; deployments is an array; the pricing "
        "maps and showcase.gallery are objects and arrays",
        'the delete answer has capabilities [], developer "", fine_tuning false, request_schema "{}", '
        'deployments {"status": "active"}, pricing.cost_per_image_grid "high:4K=1.47", '
        'pricing.cost_per_second_by_resolution "0.096/s", showcase.gallery "hero.png"',
        ops=_DELETE,
        model=_containers_mistyped,
    ),
    Fault(
        "list-price-maps-and-showcase-mistyped",
        "pricing map values are resolution tiers and numbers; showcase is an object or null",
        'list answers pricing.cost_per_image_grid {"high": "1.47", "low": {"4K": "cheap"}}, '
        'pricing.cost_per_second_by_resolution {"480p": "0.096"}, showcase "hero.png"',
        ops=frozenset({"list"}),
        model=_price_maps_mistyped,
    ),
    Fault(
        "search-showcase-and-pricing-mistyped",
        "gallery items are objects with string src and alt and string-or-null texts; hero_image and tagline are "
        "strings or null; pricing is an object",
        'search answers showcase.gallery ["hero.png", {"alt": "a cat"}, {"src": 1, "alt": 2, "category": 3, '
        '"details": 4, "prompt": 5, "title": 6}], hero_image 1, tagline 2, and pricing "token"',
        ops=frozenset({"search"}),
        model=_showcase_mistyped,
    ),
    # The list and search wrappers.
    Fault(
        "list-answers-bare-array",
        "the list answer is a JSON object",
        "list answers the bare array of models",
        ops=frozenset({"list"}),
        reply=_listing_bend(lambda data: data),
    ),
    Fault(
        "search-answers-bare-array",
        "the search answer is a JSON object",
        "search answers the bare array of models",
        ops=frozenset({"search"}),
        reply=_listing_bend(lambda data: data),
    ),
    Fault(
        "list-and-search-data-keyed-by-id",
        'the wrapper\'s object is "list" and its data is an array',
        'list and search answer {"object": "dict", "data": {<id>: <model>, ...}}',
        ops=frozenset({"list", "search"}),
        reply=_listing_bend(_keyed_by_id),
    ),
    Fault(
        "search-results-not-under-data",
        "the search answer has data",
        'search answers {"object": "list", "results": [...]}',
        ops=frozenset({"search"}),
        reply=_listing_bend(lambda data: {"object": "list", "results": data}),
    ),
    # Answers that are another model than the one asked for.
    Fault(
        "retrieve-answers-another-model",
        "retrieving a model answers the model of that id",
        "the retrieve answer of a custom model carries its source model's id",
        ops=frozenset({"retrieve"}),
        model=_only_custom(_other_id),
    ),
    Fault(
        "activate-answers-another-model",
        "activate and deactivate answer the model of the requested id",
        "activate and deactivate answers of a custom model carry its source model's id",
        ops=frozenset({"activate", "deactivate"}),
        model=_only_custom(_other_id),
    ),
    # What activate and deactivate do, and a DELETE of an id that names nothing.
    _switch(
        "activate-does-not-activate",
        "after activate, no deployment is inactive or deactivating",
        Switch.ACTIVATE_NOOP,
        ops={"activate"},
    ),
    _switch(
        "deactivate-does-not-deactivate",
        "after deactivate, no deployment is active or deploying",
        Switch.DEACTIVATE_NOOP,
        ops={"deactivate"},
    ),
    Fault(
        "delete-of-odd-id-answers-500",
        "a DELETE of an id that names no model is refused with a 4xx, never a 5xx",
        "a delete of an unknown id with spaces, unicode, reserved characters or NUL answers 500 unknown_error",
        ops=_DELETE,
        error_info=_odd_id_crashes,
    ),
    _switch(
        "list-filter-ignored",
        "a filtered list holds only models that match the filter",
        Switch.LIST_IGNORES_FILTERS,
        ops={"list"},
    ),
    # The fine-tune deploy answer: deploy.schema.json, and the new model's id where the suite looks for it.
    Fault(
        "deploy-answer-fields-mistyped",
        "deployment.status and deployment.endpoint are strings",
        "deploy answers deployment.status 1 and deployment.endpoint 1 (model_slug as usual)",
        ops=frozenset({"deploy"}),
        reply=_deployment_bend(lambda d: {**d, "status": 1, "endpoint": 1}),
    ),
    Fault(
        "deploy-model-slug-as-integer",
        "deployment.model_slug, the new model's id, is a string",
        "deploy answers deployment.model_slug 42 (and creates the model as usual)",
        ops=frozenset({"deploy"}),
        reply=_deployment_bend(lambda d: {**d, "model_slug": 42}),
    ),
    Fault(
        "deploy-answer-omits-model-slug",
        "the deploy answer names the new model in deployment.model_slug",
        "deploy answers its deployment without model_slug (and creates the model as usual)",
        ops=frozenset({"deploy"}),
        reply=_deployment_bend(lambda d: {k: v for k, v in d.items() if k != "model_slug"}),
    ),
    Fault(
        "deploy-deployment-as-a-list",
        "the deploy answer's deployment is an object",
        "deploy answers the deployment inside a one-element array (and creates the model as usual)",
        ops=frozenset({"deploy"}),
        reply=_deployment_bend(lambda d: [d]),
    ),
    Fault(
        "deploy-answers-a-list",
        "the deploy answer is a JSON object",
        "deploy answers its object inside a one-element array (and creates the model as usual)",
        ops=frozenset({"deploy"}),
        reply=_in_a_list,
    ),
    # Requests the documentation does not allow, accepted: no source says a hub must refuse them (see the benign
    # variants below, one per leniency), so only --strict-contract fails on them.
    Fault(
        "invalid-query-accepted",
        "search needs its search parameter and deployment_status accepts only live: other requests are refused",
        f"{Switch.SEARCH_WITHOUT_TERM.value}; {Switch.ANY_DEPLOYMENT_STATUS.value}",
        strict_only=True,
        ops=frozenset({"search", "retrieve"}),
        switches=frozenset({Switch.SEARCH_WITHOUT_TERM, Switch.ANY_DEPLOYMENT_STATUS}),
    ),
    # What one namespace sees of another, and what a filter leaves out: no source promises either, so these too are
    # warnings by default and failures only under --strict-contract.
    _switch(
        "list-filter-drops-last-match",
        "a filtered list holds every listed model that matches the filter",
        Switch.FILTER_DROPS_LAST,
        ops={"list"},
        strict_only=True,
    ),
    Fault(
        "search-shows-other-namespaces",
        "a search answers only models the list shows; another namespace's custom models stay hidden",
        f"{Switch.SEARCH_EVERY_NAMESPACE.value}; {Switch.CROWDED.value}",
        strict_only=True,
        ops=frozenset({"search"}),
        switches=frozenset({Switch.SEARCH_EVERY_NAMESPACE, Switch.CROWDED}),
    ),
    _switch(
        "retrieve-shows-other-namespaces",
        "another namespace's custom model is not found by retrieve",
        Switch.RETRIEVE_EVERY_NAMESPACE,
        ops={"retrieve"},
        strict_only=True,
    ),
    _switch(
        "list-shows-other-namespaces",
        "another namespace's custom models stay out of the list",
        Switch.LIST_EVERY_NAMESPACE,
        ops={"list"},
        strict_only=True,
    ),
    # A documented field that stops coming breaks no schema (the contract requires nothing below the top level):
    # the run reports it as a vanished field.
    Fault(
        "pricing-method-vanishes",
        "a documented field that no answer carries is reported as vanished (pricing.method here)",
        "every model answer's pricing omits method",
        strict_only=True,
        ops=_MODEL_ANSWERS,
        model=_without_pricing_method,
    ),
    # The statuses of delete's errors.
    Fault(
        "delete-error-statuses-wrong",
        "a delete of an unknown id answers 404; a refused delete answers a 4xx; both with an error body",
        "a delete of an unknown or deleted id answers 400, and a refused delete (base model, another namespace's "
        "model) answers 200, each with its usual error body",
        ops=_DELETE,
        error_info=_delete_error_statuses,
    ),
    # Error bodies off error.schema.json: one clause per kind of error (401, 404, other 4xx, refusal).
    Fault(
        "error-bodies-off-both-shapes",
        "an error body is an object, its error an object; shape 2's error has a string message",
        "401s answer the JSON string of their detail; 404s answer error as a string; other 4xx answer "
        '{"error": {"reason": ...}}; refusals answer {"error": {"message": [...]}}',
        error_body=_error_kinds(
            unauthenticated=lambda e: e.detail,
            not_found=lambda e: {**e.to_json(), "error": e.detail},
            invalid=lambda e: {"error": {"reason": e.detail}},
            refused=lambda e: {"error": {"message": [e.detail]}},
        ),
    ),
    Fault(
        "error-typed-fields-mistyped",
        "in shape 1, error.type, error.title, error.detail and status_message are strings",
        "401s answer error.type 401; 404s answer error.title null; other 4xx answer error.detail as a list; "
        "refusals answer status_message as the status code",
        error_body=_error_kinds(
            unauthenticated=lambda e: _typed_error(e, type=401),
            not_found=lambda e: _typed_error(e, title=None),
            invalid=lambda e: _typed_error(e, detail=[e.detail]),
            refused=lambda e: {**e.to_json(), "status_message": e.status},
        ),
    ),
    Fault(
        "error-typed-envelope-broken",
        'shape 1 has status "error" and status_message, and its error has a title',
        '401s answer status "failed"; 404s answer an error without title; other 4xx (not refusals) answer no '
        "status_message",
        error_body=_error_kinds(
            unauthenticated=lambda e: {**e.to_json(), "status": "failed"},
            not_found=lambda e: _typed_error(e, title=_DROP),
            invalid=lambda e: {k: v for k, v in e.to_json().items() if k != "status_message"},
        ),
    ),
    # Benign variants: conforming answers a suite must accept.
    Fault(
        "extra-fields",
        "model objects may carry fields the documentation does not name",
        "every model object has extra unknown fields",
        benign=True,
        ops=_MODEL_ANSWERS,
        model=_extra_fields,
    ),
    Fault(
        "optional-fields-absent",
        "only id, object, created and owned_by are required",
        "every model object carries only the four required fields",
        benign=True,
        ops=_MODEL_ANSWERS,
        model=_required_only,
    ),
    Fault(
        "nullable-fields-null",
        "nullable fields may be null",
        "every nullable top-level field and every pricing cost is null",
        benign=True,
        ops=_MODEL_ANSWERS,
        model=_all_nullables_null,
    ),
    Fault(
        "nested-nullable-fields-null",
        "nullable fields inside objects may be null",
        "developer.logo, pricing costs and showcase texts are null",
        benign=True,
        ops=_MODEL_ANSWERS,
        model=_nested_nullables_null,
    ),
    Fault(
        "error-shape-message",
        'errors may take the second documented shape {"error": {"message": ...}}',
        "every error answers the message shape",
        benign=True,
        error_body=_message_shape,
    ),
    Fault(
        "refusal-403",
        "a refused change may answer any 4xx with an error body",
        "refusals answer 403",
        benign=True,
        error_info=_refusal(403),
    ),
    Fault(
        "refusal-404",
        "a refused change may answer any 4xx with an error body",
        "refusals answer 404",
        benign=True,
        error_info=_refusal(404),
    ),
    Fault(
        "refusal-409",
        "a refused change may answer any 4xx with an error body",
        "refusals answer 409",
        benign=True,
        error_info=_refusal(409),
    ),
    _switch(
        "every-deployment-status",
        "deployments[].status may take any of the six documented values",
        Switch.CYCLE_STATUS,
        ops={"deploy", "deploy_checkpoint"},
        benign=True,
    ),
    _switch(
        "dotted-ids",
        "model ids may contain ':' and '.'",
        Switch.DOTTED_IDS,
        ops={"deploy", "deploy_checkpoint"},
        benign=True,
    ),
    _switch(
        "reverse-order", "list and search promise no order", Switch.REVERSE_ORDER, ops={"list", "search"}, benign=True
    ),
    _switch(
        "benign-crowded-namespaces",
        "the namespaces already hold custom models",
        Switch.CROWDED,
        ops={"list", "search"},
        benign=True,
    ),
    # Leniencies: each accepts a request the documentation does not allow, which no source says must be refused.
    _switch(
        "benign-ignores-unknown-deployment-status",
        "a hub may ignore a deployment_status other than live",
        Switch.ANY_DEPLOYMENT_STATUS,
        ops={"retrieve"},
        benign=True,
    ),
    _switch(
        "benign-search-without-term-lists-all",
        "a hub may answer a search without a term (missing or empty) with the whole list",
        Switch.SEARCH_WITHOUT_TERM,
        ops={"search"},
        benign=True,
    ),
    # Hostile hubs: each lures the suite towards a model it did not make, an extra deploy, or an endless wait.
    _hostile(
        "hostile-delete-redirect",
        "a DELETE must not follow a redirect to a model the run did not make",
        Switch.REDIRECT_DELETE,
        _DELETE,
    ),
    _hostile(
        "hostile-delete-redirect-absolute",
        "a DELETE must not follow a redirect (absolute URL, same host) to a model the run did not make",
        Switch.REDIRECT_DELETE_ABSOLUTE,
        _DELETE,
    ),
    _hostile(
        "hostile-deploy-existing-slug",
        "a deploy answering an existing model's id did not create it: the run must not delete it",
        Switch.DEPLOY_EXISTING,
        _DEPLOYS,
    ),
    _hostile(
        "hostile-deploy-base-slug",
        "a deploy answering a base model's id did not create it: the run must not delete it",
        Switch.DEPLOY_BASE,
        _DEPLOYS,
    ),
    _hostile(
        "hostile-deploy-dot-slug",
        "a deploy answering the id '.' (a path segment that vanishes) created nothing: the run must not DELETE it",
        Switch.DEPLOY_DOT,
        _DEPLOYS,
    ),
    _hostile(
        "hostile-deploy-dotdot-slug",
        "a deploy answering the id '..' (a path segment that vanishes) created nothing: the run must not DELETE it",
        Switch.DEPLOY_DOTDOT,
        _DEPLOYS,
    ),
    _hostile(
        "hostile-deploy-503-after-create",
        "a deploy that answered 503 may have created a model: the run must not deploy past its limit",
        Switch.DEPLOY_503,
        _DEPLOYS,
    ),
    _hostile(
        "hostile-drip-retrieve",
        "an answer that trickles in must not keep the run from a verdict in bounded time",
        Switch.DRIP_RETRIEVE,
        frozenset({"retrieve"}),
    ),
)

FAULTS_BY_NAME: dict[str, Fault] = {fault.name: fault for fault in FAULTS}


class UnknownFaultError(ValueError):
    """A fault name that is not in the catalog."""


def resolve(names: Iterable[str | Fault]) -> tuple[Fault, ...]:
    """Faults by name (or as given), in catalog order, without duplicates."""
    chosen: set[str] = set()
    extra: list[Fault] = []
    for item in names:
        if isinstance(item, Fault):
            if item.name not in FAULTS_BY_NAME:
                extra.append(item)
            chosen.add(item.name)
        elif item in FAULTS_BY_NAME:
            chosen.add(item)
        else:
            raise UnknownFaultError(f"unknown fault {item!r} (see --list-faults)")
    return tuple(fault for fault in FAULTS if fault.name in chosen) + tuple(extra)
