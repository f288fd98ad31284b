"""The run's verdict: one of five outcomes, its exit status, its summary line and its report header.

A red run must mean "the hub broke a documented promise" and a green one "every promise was checked and held", so
what went wrong is sorted before it is counted:

======================  ====  =====================================================================================
outcome                 exit  when
======================  ====  =====================================================================================
contract held           0     no failure, and the delete operation's 200 and 404 answers were both checked
partial pass            0     as above but something the verdict needs went unchecked, and ``--allow-partial`` says
                              that is fine; the summary line names what
contract violations     1     an answer broke a clause (or the suite refused to send what a hub lured it to)
hub unavailable         75    the hub did not answer, or kept refusing service (EX_TEMPFAIL: try again later)
setup error             78    the run could not check the contract: a fine-tune that cannot be deployed, a deploy
                              answer naming no usable model, a key the hub refuses on the list; or the delete
                              operation went unchecked (EX_CONFIG: fix the configuration)
usage error             4     bad options, before the run starts (pytest's own status)
======================  ====  =====================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "EXIT_HUB_UNAVAILABLE",
    "EXIT_SETUP_ERROR",
    "REQUIRED_ANSWERS",
    "RunFacts",
    "Verdict",
    "decide",
]

EXIT_HUB_UNAVAILABLE = 75
EXIT_SETUP_ERROR = 78
# The centre of the contract: a run that never saw these answers checked has not tested the API.
REQUIRED_ANSWERS = (("deleteModel", 200), ("deleteModel", 404))


@dataclass(slots=True)
class RunFacts:
    """What the plugin gathered over the session, sorted by kind."""

    live: bool
    unavailable: str | None = None
    setup_errors: list[str] = field(default_factory=list)
    contract_failures: int = 0
    other_failures: int = 0
    passed: int = 0
    skipped: int = 0
    # operation -> status -> answers checked
    answers: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    allow_partial: bool = False
    checks: int = 0
    # Under --strict-contract, what fails the run beyond a failed test (documented fields no answer carried).
    strict_findings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: str
    exit_status: int
    summary: str
    unchecked: tuple[str, ...] = ()


def unchecked(answers: Mapping[str, Mapping[int, int]]) -> tuple[str, ...]:
    return tuple(
        f"{operation} {status}" for operation, status in REQUIRED_ANSWERS if not answers.get(operation, {}).get(status)
    )


def _coverage(answers: Mapping[str, Mapping[int, int]]) -> str:
    delete = answers.get("deleteModel", {})
    shown = ", ".join(f"{status}×{count}" for status, count in sorted(delete.items())) or "none"
    return f"deleteModel answers checked: {shown}"


def decide(facts: RunFacts, exit_status: int) -> Verdict:
    """The verdict of a run that pytest would end with ``exit_status``."""
    total = sum(sum(statuses.values()) for statuses in facts.answers.values())
    checked = f"{facts.checks} checks over {total} answers; {_coverage(facts.answers)}"
    missing = unchecked(facts.answers)
    if facts.unavailable:
        return Verdict(
            "hub unavailable",
            EXIT_HUB_UNAVAILABLE,
            f"HUB UNAVAILABLE: {facts.unavailable}; the failures are not contract violations ({checked})",
        )
    failures = facts.contract_failures + facts.other_failures
    if facts.strict_findings and not failures:
        return Verdict(
            "contract violations",
            1,
            f"CONTRACT VIOLATIONS (--strict-contract): {'; '.join(facts.strict_findings)} ({checked})",
            missing,
        )
    if failures:
        setup = f"; and {len(facts.setup_errors)} setup error(s): {facts.setup_errors[0]}" if facts.setup_errors else ""
        return Verdict(
            "contract violations",
            1,
            f"CONTRACT VIOLATIONS: {failures} test(s) failed ({checked}){setup}",
            missing,
        )
    if facts.setup_errors:
        return Verdict(
            "setup error",
            EXIT_SETUP_ERROR,
            f"SETUP ERROR: the contract could not be checked: {facts.setup_errors[0]} ({checked})",
            missing,
        )
    if exit_status not in (0, 1):
        return Verdict("run did not complete", exit_status, f"the run ended with pytest status {exit_status}", missing)
    if missing and not facts.allow_partial:
        return Verdict(
            "setup error",
            EXIT_SETUP_ERROR,
            f"SETUP ERROR: nothing failed, but {', '.join(missing)} answers were never checked, so the delete "
            "operation, the centre of the contract, was not tested: give the run a disposable model (--fine-tune or "
            f"--disposable-model), or pass --allow-partial ({checked})",
            missing,
        )
    if missing:
        return Verdict(
            "partial pass",
            0,
            f"PARTIAL PASS (--allow-partial): nothing failed, but {', '.join(missing)} answers were never checked "
            f"({checked})",
            missing,
        )
    return Verdict("contract held", 0, f"CONTRACT HELD: {checked}; {facts.passed} test(s) passed")


def skip_reasons(reasons: Sequence[str]) -> dict[str, int]:
    """Skip reasons, most frequent first."""
    counted: dict[str, int] = {}
    for reason in reasons:
        counted[reason] = counted.get(reason, 0) + 1
    return dict(sorted(counted.items(), key=lambda item: -item[1]))
