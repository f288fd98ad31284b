"""The nightly's report says what changed since last night, and the HTML report charts the nights before."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from oxen_contract.hub import LocalHub

from ..unit.test_html_report import _grid_cell, _parse
from .conftest import Runner

KEYS = {"OXEN_API_KEY": "key-a", "OXEN_API_KEY_OTHER": "key-b"}
CLAUSE = "model.schema.json#/properties/created/type"


def _night(run_suite: Runner, faults: list[str], report: Path, *args: str, env: dict[str, str] | None = None) -> str:
    with LocalHub({"key-a": "alice", "key-b": "bob"}, faults) as hub:
        result = run_suite(
            *("tests/contract", "--hub-url", hub.url, "--fine-tune", "alice/sandbox/ft-1"),
            *("--contract-report", str(report), *args),
            env={**KEYS, **(env or {})},
        )
    return result.stdout


def test_a_fault_switched_on_since_last_night_is_new_since_the_baseline_and_the_html_charts_three_nights(
    run_suite: Runner, tmp_path: Path
) -> None:
    nights = tmp_path / "nights"
    first = _night(run_suite, [], nights / "1.md")
    assert "CONTRACT HELD" in first, first[-3000:]
    summary = tmp_path / "step-summary.md"
    second = _night(
        run_suite,
        ["delete-created-as-string"],
        nights / "2.md",
        *("--baseline", str(nights / "1.json")),
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert "since the baseline:" in second and "new failure" in second, second[-3000:]
    text = (nights / "2.md").read_text()
    top = text.split("## Coverage")[0]
    assert "New since the baseline" in top and CLAUSE in top
    assert json.loads((nights / "2.json").read_text())["changes"]["started_failing"]
    assert "New since the baseline" in summary.read_text()

    third = tmp_path / "3.html"
    _night(run_suite, [], third, *("--baseline", str(nights / "2.json"), "--history", str(nights)))
    page = third.read_text()
    parsed = _parse(page)
    for svg in re.findall(r"<svg\b.*?</svg>", page, flags=re.DOTALL):
        ElementTree.fromstring(svg)
    assert "<svg" in page
    assert _grid_cell(parsed, "rule:delete-returns-requested-id", "deleteModel").split() == ["cell", "held"]
    assert "stopped failing" in page
