"""report.py and its two renderings: every section in both, the grid's "–" cells, the step summary's size, the label."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from oxen_contract.checking.contracts import contract_digest, load_contract
from oxen_contract.checking.tally import Tally
from oxen_contract.reporting.html_report import CLAUSE_OPERATIONS, NOT_APPLICABLE, applies, render_html, render_markdown
from oxen_contract.reporting.report import STEP_SUMMARY_LIMIT, step_summary, write_contract_report

from .test_baseline import GONE, failure, lenient, make_report
from .test_html_report import _grid_cell, _parse

VANISHED = "fine_tuning.actions"
WARNED = "rule:own-model-listed"
SKIPPED = "no --fine-tune or --disposable-model: the tests that delete skip"


def _full_report() -> dict[str, Any]:
    """One run's report with something in every section: failures, warnings, a vanished field, leaks and skips."""
    report = make_report(
        failures=[failure(), failure("retrieveModel", clause=GONE, method="GET")],
        unknown_fields=["license"],
        lenient_inputs=[lenient()],
        leaks=[
            {"model_id": "alice:sandbox/ft-1-9", "deleted": False, "detail": "DELETE answered 500", "curl": "curl x"},
            {"model_id": "alice:sandbox/ft-1-8", "deleted": True, "detail": "left by run 1234", "curl": ""},
        ],
    )
    report["warnings"] = [
        {
            "clause": WARNED,
            "operation": "listModels",
            "method": "GET",
            "path": "/api/ai/models",
            "expected": "the run's own model in its list",
            "actual": "not listed",
            "curl": "curl -X GET http://127.0.0.1:8000/api/ai/models",
        }
    ]
    report["drift"]["vanished_fields"] = [VANISHED]
    report["unsettled"] = [{"deploy": "deploy 2/3 of alice/sandbox/ft-1", "detail": "timed out", "candidates": []}]
    report["tests"].update({"skipped": 3, "skip_reasons": {SKIPPED: 3}})
    report["contract"] = {"digest": contract_digest(), "version": "0.1.0"}
    return report


# (what the section is, a line of the Markdown, a piece of the HTML): each must be in its rendering.
SECTIONS = (
    ("verdict", "**contract violations** (exit status 1)", '<span class="outcome bad">contract violations</span>'),
    (
        "failure table of contents",
        "1. [`model.schema.json#/properties/created/type` in deleteModel](#failure-1)",
        '<a href="#failure-1"><code>model.schema.json#/properties/created/type</code> in deleteModel</a>',
    ),
    ("failures", "### 2. `rule:deleted-model-is-gone` in retrieveModel", 'id="failure-2"'),
    ("warnings", f"- `{WARNED}` in listModels", f"<td><code>{WARNED}</code></td><td>listModels</td>"),
    ("lenient inputs", "`rule:invalid-input-is-refused`", "<caption>Lenient inputs (1)</caption>"),
    ("drift", "| `license` | 7 |", "<td><code>license</code></td>"),
    ("vanished fields", f"`{VANISHED}`", f"<code>{VANISHED}</code>"),
    ("coverage per operation and status", "| deleteModel | 2 |  | 3 |", '<th scope="row">deleteModel</th>'),
    ("skip reasons", f"- 3 × {SKIPPED}", f"<td>{SKIPPED}</td>"),
    (
        "leaks",
        "**`alice:sandbox/ft-1-9` is still on the hub**",
        "<code>alice:sandbox/ft-1-9</code> is still on the hub",
    ),
    (
        "unsettled deploys",
        "- deploy 2/3 of alice/sandbox/ft-1: timed out",
        "<li>deploy 2/3 of alice/sandbox/ft-1: timed out",
    ),
    ("contract digest", f"sha256:{contract_digest()}", f"sha256:{contract_digest()}"),
    ("package version", "| oxen-contract | 0.1.0 |", '<th scope="row">oxen-contract</th><td>0.1.0</td>'),
    ("clause grid", "## Clauses × operations", 'id="grid"'),
)


@pytest.mark.parametrize(("section", "markdown", "html"), SECTIONS, ids=[section for section, _, _ in SECTIONS])
def test_both_renderings_of_one_report_hold_the_section(section: str, markdown: str, html: str) -> None:
    report = _full_report()
    assert markdown in render_markdown(report), f"{section} missing from the Markdown"
    assert html in render_html(report), f"{section} missing from the HTML"


def test_both_renderings_give_the_sections_in_the_same_order() -> None:
    report = _full_report()
    order = ("Failures", "Warnings", "Lenient inputs", "Drift", "Coverage", "Leaks", "Clauses × operations")
    markdown, page = render_markdown(report), render_html(report)
    assert [markdown.index(f"## {title}\n") for title in order] == sorted(markdown.index(f"## {t}\n") for t in order)
    assert [page.index(f"<h2>{title}</h2>") for title in order] == sorted(page.index(f"<h2>{t}</h2>") for t in order)
    # The verdict leads the page, before the first failure.
    assert page.index("contract violations") < page.index('id="failure-1"')


def test_a_grid_cell_is_a_dash_exactly_where_the_clause_is_not_about_the_operation() -> None:
    contract = load_contract()
    report = make_report()
    report["clauses"] = {clause: {"rule": rule, "checked": 1, "broken": 0} for clause, rule in contract.rules().items()}
    operations = sorted(contract.schema_files_by_operation())
    report["coverage"] = {operation: {"200": 1} for operation in operations}
    page = _parse(render_html(report))
    files = contract.schema_files_by_operation()
    for clause in report["clauses"]:
        for operation in operations:
            cell = _grid_cell(page, clause, operation)
            assert (cell == "cell na") == (not applies(clause, operation, files)), (clause, operation, cell)
    # What the issue saw overstated: delete-only clauses marked held under listModels and every other operation.
    for operation in ("listModels", "searchModels", "retrieveModel", "activateModel"):
        assert _grid_cell(page, "rule:delete-returns-requested-id", operation) == "cell na"
    assert _grid_cell(page, "rule:delete-returns-requested-id", "deleteModel") == "cell held"
    # Schema clauses go where openapi.yaml's answers reach their file: a list's wrapper is not a delete answer's.
    list_clause = next(clause for clause in report["clauses"] if clause.startswith("model-list.schema.json#"))
    assert _grid_cell(page, list_clause, "deleteModel") == "cell na"
    assert _grid_cell(page, list_clause, "listModels") == "cell held"
    assert all(_grid_cell(page, "rule:no-server-error", operation) == "cell held" for operation in operations)
    assert NOT_APPLICABLE == "–" and "–</td>" in render_html(report)


def test_every_rule_the_grid_maps_is_a_rule_of_the_contract() -> None:
    # A rule renamed in SOURCES.md would silently fall back to "applies everywhere".
    assert set(CLAUSE_OPERATIONS) <= set(load_contract().rules())


def test_a_step_summary_past_github_s_limit_is_shortened_and_says_so() -> None:
    report = _full_report()
    assert step_summary(report) == render_markdown(report)
    huge = "x" * 2000
    report["failures"] = [failure(model_id=f"alice:sandbox/ft-1-{n}") | {"actual": huge} for n in range(800)]
    report["drift"]["open_values"] = {
        "developer.name": {f"v{n}-{huge}": {"count": 1, "examples": []} for n in range(300)}
    }
    whole = render_markdown(report)
    assert len(whole.encode()) > STEP_SUMMARY_LIMIT
    short = step_summary(report)
    assert len(short.encode()) <= STEP_SUMMARY_LIMIT
    assert "shortened to fit the step summary's size limit" in short
    assert "## Clauses × operations" not in short and "## Leaks" in short


def test_a_report_with_a_hub_label_names_the_hub_by_it_and_never_by_its_url(tmp_path: Path) -> None:
    url = "https://staging.internal.example/base"
    tally = Tally(load_contract())
    tally.failures.append(failure() | {"curl": f"curl -X DELETE {url}/api/ai/models/x -H 'Authorization: ...'"})
    meta = {"outcome": "contract violations", "mode": "live", "hub": url, "exit_status": 1, "started": "2026-12-01"}
    (md, twin), _ = write_contract_report(tmp_path / "contract.md", tally, meta, False, hub_label="staging")
    html = tmp_path / "contract.html"
    write_contract_report(html, tally, meta, False, hub_label="staging")
    for path in (md, twin, html):
        text = path.read_text(encoding="utf-8")
        assert url not in text and "staging.internal" not in text, path
        assert "staging (URL withheld" in text
    assert (
        "curl -X DELETE $OXEN_CONTRACT_HUB_URL/api/ai/models/x" in json.loads(twin.read_text())["failures"][0]["curl"]
    )


def test_the_json_twin_names_the_contract_digest_and_version(tmp_path: Path) -> None:
    from oxen_contract import __version__

    meta = {"outcome": "contract held", "mode": "replay", "hub": "cassettes", "exit_status": 0, "started": "2026-12-01"}
    (_, twin), _ = write_contract_report(tmp_path / "r.md", Tally(load_contract()), meta, False)
    data = json.loads(twin.read_text(encoding="utf-8"))
    assert data["contract"] == {"digest": contract_digest(), "version": __version__}
    assert re.fullmatch(r"[0-9a-f]{64}", data["contract"]["digest"])
