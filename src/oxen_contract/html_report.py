"""The run's report as one HTML page: the same JSON as the Markdown report, drawn for a browser.

The page is self-contained (inline CSS, inline SVG, no script, font, image or stylesheet fetched from anywhere) so
that a CI artifact or a mail attachment shows the same thing offline. Every string that comes from the report is
escaped: paths, bodies and drift values are whatever the hub sent.
"""

from __future__ import annotations

import datetime
import html
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from .baseline import CHANGE_TABLES, CODE_COLUMNS, COLUMN_TITLES, changes_sentence

__all__ = ["render_html"]

_OK_OUTCOMES = {"contract held": "ok", "partial pass": "warn"}
_FAILURE_COLOUR, _DRIFT_COLOUR = "#c62828", "#1565c0"
_NONE = '<p class="none">None.</p>'

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:0;background:#fafafa}
main{max-width:1360px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f0f0f0;padding:8px 10px;border-radius:4px;white-space:pre-wrap;word-break:break-all;margin:6px 0}
table{border-collapse:collapse;margin:6px 0;background:#fff}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3;font-weight:600}
td code{word-break:break-all}
.outcome{display:inline-block;padding:4px 12px;border-radius:4px;font-weight:700;color:#fff;background:#c62828}
.outcome.ok{background:#2e7d32}.outcome.warn{background:#ef6c00}
.summary{font-size:15px;margin:8px 0 12px}
.meta td:first-child{color:#555}
.news{background:#fff8e1;border:1px solid #f3d37a;padding:4px 16px 12px;border-radius:6px}
.news.quiet{background:#f1f8e9;border-color:#c5e1a5}
.grid td.cell{text-align:center;min-width:64px;font-weight:600}
.grid td.broken{background:#e53935;color:#fff}.grid td.held{background:#c8e6c9;color:#1b5e20}
.grid td.unchecked{background:#eee;color:#999}
.grid td.clause code{font-size:12px;word-break:normal}.grid .rule{color:#555;font-size:12.5px;margin-top:1px}
.scroll{overflow-x:auto}
.grid tfoot td{background:#f3f3f3;text-align:center}
.legend span{display:inline-block;padding:1px 8px;margin:0 6px 0 14px;border-radius:3px;font-weight:600}
.legend .broken{background:#e53935;color:#fff}.legend .held{background:#c8e6c9;color:#1b5e20}
.legend .unchecked{background:#eee;color:#999}
.failure{background:#fff;border:1px solid #ddd;border-left:4px solid #c62828;padding:2px 12px 6px;margin:10px 0}
.failure dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0}
.failure dt{color:#555}.failure dd{margin:0}
.still{color:#c62828;font-weight:600}
.none{color:#777}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _code(value: Any) -> str:
    return f"<code>{_e(value)}</code>"


def _table(headers: Sequence[str] | None, rows: Iterable[Sequence[str]], css: str = "") -> str:
    """A table of already-escaped cells; no header row if ``headers`` is None."""
    head = "" if headers is None else "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in headers) + "</tr></thead>"
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    if not body:
        body = f'<tr><td class="none" colspan="{len(headers or ())}">none</td></tr>'
    return f'<table class="{css}">{head}<tbody>{body}</tbody></table>'


def _breakable(clause: str) -> str:
    """A clause id, escaped, that may wrap after each ``/`` (ids run to 90 characters)."""
    return _e(clause).replace("/", "/<wbr>")


def _prose(text: Any) -> str:
    """A rule or note as HTML: escaped, with its Markdown `code` and **strong** spans as elements."""
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(text))
    return re.sub(r"\*\*([^*<>]+)\*\*", r"<strong>\1</strong>", text)


def _examples(value: Any) -> str:
    return ", ".join(_code(example) for example in value) if isinstance(value, list) else ""


def _header(report: dict[str, Any]) -> str:
    outcome = str(report.get("outcome", "?"))
    failures = report.get("failures", [])
    broken = sum(1 for entry in report.get("clauses", {}).values() if entry.get("broken"))
    rows = [
        (_e(key), _e(report[key]))
        for key in ("mode", "hub", "variant", "started", "duration_s", "versions")
        if key in report
    ]
    tests = report.get("tests")
    if isinstance(tests, dict):
        shown = ", ".join(
            f"{tests.get(key, 0)} {key.replace('_', ' ')}" for key in ("passed", "failed", "setup_errors", "skipped")
        )
        rows.append(("tests", _e(shown)))
    summary = f'<p class="summary">{_e(report["summary"])}</p>' if report.get("summary") else ""
    return (
        "<header><h1>Contract report: Oxen hub models API</h1>"
        f'<p><span class="outcome {_OK_OUTCOMES.get(outcome, "")}">{_e(outcome)}</span> '
        f"exit status {_e(report.get('exit_status', '?'))}: {len(failures)} failure(s) over {broken} clause(s)</p>"
        f"{summary}{_table(None, rows, 'meta')}</header>"
    )


def _failure(number: int | None, failure: dict[str, Any]) -> str:
    title = f"{number}. " if number is not None else ""
    request = f"{failure.get('method', '')} {failure.get('path', '')}"
    model = f", id {_code(failure['model_id'])}" if failure.get("model_id") else ""
    at = f" at {_code(failure['at'])}" if failure.get("at") else ""
    status = failure.get("status")
    return (
        f'<div class="failure"><h3>{title}{_code(failure.get("clause", ""))} in {_e(failure.get("operation", ""))}</h3>'
        f"<dl><dt>rule</dt><dd>{_prose(failure.get('rule', ''))}</dd>"
        f"<dt>request</dt><dd>{_code(request)}{model}</dd>"
        f"<dt>status</dt><dd>{_e(status) if status else 'no answer'}</dd>"
        f"<dt>expected{at}</dt><dd>{_code(failure.get('expected', ''))}</dd>"
        f"<dt>actual</dt><dd>{_code(failure.get('actual', ''))}</dd></dl>"
        f"<pre><code>{_e(failure.get('curl', ''))}</code></pre></div>"
    )


def _changes(changes: dict[str, Any]) -> str:
    quiet = " quiet" if changes["nothing_new"] else ""
    parts = [
        f'<section id="new" class="news{quiet}"><h2>New since the baseline</h2>',
        f"<p><strong>{_e(changes_sentence(changes))}</strong></p>",
        f"<p>Compared with the baseline run started {_e(changes.get('baseline_started') or '(unknown)')} "
        f"({_e(changes['outcome']['was'])}); failures are told apart by operation, clause and method, since model ids "
        "change from run to run.</p>",
    ]
    if changes["new_failures"]:
        parts.append("<h3>New failures</h3>")
        parts += [_failure(None, failure) for failure in changes["new_failures"]]
    for key, title, columns in CHANGE_TABLES:
        if changes.get(key):
            rows = [[_change_cell(column, entry.get(column, "")) for column in columns] for entry in changes[key]]
            parts += [f"<h3>{_e(title)}</h3>", _table([COLUMN_TITLES.get(c, c) for c in columns], rows)]
    return "".join(parts) + "</section>"


def _change_cell(column: str, value: Any) -> str:
    if column == "examples":
        return _examples(value)
    if column == "rule":
        return _prose(value)
    return _code(value) if column in CODE_COLUMNS else _e(value)


def _grid(report: dict[str, Any]) -> str:
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
                css, mark, note = "broken", f"✗ {count}", f"{count} failure(s) of {operation}"
            elif entry.get("checked") and operation in answered:
                css, mark, note = "held", "✓", f"checked in this run, no failure of {operation}"
            else:
                css, mark, note = "unchecked", "–", "never checked in this run, or no answer of it checked"
            cells.append(f'<td class="cell {css}" title="{_e(note)}">{mark}</td>')
        rows.append(
            f'<tr><td class="clause"><code>{_breakable(clause)}</code>'
            f'<div class="rule">{_prose(entry.get("rule", ""))}</div></td>'
            f"{''.join(cells)}<td>{_e(entry.get('checked', 0))}</td><td>{_e(entry.get('broken', 0))}</td></tr>"
        )
    head = "".join(f"<th>{_e(operation)}</th>" for operation in operations)
    answers = "".join(f"<td>{sum(coverage.get(operation, {}).values())}</td>" for operation in operations)
    return (
        '<section id="grid"><h2>Clauses × operations</h2><p class="legend">'
        '<span class="broken">✗ n</span>n failures of this operation name the clause'
        '<span class="held">✓</span>checked in this run, no failure of this operation (the report counts checks per '
        'clause, not per operation)<span class="unchecked">–</span>never checked in this run, or the operation had no '
        "answer checked</p>"
        f'<div class="scroll"><table class="grid"><thead><tr><th>clause and rule</th>{head}<th>checked</th>'
        f"<th>broken</th></tr></thead><tbody>{''.join(rows)}</tbody><tfoot><tr><td>answers checked</td>{answers}"
        '<td colspan="2"></td></tr></tfoot></table></div></section>'
    )


def _failures(report: dict[str, Any]) -> str:
    failures = report.get("failures", [])
    body = "".join(_failure(number, failure) for number, failure in enumerate(failures, 1))
    return f'<section id="failures"><h2>Failures</h2>{body or _NONE}</section>'


def _lenient(report: dict[str, Any]) -> str:
    lenient = report.get("lenient_inputs") or {}
    verdict = "fails the run (--strict-contract)" if lenient.get("fails_the_run") else "a warning"
    rows = [
        (
            _e(entry.get("operation", "")),
            _code(f"{entry.get('method', '')} {entry.get('path', '')}"),
            _e(entry.get("status", "")),
            _code(entry.get("clause", "")),
            _e(entry.get("detail", "")),
            _code(entry.get("curl", "")),
        )
        for entry in lenient.get("entries", [])
    ]
    return (
        '<section id="lenient"><h2>Lenient inputs</h2><p>Requests no source says a hub must refuse, which the hub '
        f"accepted; {_e(verdict)}.</p>"
        f"{_table(('operation', 'request', 'status', 'clause', 'detail', 'reproduce'), rows)}</section>"
    )


def _drift(report: dict[str, Any]) -> str:
    drift = report.get("drift") or {}
    verdict = "fails the run (--strict-contract)" if drift.get("fails_the_run") else "a warning"
    fields = [
        (_code(name), _e(seen.get("count", "")), _examples(seen.get("examples")))
        for name, seen in (drift.get("unknown_fields") or {}).items()
    ]
    values = [
        (_code(label), _code(value), _e(seen.get("count", "")), _examples(seen.get("examples")))
        for label, seen_values in (drift.get("open_values") or {}).items()
        for value, seen in seen_values.items()
    ]
    return (
        f'<section id="drift"><h2>Drift</h2><p>What the hub answers that the contract does not name; {_e(verdict)}.</p>'
        f"<h3>Fields the contract does not name</h3>{_table(('field', 'seen', 'example model ids'), fields)}"
        "<h3>Values seen in open string fields</h3>"
        f"{_table(('field', 'value', 'seen', 'example model ids'), values)}</section>"
    )


def _leaks(report: dict[str, Any]) -> str:
    items = []
    for leak in report.get("leaks") or []:
        if leak.get("deleted"):
            items.append(
                f"<li>{_code(leak.get('model_id', ''))}: deleted at cleanup ({_e(leak.get('detail', ''))})</li>"
            )
        else:
            items.append(
                f'<li><span class="still">{_code(leak.get("model_id", ""))} is still on the hub</span> '
                f"({_e(leak.get('detail', ''))}); delete it with:"
                f"<pre><code>{_e(leak.get('curl', ''))}</code></pre></li>"
            )
    body = f"<ul>{''.join(items)}</ul>" if items else _NONE
    unsettled = [
        f"<li>{_e(entry.get('deploy', ''))}: {_e(entry.get('detail', ''))}"
        + "".join(
            f" {_code(c.get('id', ''))} (created {_e(repr(c.get('created')))})" for c in entry.get("candidates", [])
        )
        + "</li>"
        for entry in report.get("unsettled") or []
    ]
    return (
        '<section id="leaks"><h2>Leaks</h2><p>Models the run made that were still on the hub at its end.</p>'
        f"{body}<h3>Unsettled deploys</h3><p>Deploys whose model the run could neither prove its own nor rule out: "
        f"nothing was deleted for them; a person should look.</p>"
        f"{f'<ul>{chr(10).join(unsettled)}</ul>' if unsettled else _NONE}</section>"
    )


# -- the trend chart ----------------------------------------------------------------------------------------------


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


def _trend(history: Sequence[dict[str, Any]], current: dict[str, Any]) -> str:
    runs = [report for report in history if report.get("started") != current.get("started")] + [current]
    series = (
        ("failures", _FAILURE_COLOUR, [len(report.get("failures", [])) for report in runs]),
        (
            "fields the contract does not name",
            _DRIFT_COLOUR,
            [len((report.get("drift") or {}).get("unknown_fields") or {}) for report in runs],
        ),
    )
    width, height, left, right, top, bottom = 760, 300, 56, 48, 40, 64
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max(1, *(max(values) for _, _, values in series))
    step = _step(highest)
    ceiling = step * math.ceil(highest / step)

    def x(index: int) -> float:
        return left + (plot_w * index / (len(runs) - 1) if len(runs) > 1 else plot_w / 2)

    def y(value: int) -> float:
        return top + plot_h * (1 - value / ceiling)

    whens = [_when(report) for report in runs]
    days = [when.date() if when else None for when in whens]
    label_format = "%Y-%m-%d" if len(set(days)) == len(days) else "%m-%d %H:%M"
    labels = [when.strftime(label_format) if when else "?" for when in whens]
    parts = [
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-labelledby="trend-title" font-family="system-ui, sans-serif" font-size="11">',
        '<title id="trend-title">Failures and unnamed drift fields per run</title>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
    ]
    for tick in range(0, ceiling + 1, step):
        parts.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{left + plot_w}" y2="{y(tick):.1f}" stroke="#e0e0e0"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="#555">{tick}</text>'
        )
    every = max(1, math.ceil(len(runs) / 8))
    for index, label in enumerate(labels):
        if index % every == 0 or index == len(runs) - 1:
            parts.append(
                f'<line x1="{x(index):.1f}" y1="{top + plot_h}" x2="{x(index):.1f}" y2="{top + plot_h + 4}" '
                f'stroke="#555"/><text x="{x(index):.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
                f'fill="#555">{_e(label)}</text>'
            )
    parts += [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#555"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#555"/>',
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 14}" text-anchor="middle" font-size="12" fill="#1d1d1f">'
        "run, by date started (UTC); the last is this run</text>",
        f'<text x="16" y="{top + plot_h / 2:.1f}" text-anchor="middle" font-size="12" fill="#1d1d1f" '
        f'transform="rotate(-90 16 {top + plot_h / 2:.1f})">count per run</text>',
    ]
    for number, (name, colour, values) in enumerate(series):
        points = " ".join(f"{x(index):.1f},{y(value):.1f}" for index, value in enumerate(values))
        dash = ' stroke-dasharray="6 3"' if number else ""
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for index, value in enumerate(values):
            tip = f"<title>{_e(labels[index])}: {value} {_e(name)}</title>"
            if number:
                parts.append(
                    f'<rect x="{x(index) - 3.5:.1f}" y="{y(value) - 3.5:.1f}" width="7" height="7" fill="{colour}">'
                    f"{tip}</rect>"
                )
            else:
                parts.append(f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="4" fill="{colour}">{tip}</circle>')
        legend_x = left + 12 + number * 150
        marker = (
            f'<rect x="{legend_x + 10.5}" y="14.5" width="7" height="7" fill="{colour}"/>'
            if number
            else f'<circle cx="{legend_x + 14}" cy="18" r="4" fill="{colour}"/>'
        )
        parts.append(
            f'<line x1="{legend_x}" y1="18" x2="{legend_x + 28}" y2="18" stroke="{colour}" stroke-width="2"{dash}/>'
            f'{marker}<text x="{legend_x + 34}" y="22" fill="#1d1d1f">{_e(name)}</text>'
        )
    parts.append("</svg>")
    return f'<section id="trend"><h2>Trend over {len(runs)} runs</h2>{"".join(parts)}</section>'


def render_html(
    current: dict[str, Any], history: Sequence[dict[str, Any]] = (), changes: dict[str, Any] | None = None
) -> str:
    """The report as one self-contained HTML5 page; ``history`` (earlier reports, oldest first) adds a trend chart."""
    sections = [_header(current)]
    if changes is not None:
        sections.append(_changes(changes))
    if history:
        sections.append(_trend(history, current))
    sections += [_grid(current), _failures(current), _lenient(current), _drift(current), _leaks(current)]
    title = f"Contract report: {current.get('outcome', '?')} ({current.get('started', '')})"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body><main>"
        + "\n".join(sections)
        + "</main></body></html>\n"
    )
