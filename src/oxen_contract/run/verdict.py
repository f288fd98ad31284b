"""The run's verdict: one outcome, its exit status and its summary line, decided from the facts of the run.

A red run must mean "the hub broke a documented promise" and a green one "every promise was checked and held", so
what went wrong is sorted before it is counted, and a contract failure seen while the hub answered is never hidden
behind what came after it:

=====================  ====  ======================================================================================
outcome                exit  when
=====================  ====  ======================================================================================
interrupted            2     the run was stopped (Ctrl-C): no verdict, only what cleanup did
contract violations    1     an answer broke a clause (a timeout counts: ``rule:answers-in-time``), whatever came after
suite error            70    the suite itself failed (an exception no rule explains): the tool's own fault
hub unavailable        75    the hub did not answer, or kept refusing service (EX_TEMPFAIL: try again later)
setup error            78    the contract could not be checked as configured: a fine-tune that cannot be deployed, a
                             key the hub refuses, a hub URL that is not the hub's root, --max-requests spent before
                             the tests ran, the delete operation unchecked (EX_CONFIG: fix the configuration)
partial pass           0     nothing failed, but the run checked less than the whole suite: the user narrowed it
                             (``-k``, ``-m``, node ids), or ``--allow-partial`` accepts what went unchecked
contract held          0     nothing failed, and every test ran, the delete operation's 200 and 404 answers checked
usage error            4     bad options or local files, before the run starts (pytest's own status)
=====================  ====  ======================================================================================

``decide`` is a pure function of ``RunFacts``, so that each branch is tested directly (``tests/unit/test_verdict.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "EXIT_HUB_UNAVAILABLE",
    "EXIT_INTERRUPTED",
    "EXIT_SETUP_ERROR",
    "EXIT_SUITE_ERROR",
    "REQUIRED_ANSWERS",
    "RunFacts",
    "Verdict",
    "decide",
    "skip_reasons",
]

EXIT_INTERRUPTED = 2
EXIT_SUITE_ERROR = 70  # EX_SOFTWARE: the tool's own fault
EXIT_HUB_UNAVAILABLE = 75
EXIT_SETUP_ERROR = 78
# The centre of the contract: a run that never saw these answers checked has not tested the API.
REQUIRED_ANSWERS = (("deleteModel", 200), ("deleteModel", 404))
# pytest's own result categories, in the order its summary line names them.
_CATEGORIES = ("failed", "passed", "skipped", "deselected", "xfailed", "xpassed", "error", "subtests passed")


@dataclass(slots=True)
class RunFacts:
    """What the plugin gathered over the session, sorted by kind."""

    live: bool
    replay: bool = False
    # The first time the hub was found down (unreachable, or answering 502/503/504 to its health probe).
    unavailable: str | None = None
    # Routes that kept answering 429 past their retries while the hub answered its probe.
    rate_limited: list[str] = field(default_factory=list)
    setup_errors: list[str] = field(default_factory=list)
    contract_failures: int = 0
    # Exceptions no rule explains: the suite's own faults, one line each.
    suite_errors: list[str] = field(default_factory=list)
    # pytest's counts, category by category, as its own summary line gives them.
    counts: dict[str, int] = field(default_factory=dict)
    # The user narrowed the run (-k, -m, --deselect, node ids, --lf): what they left out, in words; "" if not.
    narrowed: str = ""
    # Tests skipped because --max-requests was spent.
    budget_skips: int = 0
    # Why tests the run's settings left out skipped (no fine-tune, no second key, the deploy cap), each reason once.
    skip_reasons: list[str] = field(default_factory=list)
    # Why tests skipped for what the hub answered (no base model to probe, an id it refused): the run is partial.
    other_skips: list[str] = field(default_factory=list)
    # operation -> status -> answers checked
    answers: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    allow_partial: bool = False
    checks: int = 0
    # Under --strict-contract, what fails the run beyond a failed test (documented fields that stopped coming).
    strict_findings: list[str] = field(default_factory=list)
    # What the report holds for a person to look at: warnings, lenient inputs, drift, leaks, unsettled deploys.
    attention: list[str] = field(default_factory=list)
    interrupted: bool = False
    # What cleanup did, in words (interrupted runs say it instead of a verdict).
    cleanup: str = ""


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


def counted(counts: Mapping[str, int]) -> str:
    """The counts as pytest's summary line words them: ``85 passed, 2 xfailed, 6 subtests passed``."""
    known = [f"{counts[name]} {name}" for name in _CATEGORIES if counts.get(name)]
    others = [f"{count} {name}" for name, count in sorted(counts.items()) if name not in _CATEGORIES and count]
    return ", ".join(known + others) or "no tests ran"


def _tail(facts: RunFacts) -> str:
    """What every summary line ends with: what was checked, pytest's counts, and what the report holds to look at."""
    total = sum(sum(statuses.values()) for statuses in facts.answers.values())
    parts = [f"{facts.checks} checks over {total} answers", _coverage(facts.answers), counted(facts.counts)]
    if facts.attention:
        parts.append("the report holds " + ", ".join(facts.attention))
    return "; ".join(parts)


def _afterwards(facts: RunFacts) -> str:
    """What else happened, said after contract failures so that it never hides them."""
    said = []
    if facts.unavailable:
        said.append(f"the hub became unavailable: {facts.unavailable}")
    if facts.rate_limited:
        said.append(f"rate-limited (429 past retries while the hub answered): {', '.join(facts.rate_limited)}")
    if facts.suite_errors:
        said.append(f"{len(facts.suite_errors)} suite error(s): {facts.suite_errors[0]}")
    if facts.setup_errors:
        said.append(f"{len(facts.setup_errors)} setup error(s): {facts.setup_errors[0]}")
    if facts.budget_skips:
        said.append(f"{facts.budget_skips} test(s) skipped because --max-requests ran out")
    return "".join(f"; {line}" for line in said)


def _skipped(facts: RunFacts) -> str:
    """The skips the run's settings chose, named: a run holds without them, and says so."""
    if not facts.skip_reasons:
        return ""
    shown = "; ".join(facts.skip_reasons[:2]) + (
        f"; and {len(facts.skip_reasons) - 2} more" if len(facts.skip_reasons) > 2 else ""
    )
    return f"; skipped: {shown}"


def _unchecked_advice(facts: RunFacts, missing: tuple[str, ...]) -> str:
    what = f"{', '.join(missing)} answers were never checked, so the delete operation, the centre of the contract, was "
    if facts.replay:
        return what + "not tested: the cassettes hold none of them (re-record them: tox -e record)"
    return what + (
        "not tested: give the run a disposable model (--fine-tune or --disposable-model), or pass --allow-partial"
    )


def decide(facts: RunFacts, exit_status: int) -> Verdict:
    """The verdict of a run that pytest would end with ``exit_status``."""
    tail = _tail(facts)
    missing = unchecked(facts.answers)
    failed = _when_something_failed(facts, exit_status, tail, missing)
    return failed if failed is not None else _when_nothing_failed(facts, tail, missing)


def _when_something_failed(facts: RunFacts, exit_status: int, tail: str, missing: tuple[str, ...]) -> Verdict | None:
    """The verdict of a run that was interrupted, or where the hub, the suite or the run's set-up failed; else None."""
    if facts.interrupted:
        return Verdict("interrupted", EXIT_INTERRUPTED, f"INTERRUPTED: no verdict; {facts.cleanup or 'no cleanup'}")
    if facts.contract_failures or facts.strict_findings:
        failed = f"{facts.contract_failures} test(s) found a violation" if facts.contract_failures else ""
        strict = f"(--strict-contract) {'; '.join(facts.strict_findings)}" if facts.strict_findings else ""
        found = " and ".join(part for part in (failed, strict) if part)
        return Verdict("contract violations", 1, f"CONTRACT VIOLATIONS: {found}{_afterwards(facts)} ({tail})", missing)
    if facts.suite_errors:
        return Verdict(
            "suite error",
            EXIT_SUITE_ERROR,
            f"SUITE ERROR: the suite itself failed, not the hub: {facts.suite_errors[0]} (its traceback is in the "
            f"test's report above and in the JUnit XML; please report it){_afterwards(facts)} ({tail})",
            missing,
        )
    if facts.unavailable or facts.rate_limited:
        why = facts.unavailable or f"rate-limited (429 past retries while the hub answered): {facts.rate_limited[0]}"
        return Verdict(
            "hub unavailable",
            EXIT_HUB_UNAVAILABLE,
            f"HUB UNAVAILABLE: {why}; no contract failure was seen while it answered ({tail})",
            missing,
        )
    if facts.setup_errors:
        return Verdict(
            "setup error",
            EXIT_SETUP_ERROR,
            f"SETUP ERROR: the contract could not be checked: {facts.setup_errors[0]} ({tail})",
            missing,
        )
    if exit_status not in (0, 1, 5):
        return Verdict("run did not complete", exit_status, f"the run ended with pytest status {exit_status}", missing)
    return None


def _when_nothing_failed(facts: RunFacts, tail: str, missing: tuple[str, ...]) -> Verdict:
    """The verdict of a run where nothing failed: held, or partial, or a set-up error if it checked too little."""
    if facts.budget_skips and not facts.allow_partial:
        return Verdict(
            "setup error",
            EXIT_SETUP_ERROR,
            f"SETUP ERROR: {facts.budget_skips} test(s) skipped because --max-requests ran out, so the run checked "
            f"less than it meant to: raise --max-requests, or pass --allow-partial ({tail})",
            missing,
        )
    if facts.narrowed:
        left = f"; {', '.join(missing)} answers went unchecked" if missing else ""
        return Verdict(
            "partial pass",
            0,
            f"PARTIAL PASS (narrowed: {facts.narrowed}): nothing failed{left}{_skipped(facts)} ({tail})",
            missing,
        )
    if facts.other_skips:
        shown = "; ".join(facts.other_skips[:2]) + (
            f"; and {len(facts.other_skips) - 2} more" if len(facts.other_skips) > 2 else ""
        )
        left = f"; {', '.join(missing)} answers went unchecked" if missing else ""
        return Verdict(
            "partial pass",
            0,
            f"PARTIAL PASS: nothing failed, but test(s) could not run against this hub: {shown}{left} ({tail})",
            missing,
        )
    if missing and not facts.allow_partial:
        return Verdict(
            "setup error",
            EXIT_SETUP_ERROR,
            f"SETUP ERROR: nothing failed, but {_unchecked_advice(facts, missing)} ({tail})",
            missing,
        )
    if missing or facts.budget_skips:
        spent = f"{facts.budget_skips} test(s) skipped when --max-requests ran out" if facts.budget_skips else ""
        unseen = f"{', '.join(missing)} answers were never checked" if missing else ""
        gaps = " and ".join(part for part in (spent, unseen) if part)
        return Verdict(
            "partial pass", 0, f"PARTIAL PASS (--allow-partial): nothing failed, but {gaps} ({tail})", missing
        )
    return Verdict("contract held", 0, f"CONTRACT HELD: {tail}{_skipped(facts)}")


def skip_reasons(reasons: Sequence[str]) -> dict[str, int]:
    """Skip reasons, most frequent first."""
    counted_reasons: dict[str, int] = {}
    for reason in reasons:
        counted_reasons[reason] = counted_reasons.get(reason, 0) + 1
    return dict(sorted(counted_reasons.items(), key=lambda item: -item[1]))
