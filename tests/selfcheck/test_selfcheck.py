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
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from oxen_contract.contracts import load_contract
from oxen_contract.hub import FAULTS, create_app
from oxen_contract.hub.faults import FAULTS_BY_NAME, Fault, Reply
from oxen_contract.hub.records import ApiError
from oxen_contract.selfcheck import EXPECTED_CLAUSES, NO_FAULT, Outcome
from oxen_contract.selfcheck.expected import KNOWN_MISSES, SETUP_ERRORS, UNREACHED_BY_DESIGN
from oxen_contract.selfcheck.report import covered_clauses, render, scores, unreached_clauses, write_report
from oxen_contract.selfcheck.rows import (
    Safety,
    SchemathesisRun,
    SuiteRun,
    exit_words,
    load_outcomes,
    write_outcome,
)
from oxen_contract.selfcheck.runner import clauses_named, failed_tests, judge_safety, verdict_line, warnings_listed

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


def _suite(
    code: int, clauses: tuple[str, ...] = (), caught_by: str | None = None, warned: tuple[str, ...] = ()
) -> SuiteRun:
    failed = (caught_by,) if caught_by else ()
    verdict = f"CONTRACT HELD: 3 checks (exit status {code})"
    return SuiteRun(code, 5.0, 2.0 if code else None, clauses, failed, caught_by, "", verdict, warned)


def _outcome(
    name: str,
    code: int,
    clauses: tuple[str, ...] = (),
    *,
    st: int = 1,
    benign: bool = False,
    strict: SuiteRun | None = None,
    safety: Safety | None = None,
    warned: tuple[str, ...] = (),
) -> Outcome:
    kind = NO_FAULT if name == NO_FAULT else "benign" if benign else FAULTS_BY_NAME[name].kind
    expected = EXPECTED_CLAUSES.get(name, ()) if kind in ("fault", "strict-only") else ()
    plain = SchemathesisRun(st, 6.0, ("ST103 Undocumented status code: DELETE /x",) if st else (), "")
    plain_run = None if kind == "hostile" else plain
    suite = _suite(code, clauses, "tests/x.py::t", warned)
    return Outcome(name, kind, "rule in words", expected, suite, plain_run, strict=strict, safety=safety)


def _safety(*, reached: tuple[str, ...] = (), deleted: tuple[str, ...] = (), deploys: int = 1) -> Safety:
    return Safety(deploys, 3, ("alice:sandbox/ft-1-1",), reached, deleted)


STRICT = "invalid-query-accepted"
STRICT_CLAUSE = "rule:invalid-input-is-refused"
PROD = "alice:sandbox/ft-1-prod"


def test_every_fault_of_the_catalog_has_a_clause_to_name() -> None:
    harmful = {fault.name for fault in FAULTS if fault.kind in ("fault", "strict-only")}
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
    "deploy": "fine-tune-deploy",
}
_DEPLOY_ANSWER = {
    "deployment": {"model_slug": CUSTOM_MODEL["id"], "status": "deploying", "endpoint": "http://hub/api/ai/x"}
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
        payloads = [{"object": "list", "data": models}] if listing else models
        for payload in [copy.deepcopy(_DEPLOY_ANSWER)] if operation == "deploy" else payloads:
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


@pytest.mark.parametrize(
    "fault", [fault for fault in FAULTS if fault.kind in ("fault", "strict-only")], ids=lambda fault: fault.name
)
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


def test_a_setup_error_catches_a_fault_only_where_expected_py_allows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "delete-missing-created"
    assert _outcome(name, 78, ("model.schema.json#/required",)).verdict == "setup error"
    monkeypatch.setattr("oxen_contract.selfcheck.rows.SETUP_ERRORS", {name: "provisioning cannot succeed"})
    assert _outcome(name, 78, ("model.schema.json#/required",)).verdict == "caught"
    assert _outcome(name, 78).verdict == "unnamed"


def test_benign_variants_and_the_hub_without_faults_must_exit_0() -> None:
    assert _outcome(NO_FAULT, 78).verdict == "setup error"
    assert _outcome("extra-fields", 78, benign=True).verdict == "setup error"
    assert _outcome("extra-fields", 75, benign=True).verdict == "error"
    assert not _outcome(NO_FAULT, 78).ok


def test_a_strict_only_fault_must_pass_by_default_and_be_named_under_strict_contract() -> None:
    caught = _suite(1, (STRICT_CLAUSE,), "tests/x.py::t")
    assert _outcome(STRICT, 0, strict=caught).verdict == "caught"
    assert _outcome(STRICT, 0, strict=caught).covered == (STRICT_CLAUSE,)
    # Failing by default is the false alarm the warning exists to prevent.
    assert _outcome(STRICT, 1, (STRICT_CLAUSE,), strict=caught).verdict == "false alarm"
    assert _outcome(STRICT, 0, strict=_suite(0)).verdict == "missed"
    assert _outcome(STRICT, 0, strict=_suite(1, ("rule:no-server-error",))).verdict == "unnamed"
    assert _outcome(STRICT, 0, strict=None).verdict == "not run"
    # The clauses of the default run count for nothing: the strict run is the one judged.
    assert _outcome(STRICT, 0, (STRICT_CLAUSE,), strict=_suite(0)).named == ()


def test_a_hostile_hub_needs_a_verdict_and_an_audit_without_harm() -> None:
    hub = "hostile-delete-redirect"
    assert _outcome(hub, 1, safety=_safety()).verdict == "safe"
    assert _outcome(hub, 78, safety=_safety()).verdict == "safe"
    assert _outcome(hub, 0, safety=_safety()).verdict == "missed"
    assert _outcome(hub, -9, safety=_safety()).verdict == "error"
    assert _outcome(hub, 3, safety=_safety()).verdict == "error"
    assert _outcome(hub, 1, safety=None).verdict == "error"
    assert _outcome(hub, 1, safety=_safety(reached=(PROD,))).verdict == "harmed"
    assert _outcome(hub, 1, safety=_safety(deleted=(PROD,))).verdict == "harmed"
    assert _outcome(hub, 1, safety=_safety(deploys=4)).verdict == "harmed"


def test_safety_names_each_harm() -> None:
    assert _safety().safe and _safety().harm == ()
    harm = _safety(reached=(PROD,), deleted=(PROD,), deploys=5).harm
    assert harm == (
        f"DELETE reached {PROD!r}, which no deploy of the run created",
        f"deleted {PROD!r}, which the hub held before the run",
        "5 deploy POSTs, over --max-provisions 3",
    )
    assert not Safety(0, 3, (), (), (), error="OSError: gone").safe


def test_a_benign_crowded_hub_must_pass_and_keep_its_models() -> None:
    crowded = "benign-crowded-namespaces"
    assert _outcome(crowded, 0, benign=True, safety=_safety()).verdict == "passed"
    assert _outcome(crowded, 0, benign=True, safety=_safety(deleted=(PROD,))).verdict == "harmed"


def test_safety_is_read_from_the_audit_a_hub_wrote(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    app = create_app({"k": "alice"}, ["benign-crowded-namespaces"], deterministic=True, audit_path=str(path))
    try:
        client = TestClient(app)
        headers = {"Authorization": "Bearer k"}
        for _ in range(4):
            client.post("/api/repos/alice/sandbox/fine_tunes/ft-1/deploy", headers=headers)
        client.delete(f"/api/ai/models/{quote(PROD, safe='')}", headers=headers)
    finally:
        app.state.store.close()
    safety = judge_safety(path)
    assert (safety.deploy_posts, safety.reached_others, safety.preexisting_deleted) == (4, (PROD,), (PROD,))
    assert len(safety.created) == 4 and not safety.safe
    assert "could not be read" in judge_safety(tmp_path / "missing.json").harm[0]


def test_the_verdict_line_and_the_warnings_are_read_from_a_suite_run(tmp_path: Path) -> None:
    output = "x\n[oxen-contract] CONTRACT HELD: 9 checks; 3 test(s) passed (exit status 0)\n"
    assert verdict_line(output) == "CONTRACT HELD: 9 checks; 3 test(s) passed (exit status 0)"
    assert verdict_line("no verdict here") == ""
    report = tmp_path / "r.json"
    lenient = [{"clause": STRICT_CLAUSE}, {"clause": STRICT_CLAUSE}]
    warnings = [{"clause": "rule:list-filter-is-a-subset"}]
    report.write_text(
        json.dumps({"lenient_inputs": {"entries": lenient, "fails_the_run": False}, "warnings": warnings})
    )
    assert warnings_listed(report) == (STRICT_CLAUSE, STRICT_CLAUSE, "rule:list-filter-is-a-subset")
    assert warnings_listed(tmp_path / "none.json") is None
    assert exit_words(78) == "exit 78 (setup error)" and exit_words(-9) == "exit -9 (killed)"


def test_report_shows_strict_only_rows_hostile_safety_and_counts_them_in_the_scores(tmp_path: Path) -> None:
    caught = _suite(1, (STRICT_CLAUSE,), "tests/x.py::t")
    outcomes = [
        _outcome(NO_FAULT, 0, st=1),
        _outcome(STRICT, 0, strict=caught, warned=(STRICT_CLAUSE, STRICT_CLAUSE)),
        _outcome("benign-search-without-term-lists-all", 0, benign=True),
        _outcome("benign-crowded-namespaces", 0, benign=True, safety=_safety()),
        _outcome("hostile-delete-redirect", 1, safety=_safety()),
        _outcome("hostile-deploy-existing-slug", 0, safety=_safety(reached=("alice:sandbox/ft-1-old",))),
    ]
    score = scores(outcomes)
    assert (score.strict_only, score.strict_passed_by_default, score.strict_caught) == (1, 1, 1)
    assert (score.hostile, score.hostile_verdicts, score.hostile_safe) == (2, 1, 1)
    assert (score.benign, score.suite_false_alarms) == (2, 0)
    assert not score.perfect and scores(outcomes[:5]).perfect
    text = write_report(outcomes, tmp_path / "r.md")
    assert "## Strict-only faults" in text and "## Hostile hubs" in text
    assert f"| `{STRICT}` | `{STRICT_CLAUSE}`<br>" in text and "| caught: exit 1: CONTRACT HELD" in text
    assert "**HARMED**: DELETE reached 'alice:sandbox/ft-1-old', which no deploy of the run created" in text
    assert "safe: 1 deploy POST(s) of 3 allowed" in text
    assert f"| `{STRICT_CLAUSE}` ×2 | caught: " in text and "| - | none | - |" in text
    assert "Plain schemathesis is not run against them" in text
    assert "| our suite | 0 / 0 | 0 / 2 | 1, 1 / 1 | 1, 1 / 2 |" in text
    rows = {row["name"]: row for row in json.loads((tmp_path / "r.json").read_text())["outcomes"]}
    assert rows["hostile-deploy-existing-slug"]["safe"] is False and rows[STRICT]["verdict"] == "caught"


def test_outcomes_with_strict_runs_and_safety_load_back_as_written(tmp_path: Path) -> None:
    rows = [
        _outcome(STRICT, 0, strict=_suite(1, (STRICT_CLAUSE,), "tests/x.py::t", warned=(STRICT_CLAUSE,))),
        _outcome("hostile-delete-redirect", 78, safety=_safety(reached=(PROD,))),
    ]
    for row in rows:
        write_outcome(row, tmp_path)
    assert load_outcomes(tmp_path, [fault.name for fault in FAULTS]) == rows


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
    assert "| our suite | 1 / 2 | 0 / 1 | 0, 0 / 0 | 0, 0 / 0 |" in text
    assert "| plain schemathesis (any failure) | 1 / 2 | 1 / 1 | - | not run |" in text
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


def test_known_misses_and_setup_errors_name_faults_of_the_catalog() -> None:
    assert set(SETUP_ERRORS) <= {fault.name for fault in FAULTS if fault.kind == "fault"}
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
