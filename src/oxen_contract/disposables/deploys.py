"""What provisioning keeps of each deploy, and what it tells a person of the models it made or could not place.

``OpenDeploy`` is one deploy whose outcome is not settled: the list read before it, and what each dated answer says of
when it was sent; from those it says whether the hub's clock places its window at all (``unplaceable``).
``Leak`` and ``Unsettled`` are the lines the end of the run prints: a model the run made that was still there, and a
deploy whose model the run could neither prove nor rule out. ``provisioning.py`` makes and reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .provenance import Candidate, HubTime, shown_candidates

__all__ = ["DATES_AGREE", "Leak", "Listing", "OpenDeploy", "Unsettled"]

# How far apart the Dates of one deploy's answers may put its send and still be one clock's: each Date is a whole
# second (one), the hub's clock and the run's tick apart between answers (one more; the local reference hub's clock
# ticks a second a request, and a deploy's list, answer and reconciling list are two ticks apart).
DATES_AGREE = 2.0


@dataclass(frozen=True, slots=True)
class Leak:
    """A model the run made that was still there at the end; ``deleted`` says whether cleanup removed it."""

    model_id: str
    deleted: bool
    detail: str
    curl: str

    def line(self) -> str:
        if self.deleted:
            return f"LEAK {self.model_id!r}: still there at the end of the run; deleted at cleanup ({self.detail})"
        return f"LEAK {self.model_id!r}: still on the hub ({self.detail}); delete it with: {self.curl}"


@dataclass(frozen=True, slots=True)
class Unsettled:
    """A deploy whose model the run could neither prove nor rule out: nothing was deleted; a person should look."""

    deploy: str
    detail: str
    candidates: tuple[Candidate, ...] = ()

    def line(self) -> str:
        named = f"; candidates: {shown_candidates(self.candidates)}" if self.candidates else ""
        return f"UNSETTLED {self.deploy}: {self.detail}; nothing was deleted{named} (check by hand)"

    def to_json(self) -> dict[str, Any]:
        return {
            "deploy": self.deploy,
            "detail": self.detail,
            "candidates": [{"id": c.model_id, "created": c.created} for c in self.candidates],
        }


@dataclass(frozen=True, slots=True)
class Listing:
    """The ids a list answer held, the hub's time of that answer, and when it arrived (``time.monotonic``)."""

    ids: frozenset[str]
    time: HubTime
    arrived: float = 0.0


@dataclass(slots=True)
class OpenDeploy:
    """A deploy this run sent whose outcome is not settled yet, and what each dated answer says of when it was sent."""

    attempt: int
    before: Listing
    # When the deploy was sent (``time.monotonic``): each later dated answer, less the time since, dates it too.
    sent: float = 0.0
    # The hub's time when the deploy's exchange ended (``Provisioner._dated``): the model it made was registered by
    # then, and one created later is late. None only while the deploy is under way.
    answered: HubTime | None = None
    # What each dated answer (the list before, the deploy's own) says the hub's clock read when the deploy was sent.
    estimates: list[float] = field(default_factory=list)
    # The same, of the lists read to reconcile the deploy: held against the others only (``spread``).
    cross_checks: list[float] = field(default_factory=list)

    def observe(self, when: HubTime, arrived: float) -> None:
        """Note a dated answer that arrived at ``arrived`` (``time.monotonic``)."""
        if when.from_hub:
            self.estimates.append(when.at - (arrived - self.sent))

    def cross_check(self, when: HubTime, arrived: float) -> None:
        """Note what a list read to reconcile says of the send, without dating the deploy by it."""
        if when.from_hub:
            self.cross_checks.append(when.at - (arrived - self.sent))

    def spread(self) -> float:
        """How far apart the hub's times of the send are that the deploy's dated answers give (0 for one or none)."""
        every = [*self.estimates, *self.cross_checks]
        return max(every) - min(every) if every else 0.0

    @property
    def sent_at(self) -> HubTime:
        """The hub's time when the deploy was sent: the latest any of its dated answers gives.

        The latest, because a stale Date (a cached list, a host whose clock lags) dates the deploy too early, which
        would let an older model pass for the deploy's; a Date too late only keeps the run from proving its own.
        """
        if not self.estimates:
            return self.before.time
        return HubTime(max(self.estimates), True)

    def unplaceable(self) -> str | None:
        """Why no clock places the deploy's window for sure (then reconciliation adopts nothing), or None.

        A window read off the runner's clock is off the hub's by up to --clock-skew; Dates that disagree about when the
        deploy was sent (a cached list with its old Date, a gateway with a clock of its own) may put it anywhere. Either
        way a colleague's model made just before or after the deploy could fall in it: it is named for a person.
        """
        answered = self.answered
        if not self.sent_at.from_hub or (answered is not None and not answered.from_hub):
            return "the hub sent no Date to place the deploy in time by its clock (the run's may be off it)"
        spread = self.spread()
        if spread > DATES_AGREE:
            return (
                f"the hub's Date headers disagree by {spread:.0f} s about when the deploy was sent (a cached answer, "
                "a gateway with a clock of its own): it cannot be placed in time"
            )
        return None
