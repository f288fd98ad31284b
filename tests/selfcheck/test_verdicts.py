"""The verdict cases of issue 19, offline: the table, the check of a run's ending, the rows and the report.

The cases themselves run in the fault matrix (``test_fault_matrix.py``, ``OXEN_SELFCHECK=1``); these tests hold the
table to the catalog and prove the judging: a run that ends with another status, says less, crashes or harms is
never counted as held.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from oxen_contract.hub import FAULTS
from oxen_contract.selfcheck import NO_FAULT
from oxen_contract.selfcheck.matrix import run_row
from oxen_contract.selfcheck.output import summary_line
from oxen_contract.selfcheck.report import render, write_report
from oxen_contract.selfcheck.rows import load_outcomes, row_names, write_outcome
from oxen_contract.selfcheck.runner import FINE_TUNE
from oxen_contract.selfcheck.schedule import guess_seconds
from oxen_contract.selfcheck.scores import scores
from oxen_contract.selfcheck.verdict_runs import _arrange, _command, check_verdict
from oxen_contract.selfcheck.verdicts import (
    ISSUE_CASES,
    KNOWN_VERDICT_FAILURES,
    NEVER_SHOWN,
    VERDICT_CASES,
    VERDICT_CASES_BY_NAME,
    Command,
    Setup,
    Target,
    VerdictCase,
)

from ._outcomes import outcome, safety, verdict_outcome

CATALOG = {fault.name: fault for fault in FAULTS}
VIOLATION_THEN_RATE_LIMIT = "verdict-violation-then-rate-limited"
FINE_TUNE_NOT_FOUND = "verdict-fine-tune-not-found"


def test_every_verdict_case_has_its_own_name_and_switches_on_faults_of_the_catalog() -> None:
    names = [case.name for case in VERDICT_CASES]
    assert len(set(names)) == len(names) and all(name.startswith("verdict-") for name in names)
    assert not set(names) & set(CATALOG) and NO_FAULT not in names
    unknown = [(case.name, fault) for case in VERDICT_CASES for fault in case.faults if fault not in CATALOG]
    assert unknown == []


def test_every_outage_of_the_catalog_is_judged_by_a_verdict_case_alone_and_beside_a_violation() -> None:
    outages = [fault.name for fault in FAULTS if fault.kind == "outage"]
    assert outages
    for name in outages:
        cases = [case for case in VERDICT_CASES if name in case.faults]
        assert {case.exit_status for case in cases} >= {1, 75}, f"{name}: alone (75) and after a violation (1)"


def test_every_case_of_issue_19_is_guarded_by_rows_the_matrix_runs() -> None:
    rows = set(row_names())
    guarded = [name for names in ISSUE_CASES.values() for name in names]
    assert [name for name in guarded if name not in rows] == []
    # A fault row guards a case only as a fault: exit 1 naming its clause.
    assert all(CATALOG[name].kind == "fault" for name in guarded if name in CATALOG)
    assert sorted(set(VERDICT_CASES_BY_NAME) - set(guarded)) == [], "a verdict case no case of issue 19 asks for"
    assert len(ISSUE_CASES) == 11


def test_known_verdict_failures_name_verdict_cases() -> None:
    assert set(KNOWN_VERDICT_FAILURES) <= set(VERDICT_CASES_BY_NAME)


def test_every_case_demands_words_of_its_summary_line_and_a_status_of_verdict_py() -> None:
    for case in VERDICT_CASES:
        assert case.summary, case.name
        assert case.exit_status in (0, 1, 2, 4, 70, 75, 78), case.name


def test_rows_are_the_catalogs_entries_then_the_verdict_cases_but_never_an_outage_alone() -> None:
    names = row_names()
    assert names[-len(VERDICT_CASES) :] == [case.name for case in VERDICT_CASES]
    assert "search-rate-limited" not in names and "delete-created-as-string" in names
    with pytest.raises(ValueError, match="outage"):
        run_row("search-rate-limited", schemathesis=False)


def test_the_summary_line_is_the_verdict_line_else_a_usage_errors_line() -> None:
    verdict = "x\n[oxen-contract] SETUP ERROR: the fine-tune cannot be deployed (exit status 78)\nERROR: later\n"
    assert summary_line(verdict) == "SETUP ERROR: the fine-tune cannot be deployed (exit status 78)"
    assert summary_line("collecting\nERROR: --ledger /x: cannot hold the ledger there (it is a folder)\n") == (
        "--ledger /x: cannot hold the ledger there (it is a folder)"
    )
    assert summary_line("Usage: oxen-contract ...\nError: No such option: --hbu\n") == "No such option: --hbu"
    assert summary_line("nothing to go by") == ""


def test_a_run_is_checked_against_its_summary_line_its_output_and_what_must_never_show() -> None:
    case = VerdictCase("verdict-x", "why", 0, ("CONTRACT HELD",), output=("ledger:1 is not a ledger entry",))
    held = "[oxen-contract] UNSETTLED a ledger line: l:1 ...\n[oxen-contract] CONTRACT HELD: 3 checks (exit status 0)\n"
    assert check_verdict(case, held.replace("l:1 ...", "ledger:1 is not a ledger entry")).missing == ()
    # The words count only where they are demanded: a held line in the output is not the summary line.
    check = check_verdict(case, "[oxen-contract] CONTRACT HELD, said early\nERROR: nope\n")
    assert check.summary == "nope"
    assert check.missing == ("'CONTRACT HELD' in the summary line", "'ledger:1 is not a ledger entry' in the output")
    crashed = check_verdict(case, "INTERNALERROR> Traceback (most recent call last):\n" + held)
    assert crashed.shown == NEVER_SHOWN
    unmet = check_verdict(case, held, ("Ctrl-C: never sent",))
    assert unmet.missing[-1] == "Ctrl-C: never sent"


def test_a_verdict_case_holds_only_with_its_exit_status_its_words_no_crash_and_no_harm() -> None:
    name = VIOLATION_THEN_RATE_LIMIT
    assert verdict_outcome(name, 1).verdict == "held" and verdict_outcome(name, 1).ok
    # A violation hidden behind the later rate limit: the very ending the case exists to catch.
    assert verdict_outcome(name, 75).verdict == "wrong exit"
    assert verdict_outcome(name, 1, missing=("'rate-limited' in the summary line",)).verdict == "unsaid"
    assert verdict_outcome(name, 1, shown=("INTERNALERROR",)).verdict == "crashed"
    assert verdict_outcome(name, 3, shown=("INTERNALERROR",)).verdict == "crashed"
    assert verdict_outcome(name, 1, safety=safety(deleted=("alice:sandbox/ft-1-prod",))).verdict == "harmed"
    assert not verdict_outcome(name, 75).ok
    assert replace(verdict_outcome(name, 1), check=None).verdict == "not run"


def test_a_case_that_counts_deploy_posts_holds_only_when_the_audit_counts_as_many() -> None:
    assert verdict_outcome(FINE_TUNE_NOT_FOUND, 78, safety=safety(deploys=1)).verdict == "held"
    assert verdict_outcome(FINE_TUNE_NOT_FOUND, 78, safety=safety(deploys=3)).verdict == "audit differs"
    assert verdict_outcome(FINE_TUNE_NOT_FOUND, 78, safety=None).verdict == "audit differs"


def test_verdict_rows_load_back_as_written(tmp_path: Path) -> None:
    rows = [
        verdict_outcome(VIOLATION_THEN_RATE_LIMIT, 75, missing=("'x' in the output",), shown=("INTERNALERROR",)),
        verdict_outcome(FINE_TUNE_NOT_FOUND, 78, safety=safety()),
    ]
    for row in rows:
        write_outcome(row, tmp_path)
    assert load_outcomes(tmp_path, row_names()) == rows


def test_the_report_shows_each_case_its_demands_and_its_ending_and_scores_them(tmp_path: Path) -> None:
    held = verdict_outcome(FINE_TUNE_NOT_FOUND, 78, safety=safety(deploys=1))
    hidden = verdict_outcome(VIOLATION_THEN_RATE_LIMIT, 75, missing=("'CONTRACT VIOLATIONS' in the summary line",))
    outcomes = [outcome(NO_FAULT, 0), held, hidden]
    score = scores(outcomes)
    assert (score.verdict_cases, score.verdicts_held, score.perfect) == (2, 1, False)
    assert scores(outcomes[:2]).perfect
    text = write_report(outcomes, tmp_path / "r.md")
    assert "## Verdicts" in text
    assert f"| `{FINE_TUNE_NOT_FOUND}` | a mistyped fine-tune:" in text
    assert "`--fine-tune alice/sandbox/ft-typo`" in text and "the audit counts 1 deploy POST(s) | held |" in text
    assert "exit 1 (contract violations): `CONTRACT VIOLATIONS`, `rate-limited" in text
    assert "| wrong exit | exit 75: CONTRACT VIOLATIONS" in text
    assert "missing 'CONTRACT VIOLATIONS' in the summary line" in text
    assert "- a crash with no verdict: `verdict-failure-as-max-requests-runs-out` (not run)" in text
    assert f"- a fine-tune that cannot be deployed is tried three times: `{FINE_TUNE_NOT_FOUND}` (held)" in text
    assert "| our suite | 0 / 0 | 0 / 0 | 0, 0 / 0 | 0, 0 / 0 | 1 / 2 |" in text
    data = json.loads((tmp_path / "r.json").read_text())
    rows = {row["name"]: row for row in data["outcomes"]}
    assert rows[FINE_TUNE_NOT_FOUND]["ok"] is True and rows[VIOLATION_THEN_RATE_LIMIT]["verdict"] == "wrong exit"
    assert rows[VIOLATION_THEN_RATE_LIMIT]["check"]["exit_status"] == 1
    assert data["scores"]["verdicts_held"] == 1 and data["issue_19_cases"]["Ctrl-C says nothing"]


def test_a_known_verdict_failure_is_marked_and_keeps_the_score_perfect(monkeypatch: pytest.MonkeyPatch) -> None:
    failing = verdict_outcome(VIOLATION_THEN_RATE_LIMIT, 75)
    known = {VIOLATION_THEN_RATE_LIMIT: "the suite says HUB UNAVAILABLE"}
    monkeypatch.setattr("oxen_contract.selfcheck.scores.KNOWN_VERDICT_FAILURES", known)
    monkeypatch.setattr("oxen_contract.selfcheck.verdict_report.KNOWN_VERDICT_FAILURES", known)
    assert scores([failing]).perfect and scores([failing]).verdict_known_failures == 1
    assert "| wrong exit (known failure) |" in render([failing])


def test_the_ledger_case_writes_one_intent_of_an_earlier_run_whose_time_is_null(tmp_path: Path) -> None:
    case = VERDICT_CASES_BY_NAME["verdict-ledger-line-at-null"]
    assert _arrange(case, "http://127.0.0.1:9", tmp_path, None) is None
    [line] = (tmp_path / "ledger").read_text().splitlines()
    entry = json.loads(line)
    assert (entry["hub"], entry["event"], entry["at"]) == ("http://127.0.0.1:9", "intent", None)
    other = tmp_path / "other"
    other.mkdir()
    _arrange(VERDICT_CASES_BY_NAME["verdict-ledger-is-a-folder"], "http://127.0.0.1:9", other, None)
    assert (other / "ledger").is_dir()


@pytest.mark.parametrize("setup", [Setup.BASELINE, Setup.BASELINE_CLAUSE_NULL, Setup.BASELINE_TRUNCATED])
def test_a_baseline_case_hands_the_run_a_copy_of_the_clean_report_as_it_asks(setup: Setup, tmp_path: Path) -> None:
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps({"clauses": {"rule:a": {"checked": 3, "broken": 0}, "rule:b": {}}, "drift": {}}))
    given = _arrange(VerdictCase("verdict-x", "why", 0, ("x",), setup=setup), "", tmp_path, clean)
    assert given is not None and given != clean
    text = given.read_text()
    if setup is Setup.BASELINE_TRUNCATED:
        with pytest.raises(ValueError):
            json.loads(text)
    elif setup is Setup.BASELINE_CLAUSE_NULL:
        assert json.loads(text)["clauses"] == {"rule:a": None, "rule:b": {}}
    else:
        assert text == clean.read_text()


def test_the_command_runs_the_installed_tool_from_an_empty_folder_without_the_checkouts_options(tmp_path: Path) -> None:
    cli = VerdictCase("verdict-x", "why", 0, ("x",), args=("-W", "error"), command=Command.CLI)
    kind, args, cwd, env = _command(cli, "http://127.0.0.1:9", tmp_path, Path("/root"), None)
    assert kind == "cli" and cwd == tmp_path / "cwd" and list(cwd.iterdir()) == []
    assert args[:2] == ["--hub-url", "http://127.0.0.1:9"] and args[-2:] == ["-W", "error"]
    assert not {"tests/contract", "--disable-recording", "no:cacheprovider"} & set(args)
    assert env["OXEN_CONTRACT_CACHE_DIR"] == str(tmp_path / "cache") and "OXEN_API_KEY" in env
    suite = replace(cli, command=Command.SUITE, fine_tune="alice/sandbox/ft-typo")
    kind, args, cwd, _ = _command(suite, "http://127.0.0.1:9", tmp_path, Path("/root"), None)
    assert (kind, cwd, args[0]) == ("suite", Path("/root"), "tests/contract")
    assert args[args.index("--fine-tune") + 1] == "alice/sandbox/ft-typo" and FINE_TUNE not in args
    replay = replace(cli, target=Target.REPLAY, args=("--replay", "-k", "test_list"))
    (tmp_path / "replay").mkdir()
    kind, args, _, env = _command(replay, "", tmp_path / "replay", Path("/root"), None)
    assert (kind, args) == ("cli", ["-v", "--replay", "-k", "test_list"]) and "OXEN_API_KEY" not in env


def test_without_a_report_verdict_cases_that_start_fresh_or_meet_a_rate_limit_start_before_the_others() -> None:
    slow = ("verdict-warnings-are-errors", "verdict-rate-limited-route", "verdict-violation-then-rate-limited")
    assert all(guess_seconds(name) > guess_seconds("verdict-max-requests-spent") == 1.0 for name in slow)
