"""Faults that bend the delete answer: the deleted model's members, then the answer as a whole.

Each breaks one clause of the model object (or of the answer's status, content type and body) and nothing else,
so that a suite that misses one shows exactly which clause it does not check in the answer to a delete.
"""

from __future__ import annotations

from dataclasses import replace

from ..records import ApiError, JsonObject, Reply
from ._base import DELETE, Fault, ModelBend, ReplyBend
from .bends import created_as_string, drop, other_id, set_to


def _delete_model(name: str, clause: str, effect: str, bend: ModelBend) -> Fault:
    return Fault(name, clause, effect, ops=DELETE, model=bend)


def _required(key: str, kind: str, mistyped: str, sends: str, bend: ModelBend) -> tuple[Fault, Fault]:
    """The two faults of a required member: left out, then sent as something other than a ``kind``."""
    slug = key.replace("_", "-")
    return (
        _delete_model(
            f"delete-missing-{slug}", f"model.{key} is required", f"the delete answer omits {key}", drop(key)
        ),
        _delete_model(
            f"delete-{slug}-{mistyped}",
            f"model.{key} is a required {kind}",
            f"the delete answer sends {key} {sends}",
            bend,
        ),
    )


def _pricing_method(value: str) -> ModelBend:
    def bend(model: JsonObject) -> JsonObject:
        return {**model, "pricing": {**model["pricing"], "method": value}}

    return bend


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


MODEL_MEMBERS: tuple[Fault, ...] = (
    # Required fields of the model object.
    *_required("created", "integer", "as-string", "as a string", created_as_string),
    *_required("id", "string", "as-integer", "as 42", set_to("id", 42)),
    *_required("object", "string", "as-null", "null", set_to("object", None)),
    *_required("owned_by", "string", "as-integer", "as 7", set_to("owned_by", 7)),
    # Enums.
    _delete_model(
        "delete-object-not-model",
        "model.object is the enum [model]",
        'the delete answer says object "custom_model"',
        set_to("object", "custom_model"),
    ),
    _delete_model(
        "delete-endpoint-out-of-enum",
        "model.endpoint is one of the three documented endpoints",
        'the delete answer says endpoint "/audio/speech"',
        set_to("endpoint", "/audio/speech"),
    ),
    _delete_model(
        "delete-model-type-out-of-enum",
        "model.model_type is base or custom",
        'the delete answer says model_type "fine_tuned"',
        set_to("model_type", "fine_tuned"),
    ),
    _delete_model(
        "delete-deployment-status-out-of-enum",
        "model.deployments[].status is one of the six documented values",
        'the delete answer says deployment status "running"',
        set_to("deployments", [{"status": "running"}]),
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
        set_to("display_name", None),
    ),
    _delete_model(
        "delete-custom-owned-by-oxen",
        "a custom model's owned_by is its owner's namespace",
        'the delete answer says owned_by "oxen"',
        set_to("owned_by", "oxen"),
    ),
    _delete_model(
        "delete-id-not-requested",
        "the delete answer is the deleted model: its id is the requested id",
        "the delete answer carries the source model's id",
        other_id,
    ),
    _delete_model(
        "delete-created-not-as-retrieved",
        "the delete answer is the model as last retrieved: same id, created, owned_by and source_model",
        "the delete answer carries created one second later than the model's",
        lambda m: {**m, "created": m["created"] + 1},
    ),
)

WHOLE_ANSWER: tuple[Fault, ...] = (
    Fault(
        "delete-answers-204",
        "delete answers 200 with the deleted model",
        "deletes, then answers 204 with no body",
        ops=DELETE,
        reply=_status(204),
    ),
    Fault(
        "delete-answers-500",
        "no operation answers 5xx",
        "deletes, then answers 500 unknown_error",
        ops=DELETE,
        reply=_status(500),
    ),
    Fault(
        "delete-content-type-text-plain",
        "the delete answer is application/json",
        "the delete answer says Content-Type text/plain",
        ops=DELETE,
        reply=_text_plain,
    ),
    Fault(
        "delete-body-not-json",
        "the delete answer's body is JSON",
        "the delete answer is the text 'Deleted model <id>'",
        ops=DELETE,
        reply=_not_json,
    ),
)
