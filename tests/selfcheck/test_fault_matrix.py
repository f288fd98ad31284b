"""The fault matrix: every fault fails the contract suite, naming its clause; nothing else fails it; no lure harms.

Each fault of the local hub must fail the suite with a message that names the broken clause; the hub without faults
and every benign variant must pass it. A strict-only fault must pass by default and fail under ``--strict-contract``,
naming its clause. Against each hostile hub the suite must reach a verdict, and the hub's audit must show no harm.
Each verdict case (issue 19) must end with its exit status and the words of its summary line, without a crash or harm.
One test per row; run them with ``OXEN_SELFCHECK=1 pytest tests/selfcheck -n 2``. Rows other than hostile ones also
run plain schemathesis for the report, without asserting anything about it (``OXEN_SELFCHECK_SCHEMATHESIS=0``
leaves it out, and the report says "not run").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oxen_contract.hub import FAULTS
from oxen_contract.selfcheck import NO_FAULT, Outcome, run_row
from oxen_contract.selfcheck.expected import KNOWN_MISSES
from oxen_contract.selfcheck.rows import SuiteRun, exit_words, write_outcome
from oxen_contract.selfcheck.verdicts import KNOWN_VERDICT_FAILURES, VERDICT_CASES

from .session import FIRST_FAILURE, PLAIN_SCHEMATHESIS

pytestmark = pytest.mark.selfcheck

# A known miss may fail (not strict: the suite catches it in some runs); once it is caught every time, drop the entry.
HARMFUL = [
    pytest.param(
        fault.name,
        marks=[pytest.mark.xfail(strict=False, reason=KNOWN_MISSES[fault.name])] if fault.name in KNOWN_MISSES else [],
    )
    for fault in FAULTS
    if fault.kind == "fault"
]
STRICT_ONLY = [fault.name for fault in FAULTS if fault.kind == "strict-only"]
BENIGN = [fault.name for fault in FAULTS if fault.benign]
HOSTILE = [fault.name for fault in FAULTS if fault.kind == "hostile"]
# As for a known miss: a case the suite is known to end wrongly may fail, until it ends as demanded every time.
VERDICTS = [
    pytest.param(
        case.name,
        marks=[pytest.mark.xfail(strict=False, reason=KNOWN_VERDICT_FAILURES[case.name])]
        if case.name in KNOWN_VERDICT_FAILURES
        else [],
    )
    for case in VERDICT_CASES
]


def _row(name: str, request: pytest.FixtureRequest, outcomes_dir: Path) -> Outcome:
    root = Path(str(request.config.rootpath))
    outcome = run_row(name, schemathesis=PLAIN_SCHEMATHESIS, root=root, first_failure=FIRST_FAILURE)
    write_outcome(outcome, outcomes_dir)
    return outcome


def _run(label: str, run: SuiteRun | None) -> str:
    if run is None:
        return f"{label}: not run\n"
    return (
        f"{label}: {exit_words(run.exit_code)}; named {list(run.clauses)}; failed {list(run.failed_tests)}\n"
        f"  {run.verdict_line or '(no verdict line)'}\n--- output tail ---\n{run.tail}\n"
    )


def _explain(outcome: Outcome) -> str:
    text = f"{outcome.name} ({outcome.kind}): {outcome.verdict}; expected one of {list(outcome.expected)}\n"
    if outcome.check is not None:
        check = outcome.check
        text += f"must end {exit_words(check.exit_status)} saying {list(check.words)}; missing {list(check.missing)}"
        text += f"; shown {list(check.shown)}\n"
    if outcome.safety is not None and not outcome.safety.safe:
        text += f"harm: {list(outcome.safety.harm)}\n"
    return text + _run("suite", outcome.suite) + (_run("--strict-contract", outcome.strict) if outcome.strict else "")


def test_suite_passes_against_the_hub_without_faults(request: pytest.FixtureRequest, outcomes_dir: Path) -> None:
    outcome = _row(NO_FAULT, request, outcomes_dir)
    assert outcome.verdict == "passed", _explain(outcome)


@pytest.mark.parametrize("fault", HARMFUL)
def test_suite_fails_and_names_the_clause_the_fault_breaks(
    fault: str, request: pytest.FixtureRequest, outcomes_dir: Path
) -> None:
    outcome = _row(fault, request, outcomes_dir)
    assert outcome.verdict == "caught", _explain(outcome)


@pytest.mark.parametrize("fault", STRICT_ONLY)
def test_suite_passes_a_strict_only_fault_by_default_and_names_its_clause_under_strict_contract(
    fault: str, request: pytest.FixtureRequest, outcomes_dir: Path
) -> None:
    outcome = _row(fault, request, outcomes_dir)
    assert outcome.suite.exit_code == 0, _explain(outcome)
    assert outcome.verdict == "caught", _explain(outcome)


@pytest.mark.parametrize("variant", BENIGN)
def test_suite_raises_no_false_alarm_on_a_benign_variant(
    variant: str, request: pytest.FixtureRequest, outcomes_dir: Path
) -> None:
    outcome = _row(variant, request, outcomes_dir)
    assert outcome.verdict == "passed", _explain(outcome)


@pytest.mark.parametrize("hub", HOSTILE)
def test_suite_reaches_a_verdict_against_a_hostile_hub_and_does_no_harm(
    hub: str, request: pytest.FixtureRequest, outcomes_dir: Path
) -> None:
    outcome = _row(hub, request, outcomes_dir)
    assert outcome.safety is not None and outcome.safety.safe, _explain(outcome)
    assert outcome.verdict == "safe", _explain(outcome)


@pytest.mark.parametrize("case", VERDICTS)
def test_suite_ends_each_verdict_case_with_its_exit_status_and_summary_line(
    case: str, request: pytest.FixtureRequest, outcomes_dir: Path
) -> None:
    outcome = _row(case, request, outcomes_dir)
    assert outcome.verdict == "held", _explain(outcome)
