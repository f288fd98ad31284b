"""What changed since the baseline: tonight's JSON report compared with last night's.

A nightly report of a hundred clauses says little on its own; its reader wants to know what is new. ``changes_since``
compares two JSON reports (``report.write_contract_report``'s twin) and gives plain JSON data;
``render_changes_markdown`` and ``changes_sentence`` turn that into the report's "New since the baseline" section and a
line for a chat message.

Failures are compared by operation, clause and method, not by path: a disposable model gets a new id every night, so
the same broken promise has a new path each time. ``load_baseline`` and ``load_history`` read earlier reports and say
in one line what is wrong with a file that is not one (``BaselineError``).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..checking.failures import OxenContractError
from .markdown import code_span

__all__ = [
    "CHANGE_TABLES",
    "CODE_COLUMNS",
    "COLUMN_TITLES",
    "BaselineError",
    "changes_since",
    "changes_sentence",
    "failure_key",
    "load_baseline",
    "load_history",
    "render_changes_markdown",
]

# Every report of this suite has these, with these types; a file without them is some other JSON.
_REPORT_KEYS: dict[str, type] = {"outcome": str, "clauses": dict, "failures": list, "drift": dict}
# How many names a summary sentence lists in parentheses before it says "and N more".
_NAMED = 3

# The tables of the "New since the baseline" section, after its new failures: (key in the changes, title, columns).
CHANGE_TABLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("started_failing", "Clauses that started failing", ("clause", "rule", "broken")),
    ("stopped_failing", "Clauses that stopped failing", ("clause", "rule", "was_broken", "checked")),
    ("no_longer_checked", "Clauses checked in the baseline, not in this run", ("clause", "rule", "was_checked")),
    ("failures_gone", "Failures no longer seen", ("operation", "clause", "method", "count")),
    ("new_drift_fields", "New fields the contract does not name", ("field", "count", "examples")),
    ("drift_fields_gone", "Unnamed fields no longer seen", ("field", "count", "examples")),
    ("documented_fields_gone", "Documented fields seen in the baseline, not in this run", ("field",)),
    ("new_open_values", "New values in open string fields", ("label", "value", "count", "examples")),
    ("open_values_gone", "Open values no longer seen", ("label", "value", "count", "examples")),
    ("new_lenient_inputs", "New lenient inputs", ("operation", "method", "path", "status", "clause", "curl")),
    ("lenient_inputs_gone", "Lenient inputs no longer seen", ("operation", "clause", "method", "count")),
)
COLUMN_TITLES = {
    "broken": "broken now",
    "was_broken": "broken in the baseline",
    "checked": "checked now",
    "was_checked": "checked in the baseline",
    "count": "seen",
    "label": "field",
}
# Columns whose values are ids, names or commands, shown as code.
CODE_COLUMNS = frozenset({"clause", "field", "label", "value", "path", "curl"})


class BaselineError(OxenContractError):
    """An earlier report that cannot be read: ``str()`` is one line naming the file and what is wrong with it."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"baseline report {path}: {problem}")
        self.path = path
        self.problem = problem


def _problem_with(data: Any) -> str | None:
    if not isinstance(data, dict):
        return f"not a contract report of this suite (a JSON {type(data).__name__}, not an object)"
    missing = [key for key in _REPORT_KEYS if key not in data]
    if missing:
        return f"not a contract report of this suite (no {', '.join(repr(key) for key in missing)})"
    for key, kind in _REPORT_KEYS.items():
        if not isinstance(data[key], kind):
            return f"not a contract report of this suite ({key!r} is a {type(data[key]).__name__})"
    for failure in data["failures"]:
        if not isinstance(failure, dict) or not all(
            isinstance(failure.get(key), str) for key in ("operation", "clause", "method")
        ):
            return "not a contract report of this suite (a failure without operation, clause and method)"
    return _deeper_problem(data)


def _counts_ok(entry: Any) -> bool:
    return isinstance(entry, dict) and all(
        isinstance(entry.get(key, 0), int) and not isinstance(entry.get(key, 0), bool) for key in ("broken", "checked")
    )


def _deeper_problem(data: dict[str, Any]) -> str | None:
    """What ``changes_since`` would trip over, said before it runs: every part it reads, of the type it reads."""
    bad = [clause for clause, entry in data["clauses"].items() if not _counts_ok(entry)]
    if bad:
        return f"not a contract report of this suite (clause {bad[0]!r} holds no checked and broken counts)"
    drift = data["drift"]
    unknown, values, seen = drift.get("unknown_fields", {}), drift.get("open_values", {}), drift.get("seen_fields", [])
    if not isinstance(unknown, dict) or not all(isinstance(entry, dict) for entry in unknown.values()):
        return "not a contract report of this suite (drift.unknown_fields is not a table of fields)"
    if not isinstance(values, dict) or not all(
        isinstance(entries, dict) and all(isinstance(entry, dict) for entry in entries.values())
        for entries in values.values()
    ):
        return "not a contract report of this suite (drift.open_values is not a table of values)"
    if not isinstance(seen, list) or not all(isinstance(name, str) for name in seen):
        return "not a contract report of this suite (drift.seen_fields is not a list of field names)"
    lenient = data.get("lenient_inputs", {})
    entries = lenient.get("entries", []) if isinstance(lenient, dict) else None
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        return "not a contract report of this suite (lenient_inputs.entries is not a list of entries)"
    return None


def load_baseline(path: Path | str) -> dict[str, Any]:
    """The JSON report at ``path``; ``BaselineError`` if it is missing, not JSON, or not a report of this suite."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(path, "no such file") from None
    except IsADirectoryError:
        raise BaselineError(path, "is a directory, not a JSON report") from None
    except UnicodeDecodeError:
        raise BaselineError(path, "not JSON (not UTF-8 text)") from None
    except OSError as error:
        raise BaselineError(path, f"cannot be read ({error.strerror or error})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        if path.suffix.lower() in (".md", ".html"):
            # The Markdown or HTML report was named instead of its twin.
            hint = f"give its JSON twin, {path.with_suffix('.json')}"
            raise BaselineError(path, f"not JSON (a {path.suffix} report?): {hint}") from None
        where = f"line {error.lineno} column {error.colno}"
        raise BaselineError(path, f"not JSON ({error.msg} at {where})" if text.strip() else "empty file") from None
    problem = _problem_with(data)
    if problem:
        raise BaselineError(path, problem)
    return data  # type: ignore[no-any-return]


def _started(report: dict[str, Any]) -> datetime.datetime:
    try:
        when = datetime.datetime.fromisoformat(str(report.get("started")))
    except ValueError:
        return datetime.datetime.min.replace(tzinfo=datetime.UTC)
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


def load_history(directory: Path | str, limit: int = 60) -> tuple[list[dict[str, Any]], list[str]]:
    """The reports among ``directory``'s ``*.json``, oldest first (the newest ``limit``), and one line per file skipped.

    A file that is not a report is skipped, not fatal: one truncated file from an interrupted night should cost a
    point on the chart, not the report.
    """
    reports: list[dict[str, Any]] = []
    skipped: list[str] = []
    for path in sorted(Path(directory).glob("*.json")):
        try:
            reports.append(load_baseline(path))
        except BaselineError as error:
            skipped.append(f"{error}; left out of the history")
    reports.sort(key=_started)
    return reports[-limit:] if limit > 0 else reports, skipped


def failure_key(entry: dict[str, Any]) -> tuple[str, str, str]:
    """What makes a failure (or a lenient input) the same one on another night: operation, clause, method."""
    return (str(entry.get("operation")), str(entry.get("clause")), str(entry.get("method")))


def _keyed(entries: Iterable[dict[str, Any]]) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    found: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for entry in entries:
        found.setdefault(failure_key(entry), []).append(entry)
    return found


def _lenient(report: dict[str, Any]) -> list[dict[str, Any]]:
    lenient = report.get("lenient_inputs")
    return list(lenient.get("entries", [])) if isinstance(lenient, dict) else []


def _drift(report: dict[str, Any], kind: str) -> dict[str, Any]:
    found = (report.get("drift") or {}).get(kind)
    return found if isinstance(found, dict) else {}


def _open_values(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (label, value): seen
        for label, values in _drift(report, "open_values").items()
        if isinstance(values, dict)
        for value, seen in values.items()
    }


def _gone(
    keyed: dict[tuple[str, str, str], list[dict[str, Any]]], now: dict[tuple[str, str, str], Any]
) -> list[dict[str, Any]]:
    return [
        {"operation": operation, "clause": clause, "method": method, "count": len(entries)}
        for (operation, clause, method), entries in keyed.items()
        if (operation, clause, method) not in now
    ]


def _clause_changes(
    now_clauses: dict[str, Any], was_clauses: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The clauses that started failing, stopped failing (checked this run), and are no longer checked."""

    def rule(clause: str) -> str:
        return str((now_clauses.get(clause) or was_clauses.get(clause) or {}).get("rule", ""))

    started, stopped, unchecked = [], [], []
    for clause, entry in now_clauses.items():
        was = was_clauses.get(clause, {})
        was_broken, was_checked = int(was.get("broken", 0)), int(was.get("checked", 0))
        if entry.get("broken", 0) and not was_broken:
            started.append({"clause": clause, "rule": rule(clause), "broken": entry["broken"]})
        elif was_broken and not entry.get("broken", 0) and entry.get("checked", 0):
            stopped.append(
                {"clause": clause, "rule": rule(clause), "was_broken": was_broken, "checked": entry["checked"]}
            )
        if was_checked and not entry.get("checked", 0):
            unchecked.append(
                {"clause": clause, "rule": rule(clause), "was_checked": was_checked, "was_broken": was_broken}
            )
    return started, stopped, unchecked


def changes_since(current: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """What ``current`` has that ``baseline`` had not, and the reverse, as plain JSON (it can go into the report).

    A clause "stopped failing" only if this run checked it; one the baseline checked and this run did not is "no
    longer checked", since a run that never looked cannot say it holds.
    """
    now_failures, was_failures = _keyed(current.get("failures", [])), _keyed(baseline.get("failures", []))
    now_lenient, was_lenient = _keyed(_lenient(current)), _keyed(_lenient(baseline))
    started, stopped, unchecked = _clause_changes(current.get("clauses", {}), baseline.get("clauses", {}))
    now_fields, was_fields = _drift(current, "unknown_fields"), _drift(baseline, "unknown_fields")
    now_values, was_values = _open_values(current), _open_values(baseline)
    changes: dict[str, Any] = {
        "baseline_started": baseline.get("started"),
        "outcome": {"was": baseline.get("outcome"), "now": current.get("outcome")},
        "failures": {"was": len(baseline.get("failures", [])), "now": len(current.get("failures", []))},
        "new_failures": [f for key, entries in now_failures.items() if key not in was_failures for f in entries],
        "failures_gone": _gone(was_failures, now_failures),
        "started_failing": started,
        "stopped_failing": stopped,
        "no_longer_checked": unchecked,
        "new_drift_fields": [{"field": name, **seen} for name, seen in now_fields.items() if name not in was_fields],
        "drift_fields_gone": [{"field": name, **seen} for name, seen in was_fields.items() if name not in now_fields],
        "new_open_values": [
            {"label": label, "value": value, **seen}
            for (label, value), seen in now_values.items()
            if (label, value) not in was_values
        ],
        "open_values_gone": [
            {"label": label, "value": value, **seen}
            for (label, value), seen in was_values.items()
            if (label, value) not in now_values
        ],
        # Documented fields last night's answers carried and tonight's do not: a field that stopped coming.
        "documented_fields_gone": [
            {"field": name}
            for name in sorted(
                set(baseline.get("drift", {}).get("seen_fields", []))
                - set(current.get("drift", {}).get("seen_fields", []))
            )
        ],
        "new_lenient_inputs": [e for key, entries in now_lenient.items() if key not in was_lenient for e in entries],
        "lenient_inputs_gone": _gone(was_lenient, now_lenient),
    }
    changes["nothing_new"] = changes["outcome"]["was"] == changes["outcome"]["now"] and not any(
        isinstance(value, list) and value for value in changes.values()
    )
    return changes


# -- text ---------------------------------------------------------------------------------------------------------


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _named(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``, ``a, b, c and 2 more``."""
    distinct = list(dict.fromkeys(names))
    if len(distinct) > _NAMED:
        return f"{', '.join(distinct[:_NAMED])} and {len(distinct) - _NAMED} more"
    return " and ".join(part for part in (", ".join(distinct[:-1]), distinct[-1] if distinct else "") if part)


def _total(entries: Sequence[dict[str, Any]]) -> int:
    return sum(int(entry["count"]) for entry in entries)


def _keys(entries: Sequence[dict[str, Any]]) -> list[str]:
    return [f"{entry['operation']} {entry['clause']}" for entry in entries]


def changes_sentence(changes: dict[str, Any]) -> str:
    """One sentence for a chat message: bad news first, then what got better."""
    outcome = changes["outcome"]
    if changes["nothing_new"]:
        failures = changes["failures"]["now"]
        still = f", {_count(failures, 'failure')} as before" if failures else ""
        return f"nothing new since the baseline: {outcome['now']}{still}"
    worse: list[str] = []
    if changes["new_failures"]:
        worse.append(
            f"{_count(len(changes['new_failures']), 'new failure')} ({_named(_keys(changes['new_failures']))})"
        )
    if changes["new_drift_fields"]:
        names = [entry["field"] for entry in changes["new_drift_fields"]]
        worse.append(f"{_count(len(names), 'new drift field')} ({_named(names)})")
    if changes["new_open_values"]:
        names = [f"{entry['label']}={entry['value']}" for entry in changes["new_open_values"]]
        worse.append(f"{_count(len(names), 'new open value')} ({_named(names)})")
    if changes["new_lenient_inputs"]:
        names = _keys(changes["new_lenient_inputs"])
        worse.append(f"{_count(len(names), 'new lenient input')} ({_named(names)})")
    if changes.get("documented_fields_gone"):
        names = [entry["field"] for entry in changes["documented_fields_gone"]]
        worse.append(f"{_count(len(names), 'documented field')} no longer seen ({_named(names)})")
    if changes["no_longer_checked"]:
        names = [entry["clause"] for entry in changes["no_longer_checked"]]
        worse.append(f"{_count(len(names), 'clause')} no longer checked ({_named(names)})")
    better: list[str] = []
    if changes["stopped_failing"]:
        better.append(f"{_named([entry['clause'] for entry in changes['stopped_failing']])} stopped failing")
    # A failure gone because its clause stopped failing is already said.
    stopped = {entry["clause"] for entry in changes["stopped_failing"]}
    gone = [entry for entry in changes["failures_gone"] if entry["clause"] not in stopped]
    if gone:
        better.append(f"{_count(_total(gone), 'failure')} no longer seen ({_named(_keys(gone))})")
    for key, noun in (("drift_fields_gone", "drift field"), ("open_values_gone", "open value")):
        if changes[key]:
            names = [entry.get("field") or f"{entry['label']}={entry['value']}" for entry in changes[key]]
            better.append(f"{_count(len(names), noun)} gone ({_named(names)})")
    if changes["lenient_inputs_gone"]:
        names = _keys(changes["lenient_inputs_gone"])
        better.append(f"{_count(_total(changes['lenient_inputs_gone']), 'lenient input')} gone ({_named(names)})")
    body = "; ".join(part for part in (", ".join(worse), ", ".join(better)) if part)
    if outcome["was"] != outcome["now"]:
        return f"{outcome['was']} → {outcome['now']}" + (f": {body}" if body else "")
    return body


def render_changes_markdown(changes: dict[str, Any]) -> list[str]:
    """The "New since the baseline" section of the Markdown report, as lines, to go at its top."""
    outcome = changes["outcome"]
    lines = [
        "## New since the baseline",
        "",
        f"Compared with the baseline run started {changes['baseline_started'] or '(unknown)'} ({outcome['was']}); "
        "failures are told apart by operation, clause and method, since model ids change from run to run.",
        "",
        f"**{changes_sentence(changes)}**",
        "",
    ]
    if changes["nothing_new"]:
        return lines
    if changes["new_failures"]:
        lines += ["### New failures", ""]
        for failure in changes["new_failures"]:
            model = f", id {code_span(failure['model_id'])}" if failure.get("model_id") else ""
            at = f" at {failure['at']}" if failure.get("at") else ""
            lines += [
                f"- {code_span(failure['clause'])} in {failure['operation']}: {failure.get('rule', '')}",
                f"  - request: {code_span(failure['method'] + ' ' + str(failure.get('path', '')))}{model}, "
                f"status {failure.get('status')}",
                f"  - expected{at}: {code_span(failure.get('expected', ''))}; "
                f"actual: {code_span(failure.get('actual', ''))}",
                f"  - reproduce: {code_span(failure.get('curl', ''))}",
            ]
        lines.append("")
    for key, title, columns in CHANGE_TABLES:
        if not changes[key]:
            continue
        lines += [f"### {title}", "", "| " + " | ".join(COLUMN_TITLES.get(c, c) for c in columns) + " |"]
        lines.append("|" + "---|" * len(columns))
        for entry in changes[key]:
            lines.append("| " + " | ".join(_cell(column, entry.get(column, "")) for column in columns) + " |")
        lines.append("")
    return lines


def _cell(column: str, value: Any) -> str:
    if column == "examples":
        return ", ".join(code_span(example, table=True) for example in value) if isinstance(value, list) else ""
    if column in CODE_COLUMNS:
        return code_span(value, table=True)
    return str(value).replace("\n", " ").replace("|", "\\|")
