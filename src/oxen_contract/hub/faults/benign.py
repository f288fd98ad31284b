"""Benign variants: answers that bend within what the documentation allows, which a suite must accept.

They are the other half of the self-check: a suite that caught every fault by rejecting anything unusual would fail
real hubs that answer within the rules, so each variant here must pass without a false alarm.
"""

from __future__ import annotations

from dataclasses import replace

from ..records import ApiError, JsonObject
from ._base import DEPLOYS, MODEL_ANSWERS, ErrorInfoBend, Fault, ModelBend, Switch, switch_fault

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

_PRICE_MAPS = ("cost_per_image_grid", "cost_per_second_by_resolution")


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


def _optional_never_sent(model: JsonObject) -> JsonObject:
    # What issue 19 saw a correct hub do: optional members left out, a nullable one null, the rest as usual.
    out = {k: v for k, v in model.items() if k != "showcase"}
    pricing = out.get("pricing")
    if isinstance(pricing, dict):
        out["pricing"] = {k: v for k, v in pricing.items() if k not in _PRICE_MAPS}
    return {**out, "description": None}


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


def _every_model(name: str, clause: str, effect: str, bend: ModelBend) -> Fault:
    return Fault(name, clause, effect, benign=True, ops=MODEL_ANSWERS, model=bend)


BENIGN: tuple[Fault, ...] = (
    _every_model(
        "extra-fields",
        "model objects may carry fields the documentation does not name",
        "every model object has extra unknown fields",
        _extra_fields,
    ),
    _every_model(
        "optional-fields-absent",
        "only id, object, created and owned_by are required",
        "every model object carries only the four required fields",
        _required_only,
    ),
    # fine_tuning null says a model is not fine-tuneable ([S]): this hub's action filter agrees and keeps none.
    Fault(
        "nullable-fields-null",
        "nullable fields may be null",
        "every nullable top-level field and every pricing cost is null; an action filter keeps no model",
        benign=True,
        ops=MODEL_ANSWERS,
        model=_all_nullables_null,
        switches=frozenset({Switch.NOT_FINE_TUNEABLE}),
    ),
    _every_model(
        "nested-nullable-fields-null",
        "nullable fields inside objects may be null",
        "developer.logo, pricing costs and showcase texts are null",
        _nested_nullables_null,
    ),
    _every_model(
        "optional-fields-never-sent",
        "showcase and the price maps are optional and description is nullable: a hub may never send the first",
        "model objects never carry showcase or pricing's two price maps, and say description null",
        _optional_never_sent,
    ),
    Fault(
        "error-shape-message",
        'errors may take the second documented shape {"error": {"message": ...}}',
        "every error answers the message shape",
        benign=True,
        error_body=_message_shape,
    ),
    # refusal-403, refusal-404 and refusal-409: one variant, per status.
    *(
        Fault(
            f"refusal-{code}",
            "a refused change may answer any 4xx with an error body",
            f"refusals answer {code}",
            benign=True,
            error_info=_refusal(code),
        )
        for code in (403, 404, 409)
    ),
    switch_fault(
        "every-deployment-status",
        "deployments[].status may take any of the six documented values",
        Switch.CYCLE_STATUS,
        ops=DEPLOYS,
        benign=True,
    ),
    switch_fault("dotted-ids", "model ids may contain ':' and '.'", Switch.DOTTED_IDS, ops=DEPLOYS, benign=True),
    switch_fault(
        "reverse-order", "list and search promise no order", Switch.REVERSE_ORDER, ops={"list", "search"}, benign=True
    ),
    switch_fault(
        "benign-crowded-namespaces",
        "the namespaces already hold custom models",
        Switch.CROWDED,
        ops={"list", "search"},
        benign=True,
    ),
    # Leniencies: each accepts a request the documentation does not allow, which no source says must be refused.
    switch_fault(
        "benign-ignores-unknown-deployment-status",
        "a hub may ignore a deployment_status other than live",
        Switch.ANY_DEPLOYMENT_STATUS,
        ops={"retrieve"},
        benign=True,
    ),
    switch_fault(
        "benign-search-without-term-lists-all",
        "a hub may answer a search without a term (missing or empty) with the whole list",
        Switch.SEARCH_WITHOUT_TERM,
        ops={"search"},
        benign=True,
    ),
)
