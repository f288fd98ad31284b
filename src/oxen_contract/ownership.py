"""Whether a model id is one the run may delete: the judgement, apart from the deploys and deletes that rely on it.

Deleting the wrong model loses someone's work, so the rule is written once and kept small enough to read: an id is
usable only as one path segment that names a model (never ``.``, ``..`` or a route name), and a model is the run's
only as a custom model of the run's namespace, retrieved as such. ``provisioning.py`` adds the bookkeeping: which ids
passed, when, and for which deploy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from .client import Exchange, HubClient
from .exchange import curl_line
from .failures import ProvisioningError
from .text import excerpt

__all__ = ["deployed_id", "is_ours", "listed_ids", "namespace_models", "not_ours", "retrieved_as_ours", "unusable_id"]

# A fresh deploy may need a moment before retrieve finds it.
_READY_POLLS = 10
_READY_PAUSE = 1.0
# Path segments that are other routes ([S]'s favorites and featured too): a model with such an id cannot be named.
_ROUTE_NAMES = frozenset({"search", "favorites", "featured"})


def unusable_id(model_id: object) -> str | None:
    """Why ``model_id`` cannot be a disposable model's id, or None if it can."""
    if not isinstance(model_id, str) or not model_id:
        return "no id"
    if model_id != model_id.strip() or any(ord(character) < 32 or ord(character) == 127 for character in model_id):
        return "an id with surrounding space or control characters"
    if model_id in (".", "..") or model_id in _ROUTE_NAMES:
        return f"{model_id!r} is not one path segment that names a model"
    if "/" in quote(model_id, safe=""):
        return "an id that does not encode as one path segment"
    return None


def is_ours(model: dict[str, Any], namespace: str | None) -> bool:
    """True when ``model`` is a custom model of ``namespace`` (never one of the hub's own, owned by ``oxen``)."""
    owner = model.get("owned_by")
    return bool(
        isinstance(model.get("id"), str)
        and owner == namespace
        and owner != "oxen"
        and model.get("model_type", "custom") == "custom"
    )


def not_ours(answer: Exchange, model_id: str, namespace: str | None) -> str | None:
    """Why a retrieve answer does not show ``model_id`` as a custom model of ``namespace``, or None."""
    if answer.status != 200:
        return f"retrieving it answered {answer.status}"
    body = answer.json_or_none()
    if not isinstance(body, dict) or body.get("id") != model_id:
        return "retrieving it did not answer that model"
    if not is_ours(body, namespace):
        return (
            f"retrieving it answered a model owned by {body.get('owned_by')!r} of type "
            f"{body.get('model_type', 'unstated')!r}, not a custom model of the run's namespace {namespace!r}"
        )
    return None


def retrieved_as_ours(
    client: HubClient, model_id: str, namespace: str | None, sleep: Callable[[float], None]
) -> str | None:
    """Retrieve ``model_id`` (waiting a little for a fresh deploy to show) and say why it is not ours, or None."""
    for poll in range(_READY_POLLS):
        answer = client.retrieve(model_id)
        if answer.status != 404:
            break
        if poll + 1 < _READY_POLLS:
            sleep(_READY_PAUSE)
    return not_ours(answer, model_id, namespace)


def _listed(answer: Exchange) -> list[Any] | None:
    body = answer.json_or_none() if answer.status == 200 else None
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, list) else None


def listed_ids(client: HubClient) -> frozenset[str]:
    """Every id the list answers now; a ProvisioningError when it answers no list to tell a new model from."""
    answer = client.list()
    data = _listed(answer)
    if data is None:
        raise ProvisioningError(
            f"cannot provision a disposable model: the list read before deploying answered {answer.status}, not "
            f"a list of models, so a deploy answer could not be told from an existing model\n"
            f"  body: {excerpt(answer.text)}"
        )
    return frozenset(m["id"] for m in data if isinstance(m, dict) and isinstance(m.get("id"), str))


def namespace_models(client: HubClient, namespace: str | None) -> list[dict[str, Any]]:
    """The listed custom models of ``namespace`` (none when the list answers no list)."""
    return [m for m in _listed(client.list()) or [] if isinstance(m, dict) and is_ours(m, namespace)]


def deployed_id(answer: Exchange, path: tuple[str, str]) -> str:
    """The model id a deploy answer names at ``path``; a ProvisioningError that shows the answer when it names none."""
    where = ".".join(path)
    problem = None
    body: Any = None
    if answer.status != 200:
        location = answer.headers.get("location")
        problem = f"answered {answer.status}" + (f" (Location: {location})" if location else "")
    else:
        try:
            body = answer.json()
        except ValueError:
            problem = "answered a body that is not JSON"
    value = body
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if problem is None and (not isinstance(value, str) or not value):
        problem = f"answered without a model id at {where}"
    if problem:
        raise ProvisioningError(
            f"cannot provision a disposable model: {answer.method} {answer.path} {problem}\n"
            f"  body: {excerpt(answer.text)}\n"
            f"  reproduce with: {curl_line(answer.method, answer.url, answer.credential)}"
        )
    assert isinstance(value, str)
    return value
