"""Routing on the raw request path, because model ids contain '/'.

Clients percent-encode a model id as one path segment, so ``%2F`` must stay distinguishable from a real ``/``: the
decoded ``scope["path"]`` that Starlette routes on has lost that difference. This module matches the raw bytes,
decodes each id itself (invalid UTF-8 becomes an id that matches nothing, never an exception), and still accepts an
unencoded ``/`` inside an id as a fallback, taking a trailing ``/activate`` or ``/deactivate`` on POST as the action.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

_MODELS = b"/api/ai/models"
_REPOS = b"/api/repos/"


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
