"""Where the hub's model answers and the OpenAI Python SDK's types disagree, field by field.

The reference calls the hub's model object "compatible with the OpenAI model object", and users point the ``openai``
package at the hub. The SDK does not validate what it parses: it builds its objects leniently, so a missing field or
one of the wrong type surfaces later, in the caller's code (the delete answer parses as a ``ModelDeleted`` whose
``deleted`` reads ``None``). So the raw JSON is validated strictly against the SDK's own pydantic types, and each
disagreement is named with the field, what the SDK's type expects and what the hub answered.

Both errors are the suite's (``checking/failures.py``) and AssertionErrors, so that each fails its test::

    SdkMismatch            the answer disagrees with the SDK type in a way nobody has accepted: a failure
    KnownIncompatibility   it disagrees only in documented, accepted ways (a strict xfail expects exactly this)

The SDK's requests leave through the run's transport, which turns their errors into the suite's own, named as the
suite's client names its requests (``_sending``).
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote

import httpx
import openai
import pydantic
from openai.types import Model

from ..checking.exchange import Credential
from ..checking.failures import OxenContractError
from ..http.guard import RequestGuard
from ..http.redaction import ApiKey
from ..http.retries import RequestBudget
from ..http.transport import BearerAuth, Sending, guarded_httpx_client

__all__ = [
    "SDK_RETRIEVES",
    "Disagreement",
    "KnownIncompatibility",
    "SdkMismatch",
    "check_fits",
    "disagreements",
    "openai_client",
    "retrieve_sample",
    "shape",
]

# The SDK appends "/models" (and "/models/{id}") to its base URL.
OPENAI_BASE_PATH = "/api/ai"
_MISSING = "missing"
# Models retrieved through the SDK: every listed one up to this many; past it, one of each shape, at most this many.
SDK_RETRIEVES = 50


def openai_client(hub_url: str, key: ApiKey, guard: RequestGuard, budget: RequestBudget) -> openai.OpenAI:
    """The real SDK client, aimed at the hub, on the run's guarded ``httpx.Client`` (which vcrpy records and replays).

    openai 3 sends through httpx2 unless given a client; vcrpy patches httpx, so without this a replay would go to
    the network. The guarded client follows no redirect (the SDK asks it to), bounds the whole exchange, and sets
    the key through its auth hook: the SDK itself is given only the key's label. The SDK's own retries are off (they
    retry 5xx and timeouts, which would hide failures); the run's retry loop and budget apply instead (429 and 503,
    as Retry-After asks).
    """
    guard.protect(key)
    http_client = guarded_httpx_client(guard, budget=budget, sending=_sending)
    http_client.auth = BearerAuth(key)
    return openai.OpenAI(
        base_url=f"{hub_url}{OPENAI_BASE_PATH}", api_key=key.label, http_client=cast(Any, http_client), max_retries=0
    )


# The SDK's calls of the models API, by method, on a model's own route; its list is the models route itself.
_OPERATIONS = {"GET": "retrieveModel", "DELETE": "deleteModel"}


def _sending(request: httpx.Request) -> Sending:
    """An SDK request as a failure of it names it: the operation the suite's client would call it, and the model id."""
    path = request.url.raw_path.decode("ascii").partition("?")[0]
    encoded = path.partition(f"{OPENAI_BASE_PATH}/models/")[2]
    model_id = unquote(encoded) if encoded else None
    operation = _OPERATIONS.get(request.method, request.method) if model_id is not None else "listModels"
    return Sending(operation, request.method, str(request.url), model_id, Credential.KEY)


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One field where the hub's JSON does not fit the SDK's type."""

    sdk_type: str
    pointer: str  # JSON pointer into the answer, e.g. /data/3/created
    expected: str  # what the SDK's type declares, e.g. "int, required"
    actual: str  # the hub's value as JSON, or "missing"
    model_id: str | None = None

    @property
    def key(self) -> tuple[str, str, bool]:
        """What stays the same from one answer to the next: type, field (list indexes dropped), missing or not."""
        field = "/".join(part for part in self.pointer.split("/") if not part.isdigit())
        return (self.sdk_type, field, self.actual == _MISSING)

    def __str__(self) -> str:
        where = f" (model {self.model_id!r})" if self.model_id else ""
        return f"{self.sdk_type}{self.pointer}{where}: the SDK expects {self.expected}; the hub answered {self.actual}"


class SdkMismatch(OxenContractError, AssertionError):
    """The hub's answer disagrees with the SDK's type in a way not accepted as a known difference."""


class KnownIncompatibility(OxenContractError, AssertionError):
    """The hub's answer disagrees with the SDK's type only in documented, accepted ways."""


def disagreements(sdk_type: type[pydantic.BaseModel], body: Any) -> list[Disagreement]:
    """Every field of ``body`` that the SDK's ``sdk_type``, validated strictly, does not accept."""
    try:
        sdk_type.model_validate(body, strict=True)
    except pydantic.ValidationError as error:
        found = []
        for problem in error.errors(include_url=False):
            loc = tuple(problem["loc"])
            missing = problem["type"] == "missing"
            found.append(
                Disagreement(
                    sdk_type=_type_name(sdk_type),
                    pointer="/" + "/".join(str(part) for part in loc) if loc else "",
                    expected=_expected(sdk_type, loc) or str(problem["msg"]),
                    actual=_MISSING if missing else _json(problem.get("input")),
                    model_id=_model_id(body, loc),
                )
            )
        return found
    return []


def check_fits(
    sdk_type: type[pydantic.BaseModel], body: Any, *, request: str, known: Iterable[tuple[str, str, bool]] = ()
) -> None:
    """Raise ``SdkMismatch`` for any disagreement not in ``known``; ``KnownIncompatibility`` if only known ones."""
    found = disagreements(sdk_type, body)
    if not found:
        return
    accepted = set(known)
    unknown = [item for item in found if item.key not in accepted]
    kind = SdkMismatch if unknown else KnownIncompatibility
    sdk = f"the OpenAI SDK's {_type_name(sdk_type)} (openai {openai.__version__})"
    heading = (
        f"{request}: the hub's answer does not fit {sdk}"
        if unknown
        else f"{request}: the hub's answer differs from {sdk} only as documented"
    )
    lines = [f"{item} (known difference)" if item.key in accepted else str(item) for item in found]
    raise kind("\n  ".join([heading, *lines]))


def _json(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 80 else text[:77] + "..."


def _model_id(body: Any, loc: tuple[Any, ...]) -> str | None:
    # The id of the model a list entry or a single answer is about, for the message.
    node = body
    if len(loc) >= 2 and loc[0] == "data" and isinstance(loc[1], int) and isinstance(body, dict):
        items = body.get("data")
        node = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
    found = node.get("id") if isinstance(node, dict) else None
    return found if isinstance(found, str) else None


def _expected(sdk_type: type[pydantic.BaseModel], loc: tuple[Any, ...]) -> str | None:
    # Walk the SDK's annotations along the error's location: model fields by name, list items by index.
    annotation: Any = sdk_type
    required = True
    for part in loc:
        if isinstance(part, int):
            args = typing.get_args(annotation)
            if not args:
                return None
            annotation, required = args[0], True
        elif isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation, required = field.annotation, field.is_required()
        else:
            return None
    return f"{_type_name(annotation)}, {'required' if required else 'optional'}"


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type) and not isinstance(annotation, types.GenericAlias):
        return annotation.__name__
    return str(annotation).replace("typing.", "").replace("typing_extensions.", "")


def shape(model: dict[str, Any]) -> tuple[object, ...]:
    """What the SDK's retrieve of a model depends on: how its id reads in a path, and what the SDK's ``Model`` reads.

    The id's characters other than letters and digits (``/``, ``:``, ``.``, ``%``...), whether it holds capitals or
    anything past ASCII, and the JSON type of each field ``Model`` declares (missing included).
    """
    model_id = model.get("id")
    if isinstance(model_id, str):
        marks = "".join(sorted({character for character in model_id if not character.isalnum()}))
        id_shape: object = (marks, model_id != model_id.lower(), not model_id.isascii())
    else:
        id_shape = _json_type(model_id)
    declared = tuple((name, _json_type(model[name]) if name in model else _MISSING) for name in Model.model_fields)
    return (id_shape, declared)


def retrieve_sample(listed: list[dict[str, Any]]) -> list[str]:
    """The listed ids the SDK retrieves: all up to SDK_RETRIEVES; past it, the first of each shape, at most as many.

    A large catalogue repeats a few shapes hundreds of times: the SDK reads every listed model's fields from the list
    answer already (``SyncPage[Model]``), and the suite's own retrieves cover every model.
    """
    ids = [model["id"] for model in listed if isinstance(model.get("id"), str)]
    if len(ids) <= SDK_RETRIEVES:
        return ids
    first: dict[tuple[object, ...], str] = {}
    for model in listed:
        if isinstance(model.get("id"), str):
            first.setdefault(shape(model), model["id"])
    return list(first.values())[:SDK_RETRIEVES]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)
