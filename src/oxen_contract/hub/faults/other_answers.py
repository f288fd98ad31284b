"""Faults in the answers of the operations other than delete: list, search, retrieve, activate, deactivate, deploy.

The delete answer has its own module; these break the same kinds of clause in every other answer (a member of the
model object, the list and search wrappers, which model is answered, the deploy answer), so that the self-check shows
the suite checks each operation's answer, not only the delete's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..records import JsonObject, Reply
from ._base import Fault, ModelBend, ReplyBend
from .bends import created_as_string, drop, in_a_list, other_id, set_to


def _only_base(bend: ModelBend) -> ModelBend:
    def bent(model: JsonObject) -> JsonObject:
        return bend(model) if model.get("model_type") == "base" else model

    return bent


def _only_custom(bend: ModelBend) -> ModelBend:
    def bent(model: JsonObject) -> JsonObject:
        return bend(model) if model.get("model_type") == "custom" else model

    return bent


def _drop_list_object(reply: Reply) -> Reply:
    payload = reply.payload
    if isinstance(payload, dict):
        payload = {k: v for k, v in payload.items() if k != "object"}
    return replace(reply, payload=payload)


# Whole answers of list and search.


def _listing_bend(bend: Callable[[list[object]], object]) -> ReplyBend:
    def bent(reply: Reply) -> Reply:
        payload = reply.payload
        if isinstance(payload, dict) and isinstance(payload.get("data"), list):
            payload = bend(payload["data"])
        return replace(reply, payload=payload)

    return bent


def _keyed_by_id(data: list[object]) -> object:
    return {"object": "dict", "data": {m["id"]: m for m in data if isinstance(m, dict)}}


# Deploy answers ({"deployment": {"model_slug", "status", "endpoint"}}).


def _deployment_bend(bend: Callable[[JsonObject], object]) -> ReplyBend:
    def bent(reply: Reply) -> Reply:
        payload = reply.payload
        if isinstance(payload, dict) and isinstance(payload.get("deployment"), dict):
            payload = {**payload, "deployment": bend(payload["deployment"])}
        return replace(reply, payload=payload)

    return bent


MODEL_MEMBERS: tuple[Fault, ...] = (
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
        model=created_as_string,
    ),
    Fault(
        "list-base-model-with-deployments",
        "deployments is empty for base models",
        "list answers base models with an active deployment",
        ops=frozenset({"list"}),
        model=_only_base(set_to("deployments", [{"status": "active"}])),
    ),
    Fault(
        "search-missing-owned-by",
        "model.owned_by is required",
        "search answers omit owned_by",
        ops=frozenset({"search"}),
        model=drop("owned_by"),
    ),
    Fault(
        "retrieve-missing-created",
        "model.created is required",
        "the retrieve answer omits created",
        ops=frozenset({"retrieve"}),
        model=drop("created"),
    ),
    Fault(
        "retrieve-base-owned-by-not-oxen",
        'owned_by is "oxen" for base models',
        'retrieve answers base models with owned_by "vendor"',
        ops=frozenset({"retrieve"}),
        model=_only_base(set_to("owned_by", "vendor")),
    ),
    Fault(
        "activate-deployment-status-out-of-enum",
        "model.deployments[].status is one of the six documented values",
        'the activate answer says deployment status "running"',
        ops=frozenset({"activate"}),
        model=set_to("deployments", [{"status": "running"}]),
    ),
    Fault(
        "deactivate-model-type-out-of-enum",
        "model.model_type is base or custom",
        'the deactivate answer says model_type "deployment"',
        ops=frozenset({"deactivate"}),
        model=set_to("model_type", "deployment"),
    ),
)

WRAPPERS: tuple[Fault, ...] = (
    # list-answers-bare-array and search-answers-bare-array: one fault, per operation.
    *(
        Fault(
            f"{op}-answers-bare-array",
            f"the {op} answer is a JSON object",
            f"{op} answers the bare array of models",
            ops=frozenset({op}),
            reply=_listing_bend(lambda data: data),
        )
        for op in ("list", "search")
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
)

# Answers that are another model than the one asked for.
ANOTHER_MODEL: tuple[Fault, ...] = (
    Fault(
        "retrieve-answers-another-model",
        "retrieving a model answers the model of that id",
        "the retrieve answer of a custom model carries its source model's id",
        ops=frozenset({"retrieve"}),
        model=_only_custom(other_id),
    ),
    Fault(
        "activate-answers-another-model",
        "activate and deactivate answer the model of the requested id",
        "activate and deactivate answers of a custom model carry its source model's id",
        ops=frozenset({"activate", "deactivate"}),
        model=_only_custom(other_id),
    ),
)

# The fine-tune deploy answer: deploy.schema.json, and the new model's id where the suite looks for it.
DEPLOY: tuple[Fault, ...] = (
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
        reply=in_a_list,
    ),
)
