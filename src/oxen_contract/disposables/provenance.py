"""Provenance: whether a model is the run's own, proved, before the run may delete it. The one rule, in one place.

Deleting the wrong model loses someone's work, and nothing a hub says alone proves who made a model: an idempotent
deploy answers last month's model, a list may hide models, a gateway answers 4xx or 5xx after the upstream deployed,
a proxy decodes a path twice. So a deploy answer's id is the run's only when every one of these holds:

1. the id is one a DELETE can only name as itself (``exchange.id_problem``: one path segment that decodes to itself);
2. it was not listed before the deploy, and no ledger entry of another run names it;
3. retrieve answers it, under that id, as a custom model of the run's namespace;
4. its ``created`` is not earlier than the hub's own time when the deploy was sent (the ``Date`` of the answer read
   just before it, or the run's clock where the hub sends none), less the clock skew allowed (``--clock-skew``), nor
   later than the hub's time of the retrieve plus that skew. A model created before the deploy is never the deploy's,
   whatever else agrees.

``--disposable-model`` ids, which a person names, need rules 1 and 3 only.

Reconciliation, for a deploy whose answer did not name its model (a timeout, a 4xx, a 5xx, a broken answer, an
interrupted run), looks for the one new custom model of the namespace whose ``created`` falls between the hub's time
before the deploy, less the skew, and the hub's time its exchange ended (its answer's ``Date``; with no whole answer,
the hub's time the deploy was sent plus the time the run waited for it); it adopts that one only if the hub's clock
placed the window (every answer of the deploy carried a ``Date``, and their ``Date`` s agree within two seconds about
when it was sent: a cached list or a gateway's own clock does not) and it then passes the rule above. More than one,
one that cannot be placed in time, one created after the deploy's exchange ended (an upstream that went on, or a
colleague: nothing tells which), or one in a window no clock placed is adopted by nobody: the run names them for a
person to check, and names at the end every model new since a deploy that was taken to have made nothing.
"""

from __future__ import annotations

import datetime
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from ..checking.exchange import DEPLOYED_ID, Exchange, curl_line, id_problem
from ..checking.failures import ProvisioningError
from ..checking.text import excerpt

__all__ = [
    "Candidate",
    "DeployEvidence",
    "HubTime",
    "Reconciled",
    "created_of",
    "deployed_id",
    "is_ours",
    "listed_models",
    "not_ours",
    "reconcile",
    "shown_candidates",
    "why_not_disposable",
    "why_not_the_deploys",
]


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class HubTime:
    """A moment by the hub's clock (the ``Date`` header of one of its answers), or by the run's where it sent none."""

    at: float
    from_hub: bool

    @classmethod
    def of(cls, answer: Exchange | None, clock: Callable[[], float] = time.time) -> HubTime:
        raw = answer.headers.get("date") if answer is not None else None
        if raw:
            try:
                when = parsedate_to_datetime(str(raw))
                at = when.timestamp() if when is not None and when.tzinfo is not None else None
            # Whatever a Date holds (an offset of twenty digits overflows), it is a Date the run cannot read.
            except (TypeError, ValueError, IndexError, OverflowError, OSError):
                at = None
            if at is not None:
                return cls(at, True)
        return cls(clock(), False)

    def describe(self) -> str:
        source = "the hub's Date" if self.from_hub else "the run's clock: the hub sent no Date"
        return f"{_iso(self.at)} by {source}"


@dataclass(frozen=True, slots=True)
class DeployEvidence:
    """What the run knew when it sent a deploy: what was listed, the hub's time, and what other runs named."""

    listed_before: frozenset[str]
    sent_at: HubTime
    foreign: frozenset[str]
    skew: float


def is_ours(model: Any, namespace: str | None) -> bool:
    """True when ``model`` is a custom model of ``namespace`` (never one of the hub's own, owned by ``oxen``)."""
    if not isinstance(model, dict):
        return False
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


def created_of(model: Any) -> int | None:
    """A model's ``created`` when it is a Unix time (an integer, not a bool), else None."""
    created = model.get("created") if isinstance(model, dict) else None
    return created if isinstance(created, int) and not isinstance(created, bool) else None


def why_not_disposable(model_id: str, retrieved: Exchange, namespace: str | None) -> str | None:
    """Why ``--disposable-model`` ``model_id`` may not be deleted (rules 1 and 3), or None."""
    return id_problem(model_id) or not_ours(retrieved, model_id, namespace)


def why_not_the_deploys(
    model_id: str, retrieved: Exchange, namespace: str | None, evidence: DeployEvidence
) -> str | None:
    """Why ``model_id`` is not proved to be the model the deploy made (rules 1 to 4), or None when it is."""
    problem = id_problem(model_id)
    if problem:
        return problem
    if model_id in evidence.listed_before:
        return "a model that was already listed before the deploy (the run did not make it)"
    if model_id in evidence.foreign:
        return "a model another run's ledger names (that run made it or saw it answered, not this one)"
    problem = not_ours(retrieved, model_id, namespace)
    if problem:
        return problem
    created = created_of(retrieved.json_or_none())
    if created is None:
        return "its `created` is not a Unix time, so it cannot be told from a model made before the deploy"
    # Whole seconds, as `created` is: a model made in the second the deploy was sent in is not "before" it.
    earliest = math.floor(evidence.sent_at.at - evidence.skew)
    if created < earliest:
        return (
            f"it was created at {_iso(created)}, before the deploy was sent ({evidence.sent_at.describe()}, less the "
            f"{evidence.skew:g} s of clock skew allowed): an existing model, not the deploy's"
        )
    now = HubTime.of(retrieved)
    if created > now.at + evidence.skew:
        return f"it was created at {_iso(created)}, after the hub's time of retrieving it ({now.describe()})"
    return None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A new custom model of the namespace that a deploy may have made, as the list showed it."""

    model_id: str
    created: Any

    def shown(self) -> str:
        when = _iso(self.created) if isinstance(self.created, int) and not isinstance(self.created, bool) else None
        return f"{self.model_id!r} (created {when or repr(self.created)})"


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What one reconciliation found: the new models placed in the deploy's window, and those it cannot place.

    ``late`` were created after the deploy was answered: an upstream that went on after its gateway answered, or a
    colleague's deploy; nothing tells which, so they keep anything from being adopted, as ``unplaced`` ones do.
    """

    placed: tuple[Candidate, ...]
    unplaced: tuple[Candidate, ...]
    window: tuple[float, float]
    late: tuple[Candidate, ...] = ()

    @property
    def nothing(self) -> bool:
        return not self.placed and not self.unplaced and not self.late

    @property
    def one(self) -> Candidate | None:
        """The one candidate that may be adopted (once proved); None when there are none, or too many to tell."""
        return self.placed[0] if len(self.placed) == 1 and not self.unplaced and not self.late else None

    @property
    def candidates(self) -> tuple[Candidate, ...]:
        return (*self.placed, *self.unplaced, *self.late)

    def window_shown(self) -> str:
        return f"between {_iso(self.window[0])} and {_iso(self.window[1])}"


def listed_models(answer: Exchange) -> list[Any] | None:
    """The models a list answer holds; None when it answered no list."""
    body = answer.json_or_none() if answer.status == 200 else None
    data = body.get("data") if isinstance(body, dict) else None
    return data if isinstance(data, list) else None


def reconcile(
    listed: Iterable[Any],
    namespace: str | None,
    *,
    snapshot: frozenset[str],
    known: Iterable[str],
    start: HubTime,
    end: HubTime,
    skew: float,
    answered: HubTime | None = None,
) -> Reconciled:
    """The new custom models of ``namespace`` a deploy sent at ``start`` may have made, by the list read at ``end``.

    New means: not in ``snapshot`` (listed before the deploy) nor ``known`` (made or named by a run). A model with a
    ``created`` outside the window was made by someone else, before or after; one with no Unix ``created`` cannot be
    placed. When the hub's time the deploy's exchange ended is known (``answered``: the Date of its 4xx or 5xx, or the
    time the run stopped waiting for it), the window ends there: a model created between then and the list read to
    reconcile is ``late``, never the deploy's for sure. (Across runs, ``end`` is already the end of the exchange.)
    """
    # `created` is in whole seconds, and so is a Date: the window starts on the second the deploy was sent in.
    earliest = math.floor(start.at - skew)
    # An answer ends the window on its own second, skew or not: a model created later may be an upstream's that went
    # on (its clock ahead of the gateway's) or a colleague's, and nothing tells which, so it is only ever named.
    window = (earliest, float(math.floor(answered.at))) if answered is not None else (earliest, end.at + skew)
    excluded = set(snapshot) | set(known)
    placed: list[Candidate] = []
    unplaced: list[Candidate] = []
    late: list[Candidate] = []
    for model in listed:
        if not is_ours(model, namespace) or model["id"] in excluded:
            continue
        created = created_of(model)
        if created is None:
            unplaced.append(Candidate(model["id"], model.get("created")))
        elif window[0] <= created <= window[1]:
            placed.append(Candidate(model["id"], created))
        elif window[1] < created <= end.at + skew:
            late.append(Candidate(model["id"], created))
    return Reconciled(tuple(placed), tuple(unplaced), window, tuple(late))


def deployed_id(answer: Exchange) -> str:
    """The model id a 200 deploy answer names (``DEPLOYED_ID``); a ProvisioningError that shows the answer if none."""
    path: Sequence[str] = DEPLOYED_ID.get(answer.operation, ("deployment", "model_slug"))
    problem: str | None = None
    try:
        value: Any = answer.json()
    except ValueError:
        value, problem = None, "answered a body that is not JSON"
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if problem is None and (not isinstance(value, str) or not value):
        problem = f"answered without a model id at {'.'.join(path)}"
    if problem:
        raise ProvisioningError(
            f"cannot provision a disposable model: {answer.method} {answer.path} {problem}\n"
            f"  body: {excerpt(answer.text)}\n"
            f"  reproduce with: {curl_line(answer.method, answer.url, answer.credential)}"
        )
    assert isinstance(value, str)
    return value


def shown_candidates(candidates: Sequence[Candidate]) -> str:
    return ", ".join(candidate.shown() for candidate in candidates) or "none"
