"""The run's report (``--contract-report``): Markdown or HTML, and its JSON twin, from the tally and the verdict.

It says what the run checked (coverage, clauses), what broke (each failure with its curl line), what is worth a look
(lenient inputs, warnings, drift, leaks) and, given a baseline, what changed since. Failure text is ``text.py``'s.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .baseline import changes_sentence, changes_since, render_changes_markdown
from .html_report import render_html

if TYPE_CHECKING:
    from .tally import Tally

__all__ = ["write_contract_report"]


def write_contract_report(
    path: Path,
    tally: Tally,
    meta: dict[str, Any],
    strict: bool,
    *,
    baseline: dict[str, Any] | None = None,
    history: Sequence[dict[str, Any]] = (),
) -> tuple[tuple[Path, Path], str | None]:
    """Write the run's report at ``path`` (Markdown, or HTML for ``.html``) and as JSON beside it.

    With ``baseline`` (an earlier run's JSON report), the report opens with what is new since it; the sentence that
    says so is returned. With ``$GITHUB_STEP_SUMMARY`` set (a GitHub Actions step), the Markdown goes there too.
    """
    drift = {
        "unknown_fields": {
            name: {"count": seen.count, "examples": seen.examples}
            for name, seen in sorted(tally.unknown_fields.items())
        },
        "open_values": {
            label: {value: {"count": seen.count, "examples": seen.examples} for value, seen in sorted(values.items())}
            for label, values in sorted(tally.open_values.items())
        },
        "vanished_fields": tally.vanished_fields(),
        "seen_fields": sorted(tally.seen_fields),
        "fails_the_run": strict,
    }
    clauses = {
        clause: {"rule": rule, "checked": tally.checked.get(clause, 0), "broken": tally.broken.get(clause, 0)}
        for clause, rule in tally.contract.rules().items()
    }
    data = {
        **meta,
        "coverage": tally.answers_by_operation(),
        "clauses": clauses,
        "failures": tally.failures,
        "lenient_inputs": {"entries": tally.lenient_inputs, "fails_the_run": strict},
        "warnings": tally.warnings,
        "drift": drift,
    }
    changes = changes_since(data, baseline) if baseline is not None else None
    if changes is not None:
        data["changes"] = changes
    path.parent.mkdir(parents=True, exist_ok=True)
    twin = path.with_suffix(".json")
    twin.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    markdown = _markdown(data, changes)
    if path.suffix.lower() in (".html", ".htm"):
        path.write_text(render_html(data, history, changes), encoding="utf-8")
    else:
        path.write_text(markdown, encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as file:
            file.write(markdown + "\n")
    return (path, twin), (changes_sentence(changes) if changes is not None else None)


def _coverage(data: dict[str, Any]) -> list[str]:
    lines = ["## Coverage", "", "Answers checked, per operation and status.", ""]
    coverage = data.get("coverage") or {}
    lines += ["| operation | answers checked (status × count) |", "|---|---|"]
    for operation, statuses in sorted(coverage.items()):
        shown = ", ".join(f"{status} × {count}" for status, count in sorted(statuses.items(), key=lambda i: int(i[0])))
        lines.append(f"| {operation} | {shown} |")
    if not coverage:
        lines.append("| (none) | |")
    tests = data.get("tests")
    if tests:
        lines += [
            "",
            f"Tests: {tests['passed']} passed, {tests['failed']} failed, {tests['setup_errors']} setup error(s), "
            f"{tests['skipped']} skipped.",
        ]
        for reason, count in tests["skip_reasons"].items():
            lines.append(f"- skipped {count} × : {_cell(reason)}")
    return [*lines, ""]


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _markdown(data: dict[str, Any], changes: dict[str, Any] | None = None) -> str:
    failures = data["failures"]
    broken = sum(1 for entry in data["clauses"].values() if entry["broken"])
    lines = [
        "# Contract report: Oxen hub models API",
        "",
        f"**{data['outcome']}** (exit status {data.get('exit_status', '?')}): {len(failures)} failure(s) over "
        f"{broken} clause(s)",
        "",
        *([f"> {data['summary']}", ""] if data.get("summary") else []),
        *([*render_changes_markdown(changes), ""] if changes is not None else []),
        "| | |",
        "|---|---|",
        *(f"| {key} | {_cell(data[key])} |" for key in ("mode", "hub", "variant", "duration_s", "started", "versions")),
        "",
        *_coverage(data),
        "## Failures",
        "",
    ]
    if not failures:
        lines.append("None.")
    for number, failure in enumerate(failures, 1):
        lines += [
            f"### {number}. `{failure['clause']}` in {failure['operation']}",
            "",
            f"- rule: {failure['rule']}",
            f"- request: `{failure['method']} {failure['path']}`"
            + (f", id `{failure['model_id']}`" if failure["model_id"] else ""),
            f"- status: {failure['status']}",
            f"- expected{' at ' + failure['at'] if failure['at'] else ''}: `{_cell(failure['expected'])}`",
            f"- actual: `{_cell(failure['actual'])}`",
            "",
            "```sh",
            failure["curl"],
            "```",
            "",
        ]
    lenient = data["lenient_inputs"]
    verdict_of_lenient = "fails the run (--strict-contract)" if lenient["fails_the_run"] else "a warning"
    lines += [
        "",
        "## Lenient inputs",
        "",
        "Requests no source says a hub must refuse (an unknown enum value, a missing required parameter), which the "
        f"hub accepted; {verdict_of_lenient}.",
        "",
    ]
    if not lenient["entries"]:
        lines.append("None.")
    for entry in lenient["entries"]:
        lines += [
            f"- {entry['operation']}: `{entry['method']} {_cell(entry['path'])}` answered {entry['status']} "
            f"(`{entry['clause']}`)",
            f"  `{_cell(entry['curl'])}`",
        ]
    warnings = data.get("warnings") or []
    lines += [
        "",
        "## Warnings",
        "",
        f"What a careful hub would do where the documentation is silent, and this one did not; {verdict_of_lenient}.",
        "",
    ]
    if not warnings:
        lines.append("None.")
    for entry in warnings:
        lines += [
            f"- `{entry['clause']}` in {entry['operation']}: `{entry['method']} {_cell(entry['path'])}`: expected "
            f"{_cell(entry['expected'])}; actual `{_cell(entry['actual'])}`",
            f"  `{_cell(entry['curl'])}`",
        ]
    leaks = data.get("leaks") or []
    lines += ["", "## Leaks", "", "Models the run made that were still on the hub at its end.", ""]
    if not leaks:
        lines.append("None.")
    for leak in leaks:
        if leak["deleted"]:
            lines.append(f"- `{leak['model_id']}`: deleted at cleanup ({leak['detail']})")
        else:
            lines.append(f"- **`{leak['model_id']}` is still on the hub** ({leak['detail']}); delete it with:")
            lines += ["", "  ```sh", f"  {leak['curl']}", "  ```"]
    unsettled = data.get("unsettled") or []
    lines += ["", "## Unsettled deploys", ""]
    lines += ["Deploys whose model the run could neither prove its own nor rule out: nothing was deleted for them; a "]
    lines[-1] += "person should look."
    lines.append("")
    if not unsettled:
        lines.append("None.")
    for entry in unsettled:
        named = ", ".join(f"`{c['id']}` (created {c['created']!r})" for c in entry.get("candidates", []))
        lines.append(
            f"- {_cell(entry['deploy'])}: {_cell(entry['detail'])}" + (f"; candidates: {named}" if named else "")
        )
    lines += ["", "## Clauses", "", "| clause | rule | checked | broken |", "|---|---|---|---|"]
    for clause, entry in data["clauses"].items():
        mark = "**" if entry["broken"] else ""
        lines.append(f"| `{clause}` | {_cell(entry['rule'])} | {entry['checked']} | {mark}{entry['broken']}{mark} |")
    drift = data["drift"]
    verdict = "fails the run (--strict-contract)" if drift["fails_the_run"] else "a warning"
    lines += ["", "## Drift", "", f"What the hub answers that the contract does not name; {verdict}.", ""]
    lines += ["### Fields the contract does not name", "", "| field | seen | example model ids |", "|---|---|---|"]
    for name, seen in drift["unknown_fields"].items():
        lines.append(f"| `{name}` | {seen['count']} | {_cell(', '.join(seen['examples']))} |")
    if not drift["unknown_fields"]:
        lines.append("| (none) | | |")
    lines += ["", "### Documented fields never seen (`rule:documented-fields-keep-coming`)", ""]
    lines.append(
        "Fields the contract names that no model answer of this run carried (with a value): a field that stopped "
        "coming, or one this hub never sends."
    )
    lines += ["", ", ".join(f"`{name}`" for name in drift["vanished_fields"]) or "None.", ""]
    lines += ["", "### Values seen in open string fields", "", "| field | value | seen | example model ids |"]
    lines.append("|---|---|---|---|")
    for label, values in drift["open_values"].items():
        for value, seen in values.items():
            lines.append(f"| `{label}` | `{_cell(value)}` | {seen['count']} | {_cell(', '.join(seen['examples']))} |")
    return "\n".join(lines) + "\n"
