"""The fault matrix: every fault fails the contract suite, naming its clause; nothing else fails it.

Each fault of the local hub must fail the suite with a message that names the broken clause; the hub without faults
and every benign variant must pass it. One test per row; run them with ``OXEN_SELFCHECK=1 pytest tests/selfcheck -n
2``. Each row also runs plain schemathesis for the report, without asserting anything about it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oxen_contract.hub import FAULTS
from oxen_contract.selfcheck import NO_FAULT, Outcome, run_case
from oxen_contract.selfcheck.expected import KNOWN_MISSES
from oxen_contract.selfcheck.report import write_outcome

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
BENIGN = [fault.name for fault in FAULTS if fault.benign]


def _row(name: str, request: pytest.FixtureRequest, outcomes_dir: Path) -> Outcome:
    outcome = run_case(name, root=Path(str(request.config.rootpath)))
    write_outcome(outcome, outcomes_dir)
    return outcome


def _explain(outcome: Outcome) -> str:
    suite = outcome.suite
    return (
        f"{outcome.name}: {outcome.verdict} (exit {suite.exit_code}); expected one of {list(outcome.expected)}, "
        f"named {list(suite.clauses)}; failed {list(suite.failed_tests)}\n--- output tail ---\n{suite.tail}"
    )


def test_suite_passes_against_the_hub_without_faults(request: pytest.FixtureRequest, outcomes_dir: Path) -> None:
    outcome = _row(NO_FAULT, request, outcomes_dir)
    assert outcome.verdict == "passed", _explain(outcome)


@pytest.mark.parametrize("fault", HARMFUL)
def test_suite_fails_and_names_the_clause_the_fault_breaks(
    fault: str, request: pytest.FixtureRequest, outcomes_dir: Path
) -> None:
    outcome = _row(fault, request, outcomes_dir)
    assert outcome.verdict == "caught", _explain(outcome)


@pytest.mark.parametrize("variant", BENIGN)
def test_suite_raises_no_false_alarm_on_a_benign_variant(
    variant: str, request: pytest.FixtureRequest, outcomes_dir: Path
) -> None:
    outcome = _row(variant, request, outcomes_dir)
    assert outcome.verdict == "passed", _explain(outcome)
