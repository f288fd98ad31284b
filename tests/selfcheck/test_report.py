"""The self-check's report: scores, strict-only and hostile rows, coverage of SOURCES.md, and the rows it reads back."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from oxen_contract.checking.contracts import load_contract
from oxen_contract.hub import FAULTS
from oxen_contract.selfcheck import EXPECTED_CLAUSES, NO_FAULT
from oxen_contract.selfcheck.expected import KNOWN_MISSES, SETUP_ERRORS, UNREACHED_BY_DESIGN
from oxen_contract.selfcheck.report import covered_clauses, render, unreached_clauses, write_report
from oxen_contract.selfcheck.rows import load_outcomes, write_outcome
from oxen_contract.selfcheck.scores import scores

from ._outcomes import COLLEAGUE, PROD, STRICT, STRICT_CLAUSE, outcome, safety, suite_run


def test_report_shows_strict_only_rows_hostile_safety_and_counts_them_in_the_scores(tmp_path: Path) -> None:
    caught = suite_run(1, (STRICT_CLAUSE,), "tests/x.py::t")
    outcomes = [
        outcome(NO_FAULT, 0, st=1),
        outcome(STRICT, 0, strict=caught, warned=(STRICT_CLAUSE, STRICT_CLAUSE)),
        outcome("benign-search-without-term-lists-all", 0, benign=True),
        outcome("benign-crowded-namespaces", 0, benign=True, safety=safety()),
        outcome("hostile-delete-redirect", 1, safety=safety()),
        outcome("hostile-deploy-existing-slug", 0, safety=safety(reached=("alice:sandbox/ft-1-old",))),
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
    assert (
        "safe: 1 deploy POST(s) of 3 allowed; no DELETE reached a model the run did not make; every model held "
        "before the run kept; 1 model(s) its deploys made, each deleted or named in a LEAK line; no key shown" in text
    )
    assert f"| `{STRICT_CLAUSE}` ×2 | caught: " in text and "| - | none | - |" in text
    assert "Plain schemathesis is not run against them" in text
    assert "| our suite | 0 / 0 | 0 / 2 | 1, 1 / 1 | 1, 1 / 2 |" in text
    rows = {row["name"]: row for row in json.loads((tmp_path / "r.json").read_text())["outcomes"]}
    assert rows["hostile-deploy-existing-slug"]["safe"] is False and rows[STRICT]["verdict"] == "caught"


def test_outcomes_with_strict_runs_and_safety_load_back_as_written(tmp_path: Path) -> None:
    rows = [
        outcome(STRICT, 0, strict=suite_run(1, (STRICT_CLAUSE,), "tests/x.py::t", warned=(STRICT_CLAUSE,))),
        outcome("hostile-delete-redirect", 78, safety=safety(reached=(PROD,))),
        outcome(
            "hostile-deploy-502-then-colleague",
            78,
            safety=safety(appeared=(COLLEAGUE,), unaccounted=("alice:sandbox/ft-1-1",)),
        ),
        outcome("hostile-echo-key", 1, safety=replace(safety(), key_shown=("output: percent-encoded",))),
    ]
    for row in rows:
        write_outcome(row, tmp_path)
    assert load_outcomes(tmp_path, [fault.name for fault in FAULTS]) == rows


def test_report_prints_both_scores_and_counts_schemathesis_failures_beyond_the_clean_hub(tmp_path: Path) -> None:
    outcomes = [
        outcome(NO_FAULT, 0, st=1),
        outcome("delete-missing-created", 1, ("model.schema.json#/required",), st=0),
        outcome("delete-answers-500", 0, st=1),
        outcome("extra-fields", 0, st=1, benign=True),
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
    rows = [outcome("extra-fields", 0, benign=True), outcome(NO_FAULT, 0), outcome("delete-missing-id", 1)]
    for row in rows:
        write_outcome(row, tmp_path)
    loaded = load_outcomes(tmp_path, [NO_FAULT, *(fault.name for fault in FAULTS)])
    assert loaded == [rows[1], rows[2], rows[0]]


def test_a_known_miss_that_is_still_missed_is_marked_and_keeps_the_score_perfect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = "delete-id-not-requested"
    monkeypatch.setattr("oxen_contract.selfcheck.report.KNOWN_MISSES", {name: "the suite cannot see it"})
    monkeypatch.setattr("oxen_contract.selfcheck.scores.KNOWN_MISSES", {name: "the suite cannot see it"})
    outcomes = [outcome(NO_FAULT, 0), outcome(name, 0)]
    score = scores(outcomes)
    assert (score.suite_caught, score.suite_known_misses, score.perfect) == (0, 1, True)
    assert f"| `{name}` |" in render(outcomes) and "| missed (known miss) |" in render(outcomes)
    assert "a known miss: " in unreached_clauses(EXPECTED_CLAUSES[name], outcomes)[EXPECTED_CLAUSES[name][0]]
    assert not scores([*outcomes, outcome("delete-missing-id", 0)]).perfect


def test_known_misses_and_setup_errors_name_faults_of_the_catalog() -> None:
    assert set(SETUP_ERRORS) <= {fault.name for fault in FAULTS if fault.kind == "fault"}
    assert set(KNOWN_MISSES) <= {fault.name for fault in FAULTS if fault.kind == "fault"}


def test_a_clause_counts_as_covered_only_when_a_caught_fault_s_output_names_it() -> None:
    name = "delete-id-not-requested"
    named = outcome(name, 1, ("rule:delete-returns-requested-id",))
    assert named.covered == ("rule:delete-returns-requested-id",)
    assert outcome(name, 0).covered == ()
    assert outcome(name, 1, ("rule:no-server-error",)).covered == ()
    assert covered_clauses([named]) == {"rule:delete-returns-requested-id": (name,)}


def test_clauses_no_caught_fault_names_are_listed_with_the_reason() -> None:
    rules = [
        "rule:delete-returns-requested-id",
        "rule:delete-answers-model-as-last-retrieved",
        "rule:answers-in-time",
        "rule:made-up",
        "strict.schema.json#/$defs/model/unevaluatedProperties",
    ]
    outcomes = [outcome("delete-id-not-requested", 1, ("rule:delete-returns-requested-id",))]
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
    outcomes = [outcome("delete-id-not-requested", 1, ("rule:delete-returns-requested-id",))]
    text = render(outcomes)
    assert "`rule:delete-answers-model-as-last-retrieved` *(not named)*" in text
    assert f"1 of {len(load_contract().rules())} clauses of SOURCES.md are covered" in text
    assert "`delete-id-not-requested` was caught, but the suite's output does not name this clause" in text
    write_report(outcomes, tmp_path / "r.md")
    coverage = json.loads((tmp_path / "r.json").read_text())["coverage"]
    assert coverage["covered"] == {"rule:delete-returns-requested-id": ["delete-id-not-requested"]}
    assert "rule:answers-in-time" in coverage["unreached"]


def test_the_safety_column_shows_a_colleague_kept_and_a_model_left_unnamed(tmp_path: Path) -> None:
    kept = outcome("hostile-deploy-502-then-colleague", 78, safety=safety(appeared=(COLLEAGUE,)))
    left = outcome("hostile-deploy-409-after-create", 78, safety=safety(unaccounted=("alice:sandbox/ft-1-1",)))
    text = render([kept, left])
    assert "no DELETE reached a model the run did not make (nor the 1 a colleague made during it)" in text
    assert (
        "**HARMED**: left 'alice:sandbox/ft-1-1', which a deploy of the run made, neither deleted nor named in a "
        "LEAK line" in text
    )
    assert (scores([kept, left]).hostile_safe, scores([kept, left]).hostile) == (1, 2)
