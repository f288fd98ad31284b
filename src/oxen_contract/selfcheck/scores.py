"""The self-check's scores: how many rows of each kind are as they must be, and whether all of them are.

``Scores.perfect`` is what ``python -m oxen_contract.selfcheck`` exits 0 on; the report (``report.py``) prints the
scores as its last table, beside plain schemathesis's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .expected import KNOWN_MISSES
from .rows import NO_FAULT, Outcome
from .verdicts import KNOWN_VERDICT_FAILURES

__all__ = ["Scores", "baseline_row", "new_failures", "scores"]


@dataclass(frozen=True, slots=True)
class Scores:
    faults: int
    benign: int
    suite_caught: int
    # Faults of expected.KNOWN_MISSES that the suite still misses.
    suite_known_misses: int
    suite_false_alarms: int
    st_caught: int | None
    st_caught_new: int | None
    st_false_alarms: int | None
    st_false_alarms_new: int | None
    baseline_suite_passes: bool | None
    baseline_st_passes: bool | None
    # Strict-only faults: how many passed the default run, and how many --strict-contract then caught.
    strict_only: int = 0
    strict_passed_by_default: int = 0
    strict_caught: int = 0
    # Hostile hubs: how many ended with a verdict (exit 1 or 78), and how many did so without harm.
    hostile: int = 0
    hostile_verdicts: int = 0
    hostile_safe: int = 0
    # Verdict cases: how many ended as they must, and how many of the rest are known to end wrongly.
    verdict_cases: int = 0
    verdicts_held: int = 0
    verdict_known_failures: int = 0

    @property
    def perfect(self) -> bool:
        """Every row as it must be, but the known misses.

        Every fault caught, no false alarm, every strict-only fault passed by default and caught under
        --strict-contract, every hostile hub safe, every verdict case held, and the hub without faults passes.
        """
        return (
            self.suite_caught + self.suite_known_misses == self.faults
            and self.suite_false_alarms == 0
            and self.strict_caught == self.strict_passed_by_default == self.strict_only
            and self.hostile_safe == self.hostile
            and self.verdicts_held + self.verdict_known_failures == self.verdict_cases
            and self.baseline_suite_passes is not False
        )


def baseline_row(outcomes: Sequence[Outcome]) -> Outcome | None:
    return next((o for o in outcomes if o.name == NO_FAULT), None)


def new_failures(outcome: Outcome, baseline: Outcome | None) -> tuple[str, ...]:
    """Plain schemathesis failures the hub without faults does not provoke: the ones this row's fault explains."""
    if outcome.schemathesis is None:
        return ()
    known = set(baseline.schemathesis.failures) if baseline and baseline.schemathesis else set()
    return tuple(f for f in outcome.schemathesis.failures if f not in known)


def scores(outcomes: Sequence[Outcome]) -> Scores:
    harmful = [o for o in outcomes if o.harmful]
    benign = [o for o in outcomes if o.benign]
    base = baseline_row(outcomes)
    with_st = all(o.schemathesis is not None for o in (*harmful, *benign))

    def st_count(rows: Iterable[Outcome], new: bool) -> int | None:
        if not with_st:
            return None
        return sum(1 for o in rows if o.schemathesis and (new_failures(o, base) if new else o.schemathesis.exit_code))

    strict = [o for o in outcomes if o.kind == "strict-only"]
    hostile = [o for o in outcomes if o.kind == "hostile"]
    cases = [o for o in outcomes if o.kind == "verdict"]
    return Scores(
        faults=len(harmful),
        benign=len(benign),
        suite_caught=sum(o.verdict == "caught" for o in harmful),
        suite_known_misses=sum(o.verdict == "missed" and o.name in KNOWN_MISSES for o in harmful),
        suite_false_alarms=sum(not o.ok for o in benign),
        st_caught=st_count(harmful, new=False),
        st_caught_new=st_count(harmful, new=True),
        st_false_alarms=st_count(benign, new=False),
        st_false_alarms_new=st_count(benign, new=True),
        baseline_suite_passes=None if base is None else base.ok,
        baseline_st_passes=None if base is None or base.schemathesis is None else base.schemathesis.exit_code == 0,
        strict_only=len(strict),
        strict_passed_by_default=sum(o.suite.exit_code == 0 for o in strict),
        strict_caught=sum(o.verdict == "caught" for o in strict),
        hostile=len(hostile),
        hostile_verdicts=sum(o.suite.exit_code in (1, 78) for o in hostile),
        hostile_safe=sum(o.verdict == "safe" for o in hostile),
        verdict_cases=len(cases),
        verdicts_held=sum(o.ok for o in cases),
        verdict_known_failures=sum(not o.ok and o.name in KNOWN_VERDICT_FAILURES for o in cases),
    )
