"""baseline.py: what a fault switched on or off between two nights shows as, and a clear word on a bad baseline."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from oxen_contract.reporting.baseline import (
    BaselineError,
    changes_sentence,
    changes_since,
    load_baseline,
    load_history,
    render_changes_markdown,
)

CREATED = "model.schema.json#/properties/created/type"
IN_TIME = "rule:answers-in-time"
GONE = "rule:deleted-model-is-gone"
INVALID = "rule:invalid-input-is-refused"
DEPLOY = "deploy.schema.json#/$defs/fineTuneDeployAnswer/type"
RULES = {
    CREATED: "`created` is an integer (Unix timestamp)",
    IN_TIME: "every request's whole answer, body included, arrives within `--request-timeout` and under 10 MB",
    GONE: "after a delete, retrieve, activate, deactivate and delete answer 404",
    INVALID: "**strict only**: a request that breaks a documented parameter rule is refused with a 4xx",
    DEPLOY: "the fine-tune deploy answer is an object",
}
HUB = "http://127.0.0.1:8000"


def failure(
    operation: str = "deleteModel",
    clause: str = CREATED,
    method: str = "DELETE",
    model_id: str = "alice:sandbox/ft-1-1-aaaaaa",
    status: int = 200,
    path: str | None = None,
) -> dict[str, Any]:
    """One failure as the report writes it; the path holds the model id, which changes night to night."""
    path = path if path is not None else "/api/ai/models/" + model_id.replace(":", "%3A").replace("/", "%2F")
    return {
        "operation": operation,
        "method": method,
        "path": path,
        "model_id": model_id,
        "status": status,
        "clause": clause,
        "rule": RULES.get(clause, ""),
        "at": "/created" if clause == CREATED else "",
        "expected": '"integer"',
        "actual": '"1796003148"',
        "curl": f'curl -X {method} {HUB}{path} -H "Authorization: Bearer $OXEN_API_KEY"',
    }


def lenient(path: str = "/api/ai/models/gpt-4o?deployment_status=x") -> dict[str, Any]:
    return {
        "operation": "retrieveModel",
        "method": "GET",
        "path": path,
        "status": 200,
        "clause": INVALID,
        "detail": "Invalid data should have been rejected",
        "curl": f"curl -X GET '{HUB}{path}' -H \"Authorization: Bearer $OXEN_API_KEY\"",
    }


def make_report(
    *,
    started: str = "2026-11-28T02:00:00+00:00",
    failures: list[dict[str, Any]] | None = None,
    lenient_inputs: list[dict[str, Any]] | None = None,
    unknown_fields: Sequence[str] = (),
    open_values: dict[str, list[str]] | None = None,
    unchecked: tuple[str, ...] = (DEPLOY,),
    leaks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A report of the real shape (``report.write_contract_report``'s JSON twin), small enough to read."""
    failures = failures or []
    broken: dict[str, int] = {}
    for entry in failures:
        broken[entry["clause"]] = broken.get(entry["clause"], 0) + 1
    outcome = "contract violations" if failures else "contract held"
    return {
        "outcome": outcome,
        "exit_status": 1 if failures else 0,
        "summary": f"{outcome.upper()}: 120 checks over 40 answers; deleteModel answers checked: 200×2, 404×3",
        "mode": "live",
        "hub": HUB,
        "variant": "default",
        "started": started,
        "duration_s": 4.2,
        "versions": "oxen-contract 0.1.0, python 3.11.7",
        "leaks": leaks or [],
        "tests": {"passed": 60, "failed": len(failures), "setup_errors": 0, "skipped": 0, "skip_reasons": {}},
        "coverage": {
            "deleteModel": {"200": 2, "404": 3},
            "listModels": {"200": 10},
            "retrieveModel": {"200": 20, "400": 2},
        },
        "clauses": {
            clause: {"rule": rule, "checked": 0 if clause in unchecked else 10, "broken": broken.get(clause, 0)}
            for clause, rule in RULES.items()
        },
        "failures": failures,
        "lenient_inputs": {"entries": lenient_inputs or [], "fails_the_run": False},
        "drift": {
            "unknown_fields": {
                name: {"count": 7, "examples": ["gpt-4o", "alice:sandbox/ft-1"]} for name in unknown_fields
            },
            "open_values": {
                label: {value: {"count": 3, "examples": ["gpt-4o"]} for value in values}
                for label, values in (open_values or {"developer.name": ["OpenAI"]}).items()
            },
            "fails_the_run": False,
        },
    }


def test_a_fault_switched_on_shows_its_failures_whole_as_new_and_the_outcome_change() -> None:
    baseline = make_report()
    broken = [failure(model_id="alice:sandbox/ft-1-1-bbbbbb"), failure(model_id="alice:sandbox/ft-1-2-cccccc")]
    changes = changes_since(make_report(failures=broken), baseline)
    assert changes["new_failures"] == broken
    assert [entry["clause"] for entry in changes["started_failing"]] == [CREATED]
    assert changes["outcome"] == {"was": "contract held", "now": "contract violations"}
    assert not changes["nothing_new"]
    assert changes_sentence(changes) == (f"contract held → contract violations: 2 new failures (deleteModel {CREATED})")


def test_the_same_failure_on_another_nights_disposable_model_is_not_new() -> None:
    last_night = make_report(failures=[failure(model_id="alice:sandbox/ft-1-1-aaaaaa")])
    tonight = make_report(failures=[failure(model_id="alice:sandbox/ft-1-1-ffffff")], started="2026-11-29T02:00:00Z")
    changes = changes_since(tonight, last_night)
    assert changes["new_failures"] == []
    assert changes["nothing_new"]
    assert changes_sentence(changes) == "nothing new since the baseline: contract violations, 1 failure as before"


def test_the_same_clause_failing_on_another_operation_is_a_new_failure() -> None:
    last_night = make_report(failures=[failure()])
    tonight = make_report(failures=[failure(), failure("retrieveModel", method="GET")])
    changes = changes_since(tonight, last_night)
    assert [entry["operation"] for entry in changes["new_failures"]] == ["retrieveModel"]
    assert changes["started_failing"] == []


def test_a_fault_switched_off_shows_its_clause_as_stopped_failing() -> None:
    changes = changes_since(make_report(), make_report(failures=[failure(), failure(model_id="a:b/ft-2")]))
    assert changes["stopped_failing"] == [{"clause": CREATED, "rule": RULES[CREATED], "was_broken": 2, "checked": 10}]
    assert changes["failures_gone"] == [{"operation": "deleteModel", "clause": CREATED, "method": "DELETE", "count": 2}]
    assert changes["new_failures"] == []
    assert changes_sentence(changes) == f"contract violations → contract held: {CREATED} stopped failing"


def test_a_broken_clause_this_run_did_not_check_has_not_stopped_failing_it_is_no_longer_checked() -> None:
    baseline = make_report(failures=[failure(clause=GONE)])
    changes = changes_since(make_report(unchecked=(DEPLOY, GONE)), baseline)
    assert changes["stopped_failing"] == []
    assert [entry["clause"] for entry in changes["no_longer_checked"]] == [GONE]
    assert "1 clause no longer checked (rule:deleted-model-is-gone)" in changes_sentence(changes)


def test_identical_reports_show_nothing_new() -> None:
    report = make_report(failures=[failure()], unknown_fields=["tags"], lenient_inputs=[lenient()])
    changes = changes_since(report, copy.deepcopy(report))
    assert changes["nothing_new"]
    assert all(value == [] for value in changes.values() if isinstance(value, list))
    lines = render_changes_markdown(changes)
    assert lines[0] == "## New since the baseline"
    assert "**nothing new since the baseline: contract violations, 1 failure as before**" in lines
    assert not any(line.startswith("###") for line in lines)


def test_a_drift_field_that_appears_is_new_and_one_that_vanishes_is_gone() -> None:
    baseline = make_report(unknown_fields=["license"], open_values={"developer.name": ["OpenAI", "Meta"]})
    current = make_report(unknown_fields=["pricing.surge"], open_values={"developer.name": ["OpenAI", "Acme"]})
    changes = changes_since(current, baseline)
    assert [entry["field"] for entry in changes["new_drift_fields"]] == ["pricing.surge"]
    assert [entry["field"] for entry in changes["drift_fields_gone"]] == ["license"]
    assert [(entry["label"], entry["value"]) for entry in changes["new_open_values"]] == [("developer.name", "Acme")]
    assert [(entry["label"], entry["value"]) for entry in changes["open_values_gone"]] == [("developer.name", "Meta")]
    assert changes_sentence(changes) == (
        "1 new drift field (pricing.surge), 1 new open value (developer.name=Acme); "
        "1 drift field gone (license), 1 open value gone (developer.name=Meta)"
    )


def test_a_new_lenient_input_is_told_apart_by_operation_clause_and_method_not_path() -> None:
    baseline = make_report(lenient_inputs=[lenient("/api/ai/models/gpt-4o?deployment_status=a")])
    same = make_report(lenient_inputs=[lenient("/api/ai/models/claude?deployment_status=b")])
    assert changes_since(same, baseline)["new_lenient_inputs"] == []
    changes = changes_since(same, make_report())
    assert changes["new_lenient_inputs"] == same["lenient_inputs"]["entries"]
    assert changes_sentence(changes) == f"1 new lenient input (retrieveModel {INVALID})"


def test_the_chat_sentence_puts_new_failures_and_drift_before_what_stopped_failing() -> None:
    timeout = failure(clause=IN_TIME, status=0)
    baseline = make_report(failures=[failure("listModels", clause=GONE, method="GET"), timeout])
    current = make_report(
        failures=[failure("listModels", clause=GONE, method="GET"), failure(), failure(model_id="a:b/ft-9")],
        unknown_fields=["pricing.surge"],
    )
    assert changes_sentence(changes_since(current, baseline)) == (
        f"2 new failures (deleteModel {CREATED}), 1 new drift field (pricing.surge); {IN_TIME} stopped failing"
    )


def test_a_long_list_in_the_sentence_names_three_and_counts_the_rest() -> None:
    changes = changes_since(make_report(unknown_fields=["a", "b", "c", "d", "e"]), make_report())
    assert changes_sentence(changes) == "5 new drift fields (a, b, c and 2 more)"


def test_the_markdown_section_shows_new_failures_whole_and_keeps_tables_intact() -> None:
    odd = failure(path="/api/ai/models/a|b`c")
    changes = changes_since(make_report(failures=[odd], unknown_fields=["x|y"]), make_report())
    lines = render_changes_markdown(changes)
    text = "\n".join(lines)
    assert "### New failures" in text and odd["curl"].replace("`", "") in text.replace("`", "")
    assert "| `x\\|y` | 7 |" in text
    for line in lines:
        if line.startswith("|"):
            # Every row of a table has as many cells as its header: no pipe leaked out of a cell.
            assert line.replace("\\|", "").count("|") in (4, 5, 7)


def test_a_baseline_from_an_older_report_without_lenient_inputs_or_leaks_still_compares() -> None:
    old = make_report()
    del old["lenient_inputs"], old["leaks"], old["tests"]
    changes = changes_since(make_report(lenient_inputs=[lenient()]), old)
    assert len(changes["new_lenient_inputs"]) == 1


def test_load_baseline_reads_a_report(tmp_path: Path) -> None:
    path = tmp_path / "contract.json"
    path.write_text(json.dumps(make_report(failures=[failure()])), encoding="utf-8")
    assert load_baseline(path)["failures"] == [failure()]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("missing.json", None, "no such file"),
        ("empty.json", "", "empty file"),
        ("broken.json", '{"outcome": ', "not JSON (Expecting value at line 1 column 13)"),
        ("latin1.json", b"\xff\xfe{", "not JSON (not UTF-8 text)"),
        ("contract.md", "# Contract report", "not JSON (a .md report?): give its JSON twin"),
        ("list.json", "[1, 2]", "not a contract report of this suite (a JSON list, not an object)"),
        ("other.json", '{"hub": "x", "run": "y"}', "not a contract report of this suite (no 'outcome', 'clauses'"),
        (
            "typed.json",
            json.dumps({**make_report(), "failures": {"a": 1}}),
            "not a contract report of this suite ('failures' is a dict)",
        ),
        (
            "failures.json",
            json.dumps({**make_report(), "failures": [{"operation": "x"}]}),
            "a failure without operation, clause and method",
        ),
    ],
)
def test_a_bad_baseline_file_gives_one_line_naming_the_file_and_what_is_wrong(
    tmp_path: Path, name: str, content: str | bytes | None, problem: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError) as caught:
        load_baseline(path)
    message = str(caught.value)
    assert message.startswith(f"baseline report {path}: ")
    assert problem in message
    assert "\n" not in message
    assert caught.value.path == path


def test_a_directory_named_as_the_baseline_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="is a directory, not a JSON report"):
        load_baseline(tmp_path)


def test_history_is_oldest_first_and_skips_files_that_are_not_reports(tmp_path: Path) -> None:
    for day in (29, 27, 28):
        started = f"2026-11-{day}T02:00:00+00:00"
        (tmp_path / f"night-{day}.json").write_text(json.dumps(make_report(started=started)), encoding="utf-8")
    (tmp_path / "aaa-truncated.json").write_text('{"outcome": "contr', encoding="utf-8")
    reports, skipped = load_history(tmp_path)
    assert [report["started"][8:10] for report in reports] == ["27", "28", "29"]
    assert len(skipped) == 1 and "aaa-truncated.json: not JSON" in skipped[0]
    assert [report["started"][8:10] for report in load_history(tmp_path, limit=2)[0]] == ["28", "29"]
