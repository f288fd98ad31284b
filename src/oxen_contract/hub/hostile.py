"""What a hostile hub does instead of the truth: the victims it seeds, where it redirects, which model it claims.

The hostile faults do not break a documented rule; they bait a suite into harm against a real hub: deleting a model
it did not make, deploying past its limit, or waiting without end. Each needs victims the suite did not create, so a
hostile hub (or the benign crowded variant) seeds two custom models in every namespace. The app asks this module
only where a fault's switch is on, so a hub without them answers exactly as before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from urllib.parse import quote

import anyio

from .catalog import preseeded_model_id, preseeded_models, sandbox_fine_tune
from .faults import Switch
from .records import ApiError, FineTune, Model, custom_model
from .store import Store, Tx

# The drip fault's default pause between two bytes of a retrieve answer.
DRIP_SECONDS = 0.4
UPSTREAM_TIMEOUT = ApiError(503, "unknown_error", "upstream timed out")
_REDIRECTS = frozenset({Switch.REDIRECT_DELETE, Switch.REDIRECT_DELETE_ABSOLUTE})
_SLUGS = ((Switch.DEPLOY_DOT, "."), (Switch.DEPLOY_DOTDOT, ".."))


def seed_crowd(store: Store, namespaces: Iterable[str]) -> None:
    """Give every namespace its pre-seeded models; a reopened file keeps them as they were, even deleted."""
    with store.write() as tx:
        for namespace in sorted(set(namespaces)):
            fine_tune = sandbox_fine_tune(namespace)
            for model in preseeded_models(namespace):
                tx.add_custom(model, fine_tune, None, seed=True)


def redirect_location(switches: frozenset[Switch], model: Model, caller: str | None, base_url: str) -> str | None:
    """Where a DELETE of the caller's own custom model is sent instead of deleting it; None to delete as asked."""
    if not switches & _REDIRECTS or model.is_base or caller is None or model.owned_by != caller:
        return None
    victim = preseeded_model_id(caller, "prod")
    if model.id == victim:
        # A client that follows the redirect must really reach, and delete, the victim.
        return None
    path = f"/api/ai/models/{quote(victim, safe='')}"
    return base_url + path if Switch.REDIRECT_DELETE_ABSOLUTE in switches else path


def claimed_model(
    switches: frozenset[Switch], tx: Tx, fine_tune: FineTune, base: Model, step: int | None, created: int
) -> Model | None:
    """The model a deploy answers without creating anything; None to create one as asked."""
    if Switch.DEPLOY_EXISTING in switches:
        # The idempotent deploy: last month's model, as it stands now.
        stored = tx.get(preseeded_model_id(fine_tune.owner, "old"))
        return stored.model if stored is not None else preseeded_models(fine_tune.owner)[-1]
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
