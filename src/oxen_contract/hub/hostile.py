"""What a hostile hub does instead of the truth: the victims it seeds, where it redirects, which model it claims.

The hostile faults do not break a documented rule; they bait a suite into harm against a real hub: deleting a model
it did not make, deploying past its limit, leaving a model it made behind unnamed, or waiting without end. Each needs
victims the suite did not create, so a hostile hub (or the benign crowded variant) seeds two custom models in every
namespace, and one lure brings in a colleague's model while the suite runs. The app asks this module only where a
fault's switch is on, so a hub without them answers exactly as before. What a lure does to an answer on its way out
(an echoed key, a gzip bomb, a head for the drip proxy) is ``hostile_answers.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, replace
from urllib.parse import quote, unquote_to_bytes

import anyio

from .catalog import preseeded_model_id, preseeded_models, sandbox_fine_tune
from .faults import Switch
from .records import ApiError, FineTune, Model, Reply, custom_model
from .store import Store, Tx

__all__ = [
    "COLLEAGUE_DELAY",
    "DRIP_SECONDS",
    "GATEWAY_502",
    "Colleague",
    "after_create",
    "asked_id",
    "claimed_model",
    "drip",
    "listed",
    "redirect_location",
    "routed_path",
    "seed_crowd",
]

# The drip faults' default pause between two bytes of a retrieve answer (its body, or its head).
DRIP_SECONDS = 0.4
# A colleague's model turns up this many requests after the first deploy: late enough that the deploy's answer and the
# suite's first look at the namespace came before it, soon enough to be there when a suite cleans up.
COLLEAGUE_DELAY = 10
# What a gateway answers when the service behind it fails: its own page, not the API's error body.
GATEWAY_502 = Reply(
    502,
    raw=b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>"
    b"\r\n</body>\r\n</html>\r\n",
    media_type="text/html",
)
# A deploy that created its model, then answered an error (and the headers it comes with).
_AFTER_CREATE: dict[Switch, tuple[ApiError, tuple[tuple[str, str], ...]]] = {
    Switch.DEPLOY_503: (ApiError(503, "unknown_error", "upstream timed out"), ()),
    Switch.DEPLOY_409: (ApiError(409, "invalid_params", "A deployment of this fine-tune is already in progress"), ()),
    Switch.DEPLOY_408: (ApiError(408, "unknown_error", "The deploy request timed out"), ()),
    Switch.DEPLOY_429: (
        ApiError(429, "unknown_error", "Too many deploys: retry after 1 second"),
        (("Retry-After", "1"),),
    ),
}
_REDIRECTS = frozenset({Switch.REDIRECT_DELETE, Switch.REDIRECT_DELETE_ABSOLUTE})
_SLUGS = ((Switch.DEPLOY_DOT, "."), (Switch.DEPLOY_DOTDOT, ".."))
_MODELS = b"/api/ai/models/"


def seed_crowd(store: Store, namespaces: Iterable[str], switches: frozenset[Switch] = frozenset()) -> None:
    """Give every namespace its pre-seeded models; a reopened file keeps them as they were, even deleted."""
    old_status = "inactive" if Switch.OLD_SEEDED_INACTIVE in switches else "active"
    with store.write() as tx:
        for namespace in sorted(set(namespaces)):
            fine_tune = sandbox_fine_tune(namespace)
            for model in preseeded_models(namespace, old_status=old_status):
                tx.add_custom(model, fine_tune, None, seed=True)


def listed(switches: frozenset[Switch], models: list[Model]) -> list[Model]:
    """The models a list or search shows: only those with an active deployment, under LIST_ONLY_ACTIVE."""
    if Switch.LIST_ONLY_ACTIVE not in switches:
        return models
    # Base models are always active [O], though they have no deployment.
    return [model for model in models if model.is_base or model.deployment_status == "active"]


def routed_path(switches: frozenset[Switch], path: bytes) -> bytes:
    """The path the app routes on: behind a proxy that decodes paths (DECODE_TWICE), the path decoded once already."""
    return unquote_to_bytes(path) if Switch.DECODE_TWICE in switches else path


def asked_id(switches: frozenset[Switch], routed: bytes) -> str | None:
    """The id a retrieve or delete answer echoes instead of the model's own: the segment as decoded once; else None."""
    if Switch.DECODE_TWICE not in switches or not routed.startswith(_MODELS):
        return None
    return routed[len(_MODELS) :].decode("utf-8", "replace")


def after_create(switches: frozenset[Switch]) -> tuple[ApiError, tuple[tuple[str, str], ...]] | None:
    """The error a deploy answers once it has created its model, and that error's headers; None to answer the model."""
    return next((failure for switch, failure in _AFTER_CREATE.items() if switch in switches), None)


@dataclass(slots=True)
class Colleague:
    """When a colleague's model turns up: ``COLLEAGUE_DELAY`` requests after the first deploy, in its namespace.

    State, not a record: the app notes the first deploy, then asks on every request whether the model is due.
    """

    due: int | None = None
    namespace: str = ""
    arrived: bool = False

    def deployed(self, request_number: int, namespace: str) -> None:
        if self.due is None:
            self.due = request_number + COLLEAGUE_DELAY
            self.namespace = namespace

    def arrives(self, request_number: int) -> str | None:
        """The namespace the colleague's model turns up in, once, when the request numbered so is due; else None."""
        if self.arrived or self.due is None or request_number < self.due:
            return None
        self.arrived = True
        return self.namespace


def redirect_location(
    switches: frozenset[Switch], model: Model, caller: str | None, base_url: str, prefix: str = ""
) -> str | None:
    """Where a DELETE of the caller's own custom model is sent instead of deleting it; None to delete as asked.

    ``prefix`` is the path the hub is served under (a gateway's), which a Location must keep.
    """
    if not switches & _REDIRECTS or model.is_base or caller is None or model.owned_by != caller:
        return None
    victim = preseeded_model_id(caller, "prod")
    if model.id == victim:
        # A client that follows the redirect must really reach, and delete, the victim.
        return None
    path = f"{prefix}/api/ai/models/{quote(victim, safe='')}"
    return base_url + path if Switch.REDIRECT_DELETE_ABSOLUTE in switches else path


def claimed_model(
    switches: frozenset[Switch], tx: Tx, fine_tune: FineTune, base: Model, step: int | None, created: int
) -> Model | None:
    """The model a deploy answers without creating anything; None to create one as asked."""
    if Switch.DEPLOY_EXISTING in switches:
        # The idempotent deploy: last month's model, as it stands now.
        stored = tx.get(preseeded_model_id(fine_tune.owner, "old"))
        return stored.model if stored is not None else preseeded_models(fine_tune.owner)[-1]
    if Switch.DEPLOY_ENCODED in switches:
        # The victim as it stands, under its id percent-encoded: a spelling no list shows, that names it once decoded.
        stored = tx.get(preseeded_model_id(fine_tune.owner, "prod"))
        victim = stored.model if stored is not None else preseeded_models(fine_tune.owner)[0]
        return replace(victim, id=quote(victim.id, safe=""))
    if Switch.DEPLOY_BASE in switches:
        return base
    for switch, model_id in _SLUGS:
        if switch in switches:
            return custom_model(
                base, model_id=model_id, fine_tune=fine_tune, step=step, created=created, status="active"
            )
    return None


async def drip(body: bytes, seconds: float) -> AsyncIterator[bytes]:
    """The body one byte at a time, each after a pause: the answer arrives, but never finishes in good time."""
    for index in range(len(body)):
        await anyio.sleep(seconds)
        yield body[index : index + 1]
