"""The report's two renderings, Markdown and HTML, from one view of one report model, through Jinja2 templates.

Two hand-written renderers over one JSON drifted apart (the HTML had no warnings, no vanished fields, no coverage per
status, no skip reasons). Now ``report_view`` turns the report's JSON into one view, and ``templates/report.md`` and
``templates/report.html`` lay out the same sections in the same order: the verdict; what is new since the baseline;
failures (with a table of contents); warnings and lenient inputs; drift and vanished fields; coverage per operation
and status, with the tests' counts and skip reasons; leaks and unsettled deploys; the trend (a chart and its numbers);
then the clause × operation grid. Jinja2 is the ecosystem's template engine, and it escapes every value of the HTML
page (paths, bodies and drift values are whatever the hub sent).

The page is self-contained (inline CSS, inline SVG, no script, font, image or stylesheet fetched from anywhere), so that
a CI artifact or a mail attachment shows the same thing offline. Its colours meet WCAG AA (4.5:1 for text); the
browser test checks them as rendered.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
from collections.abc import Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from .baseline import CHANGE_TABLES, CODE_COLUMNS, COLUMN_TITLES, changes_sentence, render_changes_markdown
from .markdown import code_span

__all__ = ["CLAUSE_OPERATIONS", "applies", "render_html", "render_markdown", "report_view"]

# Where a grid cell says nothing could be checked, because the clause is not about that operation.
NOT_APPLICABLE = "–"

_MODEL_OPERATIONS = ("listModels", "searchModels", "retrieveModel", "deleteModel", "activateModel", "deactivateModel")
_ID_OPERATIONS = ("retrieveModel", "deleteModel", "activateModel", "deactivateModel")
_DEPLOYS = ("deployFineTune", "deployCheckpoint")
# The operations each of the suite's own rules is about (SOURCES.md's rule rows say which requests they judge); a
# rule not named here applies everywhere. Schema clauses apply where openapi.yaml's answers reach their file.
CLAUSE_OPERATIONS: dict[str, tuple[str, ...]] = {
    "rule:delete-answers-the-deleted-model": ("deleteModel",),
    "rule:delete-returns-requested-id": ("deleteModel",),
    "rule:deleted-model-is-custom-and-yours": ("deleteModel",),
    "rule:delete-answers-model-as-last-retrieved": ("deleteModel",),
    "rule:delete-without-token-deletes-nothing": ("deleteModel",),
    "rule:base-model-not-deletable": ("deleteModel",),
    "rule:other-namespace-cannot-delete": ("deleteModel",),
    "rule:unknown-id-delete-is-refused": ("deleteModel",),
    "rule:deleted-model-is-gone": _MODEL_OPERATIONS,
    "rule:not-found-names-the-id": _ID_OPERATIONS,
    "rule:retrieve-answers-the-requested-model": ("retrieveModel",),
    "rule:activate-answers-the-model": ("activateModel", "deactivateModel"),
    "rule:activate-activates": ("activateModel", "retrieveModel"),
    "rule:deactivate-deactivates": ("deactivateModel", "retrieveModel"),
    "rule:invalid-input-is-refused": ("listModels", "searchModels", "retrieveModel"),
    "rule:list-filter-keeps-only-matches": ("listModels",),
    "rule:list-filter-is-a-subset": ("listModels",),
    "rule:search-is-a-subset-of-list": ("listModels", "searchModels"),
    "rule:own-model-listed": ("listModels", "searchModels"),
    "rule:own-model-hidden-from-other-namespaces": ("listModels", "searchModels", "retrieveModel"),
    "rule:documented-fields-keep-coming": _MODEL_OPERATIONS,
    "rule:deploy-answer-names-the-model": _DEPLOYS,
    "rule:deploy-of-a-missing-fine-tune-is-404": _DEPLOYS,
}

_OK_OUTCOMES = {"contract held": "ok", "partial pass": "warn"}
# Colours for the chart's two series (graphics: 3:1 against white is AA; both pass 4.5:1 as well).
FAILURE_COLOUR, DRIFT_COLOUR = "#b71c1c", "#0d47a1"


def applies(clause: str, operation: str, schema_files: dict[str, frozenset[str]]) -> bool:
    """Whether ``clause`` is about ``operation``: a rule by CLAUSE_OPERATIONS, a schema clause by its file."""
    if clause.startswith("rule:"):
        return operation in CLAUSE_OPERATIONS.get(clause, (operation,))
    schema_file = clause.split("#", 1)[0]
    known = schema_files.get(operation)
    return known is None or schema_file in known


def _environment(html: bool) -> Environment:
    environment = Environment(
        loader=PackageLoader("oxen_contract.reporting", "templates"),
        autoescape=select_autoescape(["html"]) if html else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["md"] = _md_cell
    environment.filters["code"] = functools.partial(code_span, table=True)
    environment.filters["prose"] = _prose
    environment.filters["breakable"] = _breakable
    return environment


# -- filters --------------------------------------------------------------------------------------------------------


def _md_cell(value: Any) -> str:
    """Plain text in a Markdown table cell or list item: one line, pipes escaped."""
    return str(value).replace("\n", " ").replace("|", "\\|")


def _prose(value: Any) -> Markup:
    """A rule or note as HTML: escaped, with its Markdown `code` and **strong** spans as elements."""
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(str(value))))
    return Markup(re.sub(r"\*\*([^*<>]+)\*\*", r"<strong>\1</strong>", text))


def _breakable(clause: Any) -> Markup:
    """A clause id, escaped, that may wrap after each ``/`` (ids run to 90 characters)."""
    return Markup(str(escape(str(clause))).replace("/", "/<wbr>"))


# -- the view -------------------------------------------------------------------------------------------------------


def _grid(report: dict[str, Any], schema_files: dict[str, frozenset[str]]) -> dict[str, Any]:
    clauses: dict[str, dict[str, Any]] = dict(report.get("clauses", {}))
    failures: list[dict[str, Any]] = report.get("failures", [])
    coverage: dict[str, dict[str, int]] = report.get("coverage", {}) or {}
    operations = sorted({*coverage, *(str(failure.get("operation")) for failure in failures)})
    answered = {operation for operation in operations if sum(coverage.get(operation, {}).values())}
    broken: dict[tuple[str, str], int] = {}
    for failure in failures:
        key = (str(failure.get("clause")), str(failure.get("operation")))
        broken[key] = broken.get(key, 0) + 1
        clauses.setdefault(key[0], {"rule": failure.get("rule", ""), "checked": 0, "broken": 0})
    # Clauses with a failure first, then the contract's order.
    order = sorted(clauses, key=lambda clause: not any((clause, op) in broken for op in operations))
    rows = []
    for clause in order:
        entry = clauses[clause]
        cells = []
        for operation in operations:
            count = broken.get((clause, operation), 0)
            if count:
                cells.append(("broken", f"✗ {count}", f"{count} failure(s) of {operation}"))
            elif not applies(clause, operation, schema_files):
                cells.append(("na", NOT_APPLICABLE, f"not about {operation}"))
            elif entry.get("checked") and operation in answered:
                cells.append(("held", "✓", f"checked in this run, no failure of {operation}"))
            else:
                cells.append(("unchecked", "·", f"not checked on {operation} in this run"))
        rows.append(
            {
                "clause": clause,
                "rule": entry.get("rule", ""),
                "cells": cells,
                "checked": entry.get("checked", 0),
                "broken": entry.get("broken", 0),
            }
        )
    totals = [sum(coverage.get(operation, {}).values()) for operation in operations]
    return {"operations": operations, "rows": rows, "answers": totals}


def _coverage(report: dict[str, Any]) -> dict[str, Any]:
    coverage: dict[str, dict[str, int]] = report.get("coverage", {}) or {}
    statuses = sorted({int(status) for answers in coverage.values() for status in answers})
    # Status keys are numbers in the run and strings once read back from JSON (a baseline, the history).
    counted = {operation: {int(status): n for status, n in answers.items()} for operation, answers in coverage.items()}
    rows = [
        (operation, [answers.get(status, 0) for status in statuses]) for operation, answers in sorted(counted.items())
    ]
    return {"statuses": statuses, "rows": rows}


_TEST_COUNTS = ("passed", "failed", "errors", "setup_errors", "skipped", "xfailed", "xpassed", "subtests_passed")


def _tests(report: dict[str, Any]) -> dict[str, Any] | None:
    tests = report.get("tests")
    if not isinstance(tests, dict):
        return None
    counts = [(key.replace("_", " "), tests[key]) for key in _TEST_COUNTS if tests.get(key)]
    if tests.get("deselected"):
        counts.append(("deselected", tests["deselected"]))
    reasons = sorted((tests.get("skip_reasons") or {}).items(), key=lambda item: (-int(item[1]), item[0]))
    return {"counts": counts or [("passed", 0)], "skip_reasons": reasons}


def _when(report: dict[str, Any]) -> datetime.datetime | None:
    try:
        when = datetime.datetime.fromisoformat(str(report.get("started")))
    except ValueError:
        return None
    return when.astimezone(datetime.UTC) if when.tzinfo else when


def _step(top: int) -> int:
    """A round tick step (1, 2, 5, 10, 20, ...) giving at most five ticks up to ``top``."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if top <= 5 * step * magnitude:
                return step * magnitude
        magnitude *= 10


def _trend(history: Sequence[dict[str, Any]], current: dict[str, Any]) -> dict[str, Any]:
    """The trend chart's geometry and its numbers (a table beside the chart gives them to every reader)."""
    runs = [report for report in history if report.get("started") != current.get("started")] + [current]
    failures = [len(report.get("failures", [])) for report in runs]
    drift = [len((report.get("drift") or {}).get("unknown_fields") or {}) for report in runs]
    width, height, left, right, top, bottom = 760, 300, 56, 48, 40, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    step = _step(max(1, *failures, *drift))
    ceiling = step * math.ceil(max(1, *failures, *drift) / step)

    def x(index: int) -> float:
        return round(left + (plot_w * index / (len(runs) - 1) if len(runs) > 1 else plot_w / 2), 1)

    def y(value: int) -> float:
        return round(top + plot_h * (1 - value / ceiling), 1)

    whens = [_when(report) for report in runs]
    days = [when.date() if when else None for when in whens]
    label_format = "%Y-%m-%d" if len(set(days)) == len(days) else "%m-%d %H:%M"
    labels = [when.strftime(label_format) if when else "?" for when in whens]
    every = max(1, math.ceil(len(runs) / 8))
    series = [
        {"name": name, "colour": colour, "dash": index == 1, "points": [(x(i), y(v), v) for i, v in enumerate(values)]}
        for index, (name, colour, values) in enumerate(
            (("failures", FAILURE_COLOUR, failures), ("fields the contract does not name", DRIFT_COLOUR, drift))
        )
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "plot_w": plot_w,
        "plot_h": plot_h,
        "ticks": [(tick, y(tick)) for tick in range(0, ceiling + 1, step)],
        "labels": [(x(i), label) for i, label in enumerate(labels) if i % every == 0 or i == len(runs) - 1],
        "series": series,
        "table": [
            {"run": label, "outcome": report.get("outcome", "?"), "failures": f, "drift": d}
            for label, report, f, d in zip(labels, runs, failures, drift, strict=True)
        ],
    }


def _changes(changes: dict[str, Any] | None) -> dict[str, Any] | None:
    if changes is None:
        return None
    tables = [
        {
            "title": title,
            "columns": [(column, COLUMN_TITLES.get(column, column)) for column in columns],
            "entries": changes[key],
        }
        for key, title, columns in CHANGE_TABLES
        if changes.get(key)
    ]
    return {**changes, "sentence": changes_sentence(changes), "tables": tables, "code_columns": CODE_COLUMNS}


def report_view(
    report: dict[str, Any],
    history: Sequence[dict[str, Any]] = (),
    changes: dict[str, Any] | None = None,
    *,
    compact: bool = False,
) -> dict[str, Any]:
    """What both templates show, computed once.

    ``compact`` (the step summary past its size budget) leaves out the grid, the drift value tables and all but the
    first failures, and says so.
    """
    from ..checking.contracts import load_contract

    schema_files = load_contract().schema_files_by_operation()
    failures = report.get("failures", [])
    shown = failures[:_COMPACT_FAILURES] if compact else failures
    drift = report.get("drift") or {}
    lenient = report.get("lenient_inputs") or {}
    contract = report.get("contract") or {}
    meta = [(key.replace("_", " "), report[key]) for key in _META if key in report]
    if contract:
        meta += [("contract", f"sha256:{contract.get('digest', '?')}"), ("oxen-contract", contract.get("version"))]
    return {
        "title": "Contract report: Oxen hub models API",
        "outcome": report.get("outcome", "?"),
        "outcome_class": _OK_OUTCOMES.get(str(report.get("outcome")), "bad"),
        "exit_status": report.get("exit_status", "?"),
        "summary": report.get("summary"),
        "started": report.get("started", ""),
        "broken_clauses": sum(1 for entry in report.get("clauses", {}).values() if entry.get("broken")),
        "meta": meta,
        "contract": contract,
        "failures": shown,
        "failures_total": len(failures),
        "warnings": report.get("warnings") or [],
        "run_warnings": report.get("run_warnings") or [],
        "lenient": lenient.get("entries", []),
        "strict": bool(lenient.get("fails_the_run") or drift.get("fails_the_run")),
        "unknown_fields": sorted((drift.get("unknown_fields") or {}).items()),
        "vanished_fields": drift.get("vanished_fields") or [],
        "open_values": [
            (label, value, seen)
            for label, values in sorted((drift.get("open_values") or {}).items())
            for value, seen in values.items()
        ],
        "coverage": _coverage(report),
        "tests": _tests(report),
        "leaks": report.get("leaks") or [],
        "unsettled": report.get("unsettled") or [],
        "grid": None if compact else _grid(report, schema_files),
        "trend": _trend(history, report) if history else None,
        "changes": _changes(changes),
        "changes_markdown": "\n".join(render_changes_markdown(changes)) if changes is not None else "",
        "compact": compact,
        "not_applicable": NOT_APPLICABLE,
        "failure_colour": FAILURE_COLOUR,
        "drift_colour": DRIFT_COLOUR,
    }


_META = ("mode", "hub", "variant", "started", "duration_s", "versions")
# The step summary past its size budget shows this many failures; the artifact has them all.
_COMPACT_FAILURES = 20


def render_markdown(
    report: dict[str, Any],
    history: Sequence[dict[str, Any]] = (),
    changes: dict[str, Any] | None = None,
    *,
    compact: bool = False,
) -> str:
    """The report as Markdown (GitHub's flavour: long tables folded in <details>)."""
    view = report_view(report, history, changes, compact=compact)
    return _environment(html=False).get_template("report.md").render(view)


def render_html(
    current: dict[str, Any], history: Sequence[dict[str, Any]] = (), changes: dict[str, Any] | None = None
) -> str:
    """The report as one self-contained HTML5 page; ``history`` (earlier reports, oldest first) adds a trend."""
    return _environment(html=True).get_template("report.html").render(report_view(current, history, changes))
