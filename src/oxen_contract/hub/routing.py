"""Routing on the raw request path, because model ids contain '/'.

Clients percent-encode a model id as one path segment, so ``%2F`` must stay distinguishable from a real ``/``: the
decoded ``scope["path"]`` that Starlette routes on has lost that difference. This module matches the raw bytes,
decodes each id itself (invalid UTF-8 becomes an id that matches nothing, never an exception), and still accepts an
unencoded ``/`` inside an id as a fallback, taking a trailing ``/activate`` or ``/deactivate`` on POST as the action.
A hub served below a gateway's prefix (``/oxen``) strips it here first; a path outside it routes nowhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

_MODELS = b"/api/ai/models"
_REPOS = b"/api/repos/"
# A gateway's path prefix: one or more plain segments, no trailing slash.
_PREFIX = re.compile(r"^(?:/[A-Za-z0-9._~-]+)+$")


@dataclass(frozen=True, slots=True)
class Target:
    """What one method on one path asks for."""

    operation: str
    model_id: str = ""
    # False when the id was not valid UTF-8 once decoded: it names no model.
    valid: bool = True
    owner: str = ""
    repo: str = ""
    fine_tune_id: str = ""
    step: str = ""


@dataclass(frozen=True, slots=True)
class Resource:
    methods: dict[str, Target]

    @property
    def allow(self) -> str:
        return ", ".join(sorted(self.methods))


def decode(segment: bytes) -> tuple[str, bool]:
    raw = unquote_to_bytes(segment)
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), False


def gateway_prefix(text: str) -> str:
    """The path prefix a hub is served under ("" for none), normalised; ValueError naming what is accepted."""
    prefix = text.rstrip("/")
    if prefix and (not _PREFIX.match(prefix) or any(part in (".", "..") for part in prefix.split("/"))):
        raise ValueError(
            f"invalid prefix {text!r}: expected a path such as /oxen (segments of letters, digits and ._~-)"
        )
    return prefix


def strip_prefix(raw_path: bytes, prefix: str) -> bytes | None:
    """The raw path below ``prefix``, as the API's routes see it; None when the path is outside it."""
    if not prefix:
        return raw_path
    below = raw_path[len(prefix) :]
    return below if raw_path.startswith(prefix.encode()) and below.startswith(b"/") else None


def resolve(raw_path: bytes) -> Resource | None:
    """The resource at a raw path, or None when nothing lives there."""
    if raw_path == _MODELS:
        return Resource({"GET": Target("list")})
    if raw_path.startswith(_MODELS + b"/"):
        return _model_resource(raw_path[len(_MODELS) + 1 :])
    if raw_path.startswith(_REPOS):
        return _deploy_resource(raw_path[len(_REPOS) :].split(b"/"))
    return None


def _model_resource(tail: bytes) -> Resource:
    model_id, valid = decode(tail)
    by_id = {
        method: Target(operation, model_id, valid) for method, operation in (("GET", "retrieve"), ("DELETE", "delete"))
    }
    if tail == b"search":
        # The search route wins over a model called "search"; DELETE still means that model.
        by_id["GET"] = Target("search")
    head, _, action = tail.rpartition(b"/")
    if head and action in (b"activate", b"deactivate"):
        action_id, action_valid = decode(head)
        by_id["POST"] = Target(action.decode(), action_id, action_valid)
    return Resource(by_id)


def _deploy_resource(parts: list[bytes]) -> Resource | None:
    if len(parts) == 5 and parts[2] == b"fine_tunes" and parts[4] == b"deploy":
        owner, repo, _, fine_tune_id, _ = (decode(part)[0] for part in parts)
        return Resource({"POST": Target("deploy", owner=owner, repo=repo, fine_tune_id=fine_tune_id)})
    if len(parts) == 7 and parts[2] == b"fine_tunes" and parts[4] == b"checkpoints" and parts[6] == b"deploy":
        owner, repo, _, fine_tune_id, _, step, _ = (decode(part)[0] for part in parts)
        target = Target("deploy_checkpoint", owner=owner, repo=repo, fine_tune_id=fine_tune_id, step=step)
        return Resource({"POST": target})
    return None
