"""The self-check's own machinery, offline: the fault -> clause table, output parsing, judging rows and the CLI.

The matrix itself is slow (``test_fault_matrix.py``); these tests are fast and always run, so that a fault added to
the hub's catalog without a clause id, or a clause id that is not a row of SOURCES.md, fails at once.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from oxen_contract.checking.contracts import load_contract
from oxen_contract.hub import FAULTS, create_app
from oxen_contract.hub.faults import Fault, Reply
from oxen_contract.hub.records import ApiError
from oxen_contract.selfcheck import EXPECTED_CLAUSES, NO_FAULT
from oxen_contract.selfcheck.output import clauses_named, failed_tests, verdict_line, warnings_listed
from oxen_contract.selfcheck.rows import HOSTILE_SECONDS, Safety, exit_words
from oxen_contract.selfcheck.safety import judge_safety, keys_shown, leaks_named

from ..schemas.instances import BASE_MODEL, CUSTOM_MODEL
from ._outcomes import COLLEAGUE, PROD, STRICT, STRICT_CLAUSE, outcome, safety, suite_run

SUITE_OUTPUT = """\
tests/contract/test_operations.py::test_models_operation_answers_within_its_contract[GET /api/ai/models] PASSED
tests/contract/test_delete_lifecycle.py::test_delete_lifecycle_keeps_the_documented_promises FAILED [ 40%]
=================================== FAILURES ===================================
_____________ test_delete_lifecycle_keeps_the_documented_promises ______________
E   oxen_contract.checking.failures.ContractFailure: Contract violation in deleteModel: DELETE /api/ai/models/x, id 'x'
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
    assert outcome(name, 1, ("model.schema.json#/required",)).verdict == "caught"
    assert outcome(name, 1, ("rule:no-server-error",)).verdict == "unnamed"
    assert outcome(name, 0).verdict == "missed"
    assert outcome(name, 2).verdict == "error"
    assert outcome("extra-fields", 1, benign=True).verdict == "false alarm"
    assert outcome(NO_FAULT, 0).verdict == "passed"


def test_a_setup_error_catches_a_fault_only_where_expected_py_allows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    name = "delete-missing-created"
    assert outcome(name, 78, ("model.schema.json#/required",)).verdict == "setup error"
    monkeypatch.setattr("oxen_contract.selfcheck.rows.SETUP_ERRORS", {name: "provisioning cannot succeed"})
    assert outcome(name, 78, ("model.schema.json#/required",)).verdict == "caught"
    assert outcome(name, 78).verdict == "unnamed"


def test_benign_variants_and_the_hub_without_faults_must_exit_0() -> None:
    assert outcome(NO_FAULT, 78).verdict == "setup error"
    assert outcome("extra-fields", 78, benign=True).verdict == "setup error"
    assert outcome("extra-fields", 75, benign=True).verdict == "error"
    assert not outcome(NO_FAULT, 78).ok


def test_a_strict_only_fault_must_pass_by_default_and_be_named_under_strict_contract() -> None:
    caught = suite_run(1, (STRICT_CLAUSE,), "tests/x.py::t")
    assert outcome(STRICT, 0, strict=caught).verdict == "caught"
    assert outcome(STRICT, 0, strict=caught).covered == (STRICT_CLAUSE,)
    # Failing by default is the false alarm the warning exists to prevent.
    assert outcome(STRICT, 1, (STRICT_CLAUSE,), strict=caught).verdict == "false alarm"
    assert outcome(STRICT, 0, strict=suite_run(0)).verdict == "missed"
    assert outcome(STRICT, 0, strict=suite_run(1, ("rule:no-server-error",))).verdict == "unnamed"
    assert outcome(STRICT, 0, strict=None).verdict == "not run"
    # The clauses of the default run count for nothing: the strict run is the one judged.
    assert outcome(STRICT, 0, (STRICT_CLAUSE,), strict=suite_run(0)).named == ()


def test_a_hostile_hub_needs_a_verdict_and_an_audit_without_harm() -> None:
    hub = "hostile-delete-redirect"
    assert outcome(hub, 1, safety=safety()).verdict == "safe"
    assert outcome("hostile-deploy-dot-slug", 78, safety=safety()).verdict == "safe"
    # The verdict the lure calls for, saying what kept the run safe, without a crash.
    assert outcome(hub, 78, safety=safety()).verdict == "wrong exit"
    said = outcome(hub, 1, safety=safety())
    assert replace(said, suite=replace(said.suite, said=())).verdict == "unsaid"
    crashed = replace(said.suite, crashed=("Traceback (most recent call last)",))
    assert replace(said, suite=crashed).verdict == "crashed"
    assert outcome(hub, 0, safety=safety()).verdict == "missed"
    assert outcome(hub, -9, safety=safety()).verdict == "error"
    assert outcome(hub, 3, safety=safety()).verdict == "error"
    assert outcome(hub, 1, safety=None).verdict == "error"
    # A verdict that a lure kept waiting for is no verdict in bounded time.
    slow = outcome(hub, 1, safety=safety())
    assert replace(slow, suite=replace(slow.suite, seconds=HOSTILE_SECONDS + 1)).verdict == "too slow"
    assert outcome(hub, 1, safety=safety(reached=(PROD,))).verdict == "harmed"
    assert outcome(hub, 1, safety=safety(deleted=(PROD,))).verdict == "harmed"
    assert outcome(hub, 1, safety=safety(deploys=4)).verdict == "harmed"
    assert outcome(hub, 1, safety=safety(unaccounted=("alice:sandbox/ft-1-1",))).verdict == "harmed"
    assert outcome(hub, 1, safety=safety(appeared=(COLLEAGUE,), reached=(COLLEAGUE,))).verdict == "harmed"


def test_safety_names_each_harm() -> None:
    assert safety().safe and safety().harm == ()
    assert safety(appeared=(COLLEAGUE,)).safe
    harm = safety(
        reached=(PROD, COLLEAGUE),
        deleted=(PROD, COLLEAGUE),
        deploys=5,
        appeared=(COLLEAGUE,),
        unaccounted=("alice:sandbox/ft-1-1",),
    ).harm
    assert harm == (
        f"DELETE reached {PROD!r}, which no deploy of the run created",
        f"DELETE reached {COLLEAGUE!r}, which no deploy of the run created",
        f"deleted {PROD!r}, which the hub held before the run",
        f"deleted {COLLEAGUE!r}, which a colleague made during the run",
        "5 deploy POSTs, over --max-provisions 3",
        "left 'alice:sandbox/ft-1-1', which a deploy of the run made, neither deleted nor named in a LEAK line",
    )
    assert not Safety(0, 3, (), (), (), error="OSError: gone").safe


def test_a_benign_crowded_hub_must_pass_and_keep_its_models() -> None:
    crowded = "benign-crowded-namespaces"
    assert outcome(crowded, 0, benign=True, safety=safety()).verdict == "passed"
    assert outcome(crowded, 0, benign=True, safety=safety(deleted=(PROD,))).verdict == "harmed"


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
    # None of the four deleted, and none named as a leak.
    assert safety.unaccounted == safety.created
    named = judge_safety(path, leaked=safety.created[:3])
    assert named.unaccounted == safety.created[3:]
    assert "could not be read" in judge_safety(tmp_path / "missing.json").harm[0]


def test_safety_counts_a_model_the_run_deleted_or_named_as_a_leak_as_accounted_for(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    app = create_app({"k": "alice"}, ["hostile-deploy-409-after-create"], deterministic=True, audit_path=str(path))
    try:
        client = TestClient(app)
        headers = {"Authorization": "Bearer k"}
        for _ in range(2):
            assert client.post("/api/repos/alice/sandbox/fine_tunes/ft-1/deploy", headers=headers).status_code == 409
        client.delete(f"/api/ai/models/{quote('alice:sandbox/ft-1-1', safe='')}", headers=headers)
    finally:
        app.state.store.close()
    assert judge_safety(path).unaccounted == ("alice:sandbox/ft-1-2",)
    assert judge_safety(path, leaked=("alice:sandbox/ft-1-2",)).safe


def test_a_delete_of_a_colleagues_model_that_appeared_during_the_run_is_harm(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    app = create_app({"k": "alice"}, ["hostile-deploy-502-then-colleague"], deterministic=True, audit_path=str(path))
    try:
        client = TestClient(app)
        headers = {"Authorization": "Bearer k"}
        assert client.post("/api/repos/alice/sandbox/fine_tunes/ft-1/deploy", headers=headers).status_code == 502
        for _ in range(10):
            client.get("/api/ai/models", headers=headers)
        client.delete(f"/api/ai/models/{quote('alice:sandbox/ft-1-1', safe='')}", headers=headers)
    finally:
        app.state.store.close()
    safety = judge_safety(path)
    assert (safety.created, safety.appeared) == ((), ("alice:sandbox/ft-1-1",))
    assert safety.harm == (
        "DELETE reached 'alice:sandbox/ft-1-1', which no deploy of the run created",
        "deleted 'alice:sandbox/ft-1-1', which a colleague made during the run",
    )


def test_leaked_ids_are_read_from_the_suites_leak_lines() -> None:
    output = (
        "tests/contract/x.py::t PASSED\n"
        "[oxen-contract] LEAK 'alice:sandbox/ft-1-2': still on the hub (its DELETE answered 500); curl …\n"
        '[oxen-contract] LEAK "it\'s:a/b": still there at the end of the run; deleted at cleanup (a test left it)\n'
        "  quoted in a test's output: LEAK 'not-a-note': ...\n"
        "[oxen-contract] LEAK 'alice:sandbox/ft-1-2': named twice\n"
    )
    assert leaks_named(output) == ("alice:sandbox/ft-1-2", "it's:a/b")
    assert leaks_named("no leak here") == ()


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


def test_every_spelling_of_a_key_is_found_wherever_it_shows() -> None:
    key = "sk-a/b+c"
    texts = {
        "output": 'x-debug-authorization: Bearer sk-a/b+c\nbody: {"escaped":"Bearer sk-a\\/b+c"}',
        "report (r.md)": "Authorization: Bearer%20sk-a%2Fb%2Bc and Basic c2stYS9iK2M6",
        "report (r.json)": "nothing but $OXEN_API_KEY",
    }
    assert keys_shown(texts, [key, "other-key"]) == (
        "output: as sent",
        "output: JSON-escaped",
        "report (r.md): percent-encoded",
        "report (r.md): as Basic credentials",
    )
    assert keys_shown({"output": "Bearer $OXEN_API_KEY"}, [key]) == ()


def test_a_key_shown_is_harm_even_when_the_audit_is_clean(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    app = create_app({"k": "alice"}, deterministic=True, audit_path=str(path))
    app.state.store.close()
    assert judge_safety(path).safe
    shown = judge_safety(path, key_shown=("output: percent-encoded",))
    assert shown.harm == ("a key was shown (output: percent-encoded)",)
