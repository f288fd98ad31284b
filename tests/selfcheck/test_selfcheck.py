"""The self-check's own machinery, offline: the fault -> clause table, output parsing, the report and the CLI.

The matrix itself is slow (``test_fault_matrix.py``); these tests are fast and always run, so that a fault added to
the hub's catalog without a clause id, or a clause id that is not a row of SOURCES.md, fails at once.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from oxen_contract.contracts import load_contract
from oxen_contract.hub import FAULTS
from oxen_contract.hub.faults import Fault, Reply
from oxen_contract.hub.records import ApiError
from oxen_contract.selfcheck import EXPECTED_CLAUSES, NO_FAULT, Outcome
from oxen_contract.selfcheck.expected import KNOWN_MISSES, UNREACHED_BY_DESIGN
from oxen_contract.selfcheck.report import (
    covered_clauses,
    load_outcomes,
    render,
    scores,
    unreached_clauses,
    write_outcome,
    write_report,
)
from oxen_contract.selfcheck.runner import SchemathesisRun, SuiteRun, clauses_named, failed_tests

from ..schemas.instances import BASE_MODEL, CUSTOM_MODEL

SUITE_OUTPUT = """\
tests/contract/test_operations.py::test_models_operation_answers_within_its_contract[GET /api/ai/models] PASSED
tests/contract/test_delete_lifecycle.py::test_delete_lifecycle_keeps_the_documented_promises FAILED [ 40%]
=================================== FAILURES ===================================
_____________ test_delete_lifecycle_keeps_the_documented_promises ______________
E   oxen_contract.failures.ContractFailure: Contract violation in deleteModel: DELETE /api/ai/models/x, id 'x'
E     answered 200 application/json
E     clause model.schema.json#/required: `created`, `id`, `object`, `owned_by` are required
E       expected at /: ["created"]
  | E             clause rule:answer-matches-contract: a 200 answers the operation's documented schema
    |   clause rule:answers-in-time
=========================== short test summary info ============================
FAILED tests/contract/test_delete_lifecycle.py::test_delete_lifecycle_keeps_the_documented_promises - oxen_contract...
SUBFAILED tests/contract/test_operations.py::test_fuzzed_delete[DELETE /api/ai/models/{id}]
========================= 1 failed, 2 passed in 3.04s ==========================
"""


def _suite(code: int, clauses: tuple[str, ...] = (), caught_by: str | None = None) -> SuiteRun:
    return SuiteRun(code, 5.0, 2.0 if code else None, clauses, (caught_by,) if caught_by else (), caught_by, "")


def _outcome(name: str, code: int, clauses: tuple[str, ...] = (), *, st: int = 1, benign: bool = False) -> Outcome:
    expected = EXPECTED_CLAUSES.get(name, ())
    plain = SchemathesisRun(st, 6.0, ("ST103 Undocumented status code: DELETE /x",) if st else (), "")
    return Outcome(name, benign, "rule in words", expected, _suite(code, clauses, "tests/x.py::t"), plain)


def test_every_fault_of_the_catalog_has_a_clause_to_name() -> None:
    harmful = {fault.name for fault in FAULTS if fault.kind == "fault"}
    assert sorted(harmful - set(EXPECTED_CLAUSES)) == [], "add these faults to selfcheck/expected.py"
    assert sorted(set(EXPECTED_CLAUSES) - harmful) == [], "these rows name no harmful fault of the catalog"


@pytest.mark.parametrize("fault", sorted(EXPECTED_CLAUSES))
def test_every_expected_clause_is_a_row_of_sources(fault: str) -> None:
    rules = load_contract().rules()
    assert EXPECTED_CLAUSES[fault], f"{fault} has no clause"
    assert [clause for clause in EXPECTED_CLAUSES[fault] if clause not in rules] == []


# What each operation's 200 answer must meet, as the suite checks it (checks.OPERATION_CONTRACTS).
_ANSWER_CONTRACTS = {
    "list": "model-list",
    "search": "search-answer",
    "retrieve": "model",
    "activate": "model",
    "deactivate": "model",
    "delete": "model",
}
# One error of each kind the hub answers: 401, 404, another 4xx, and refusals (a model you may not change).
_ERRORS = (
    ApiError(401, "unauthenticated", "A valid bearer token is required"),
    ApiError(404, "resource_not_found", "Model not found: x", model_id="x"),
    ApiError(400, "invalid_params", "Query parameter 'search' is required"),
    ApiError(400, "invalid_params", "Base models cannot be deleted: gpt-4o", refusal=True, model_id="gpt-4o"),
    ApiError(404, "resource_not_found", "Model not found: y", refusal=True, model_id="y"),
)


def _clauses_broken_offline(fault: Fault) -> set[str]:
    """The schema clauses the fault's bends break, on a custom and a base model and on one error of each kind."""
    contract = load_contract()
    named: set[str] = set()
    for operation in sorted(fault.ops & set(_ANSWER_CONTRACTS)):
        models = [copy.deepcopy(CUSTOM_MODEL), copy.deepcopy(BASE_MODEL)]
        if fault.model is not None:
            models = [fault.model(model) for model in models]
        listing = operation in ("list", "search")
        for payload in [{"object": "list", "data": models}] if listing else models:
            reply = Reply(200, payload)
            if fault.reply is not None:
                reply = fault.reply(reply)
            if reply.status == 200 and reply.raw is None:
                named |= {v.clause for v in contract.violations(_ANSWER_CONTRACTS[operation], reply.payload)}
    if fault.error_info is not None or fault.error_body is not None:
        for error in _ERRORS:
            error = fault.error_info(error) if fault.error_info is not None else error
            body = fault.error_body(error) if fault.error_body is not None else error.to_json()
            named |= {v.clause for v in contract.violations("error", body)}
    return named


@pytest.mark.parametrize("fault", [fault for fault in FAULTS if fault.kind == "fault"], ids=lambda fault: fault.name)
def test_every_schema_clause_a_fault_is_mapped_to_is_broken_by_its_bends(fault: Fault) -> None:
    # The hub never reads the contracts; here its bends meet them offline, so the table cannot drift from the schemas.
    expected = {clause for clause in EXPECTED_CLAUSES[fault.name] if ".schema.json#" in clause}
    broken = _clauses_broken_offline(fault)
    assert expected <= broken, f"bends break {sorted(broken)}; not {sorted(expected - broken)}"


def test_clause_ids_are_read_from_failure_messages_whatever_the_traceback_prefix() -> None:
    assert clauses_named(SUITE_OUTPUT) == (
        "model.schema.json#/required",
        "rule:answer-matches-contract",
        "rule:answers-in-time",
    )


def test_failed_test_ids_are_read_from_the_short_summary() -> None:
    assert failed_tests(SUITE_OUTPUT) == (
        "tests/contract/test_delete_lifecycle.py::test_delete_lifecycle_keeps_the_documented_promises",
        "tests/contract/test_operations.py::test_fuzzed_delete[DELETE /api/ai/models/{id}]",
    )


def test_a_fault_counts_as_caught_only_when_its_clause_is_named() -> None:
    name = "delete-missing-created"
    assert _outcome(name, 1, ("model.schema.json#/required",)).verdict == "caught"
    assert _outcome(name, 1, ("rule:no-server-error",)).verdict == "unnamed"
    assert _outcome(name, 0).verdict == "missed"
    assert _outcome(name, 2).verdict == "error"
    assert _outcome("extra-fields", 1, benign=True).verdict == "false alarm"
    assert _outcome(NO_FAULT, 0).verdict == "passed"


def test_report_prints_both_scores_and_counts_schemathesis_failures_beyond_the_clean_hub(tmp_path: Path) -> None:
    outcomes = [
        _outcome(NO_FAULT, 0, st=1),
        _outcome("delete-missing-created", 1, ("model.schema.json#/required",), st=0),
        _outcome("delete-answers-500", 0, st=1),
        _outcome("extra-fields", 0, st=1, benign=True),
    ]
    score = scores(outcomes)
    assert (score.faults, score.suite_caught, score.benign, score.suite_false_alarms) == (2, 1, 1, 0)
    assert (score.st_caught, score.st_caught_new, score.st_false_alarms, score.st_false_alarms_new) == (1, 0, 1, 0)
    assert not score.perfect
    text = write_report(outcomes, tmp_path / "r.md", wall_seconds=1.0, command="x")
    assert "| our suite | 1 / 2 | 0 / 1 |" in text
    assert "| plain schemathesis (any failure) | 1 / 2 | 1 / 1 |" in text
    assert json.loads((tmp_path / "r.json").read_text())["scores"]["suite_caught"] == 1
    assert text == render(outcomes, wall_seconds=1.0, command="x")


def test_outcomes_written_by_workers_load_back_in_catalog_order(tmp_path: Path) -> None:
    rows = [_outcome("extra-fields", 0, benign=True), _outcome(NO_FAULT, 0), _outcome("delete-missing-id", 1)]
    for row in rows:
        write_outcome(row, tmp_path)
    loaded = load_outcomes(tmp_path, [NO_FAULT, *(fault.name for fault in FAULTS)])
    assert loaded == [rows[1], rows[2], rows[0]]


def test_a_known_miss_that_is_still_missed_is_marked_and_keeps_the_score_perfect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = "delete-id-not-requested"
    monkeypatch.setattr("oxen_contract.selfcheck.report.KNOWN_MISSES", {name: "the suite cannot see it"})
    outcomes = [_outcome(NO_FAULT, 0), _outcome(name, 0)]
    score = scores(outcomes)
    assert (score.suite_caught, score.suite_known_misses, score.perfect) == (0, 1, True)
    assert f"| `{name}` |" in render(outcomes) and "| missed (known miss) |" in render(outcomes)
    assert "a known miss: " in unreached_clauses(EXPECTED_CLAUSES[name], outcomes)[EXPECTED_CLAUSES[name][0]]
    assert not scores([*outcomes, _outcome("delete-missing-id", 0)]).perfect


def test_known_misses_name_faults_of_the_catalog() -> None:
    assert set(KNOWN_MISSES) <= {fault.name for fault in FAULTS if fault.kind == "fault"}


def test_a_clause_counts_as_covered_only_when_a_caught_fault_s_output_names_it() -> None:
    name = "delete-id-not-requested"
    named = _outcome(name, 1, ("rule:delete-returns-requested-id",))
    assert named.covered == ("rule:delete-returns-requested-id",)
    assert _outcome(name, 0).covered == ()
    assert _outcome(name, 1, ("rule:no-server-error",)).covered == ()
    assert covered_clauses([named]) == {"rule:delete-returns-requested-id": (name,)}


def test_clauses_no_caught_fault_names_are_listed_with_the_reason() -> None:
    rules = [
        "rule:delete-returns-requested-id",
        "rule:delete-answers-model-as-last-retrieved",
        "rule:answers-in-time",
        "rule:made-up",
        "strict.schema.json#/$defs/model/unevaluatedProperties",
    ]
    outcomes = [_outcome("delete-id-not-requested", 1, ("rule:delete-returns-requested-id",))]
    unreached = unreached_clauses(rules, outcomes)
    assert list(unreached) == rules[1:]
    assert "caught, but the suite's output does not name this clause" in unreached[rules[1]]
    assert "`delete-hangs` was not run" in unreached["rule:answers-in-time"]
    assert unreached["rule:made-up"] == "no fault of the catalog is mapped to it"
    assert "default variant" in unreached[rules[4]]


def test_every_clause_of_sources_is_mapped_to_a_fault_or_unreachable_by_design() -> None:
    mapped = {clause for row in EXPECTED_CLAUSES.values() for clause in row}
    design = tuple(UNREACHED_BY_DESIGN)
    orphans = [clause for clause in load_contract().rules() if clause not in mapped and not clause.startswith(design)]
    assert orphans == []


def test_clauses_unreachable_by_design_are_mapped_to_no_fault() -> None:
    mapped = {clause for row in EXPECTED_CLAUSES.values() for clause in row}
    assert [clause for clause in mapped if clause.startswith(tuple(UNREACHED_BY_DESIGN))] == []


def test_report_lists_coverage_and_the_clauses_no_fault_reaches(tmp_path: Path) -> None:
    outcomes = [_outcome("delete-id-not-requested", 1, ("rule:delete-returns-requested-id",))]
    text = render(outcomes)
    assert "`rule:delete-answers-model-as-last-retrieved` *(not named)*" in text
    assert f"1 of {len(load_contract().rules())} clauses of SOURCES.md are covered" in text
    assert "`delete-id-not-requested` was caught, but the suite's output does not name this clause" in text
    write_report(outcomes, tmp_path / "r.md")
    coverage = json.loads((tmp_path / "r.json").read_text())["coverage"]
    assert coverage["covered"] == {"rule:delete-returns-requested-id": ["delete-id-not-requested"]}
    assert "rule:answers-in-time" in coverage["unreached"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "oxen_contract.selfcheck", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_help_names_every_option() -> None:
    result = _cli("--help")
    assert result.returncode == 0
    for option in ("--only", "--jobs", "--out", "--no-schemathesis"):
        assert option in result.stdout


@pytest.mark.parametrize("args", [["--jobs", "0"], ["--only", "no-such-fault"], ["--bogus"]])
def test_a_bad_option_is_one_line_on_stderr_and_exit_2(args: list[str]) -> None:
    result = _cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
