"""What a run of the suite says: its failures' clause ids and tests, its verdict or summary line, its report's warnings.

The self-check judges the suite as a user reads it, by its output (pytest's ``-v`` lines, the failure texts, the
plugin's ``[oxen-contract]`` lines) and by the JSON twin of its contract report; ``runner.py`` and
``verdict_runs.py`` hand both over, and these functions read them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["caught_by", "clauses_named", "failed_tests", "summary_line", "verdict_line", "warnings_listed"]

# "  | E     clause model.schema.json#/required: rule text": the id ends at ": " or the end of the line.
# A failure message's line, or the plugin's session note ("[oxen-contract] clause ...").
_CLAUSE = re.compile(r"^(?:\[oxen-contract\] )?[\s|+>E-]*clause (\S+?)(?=:\s|\s*$)", re.MULTILINE)
_SUMMARY = re.compile(r"^(?:FAILED|SUBFAILED|ERROR) (.+?)(?: - .*)?$", re.MULTILINE)
_SECTION = re.compile(r"^_{3,} (.+?) _{3,}$", re.MULTILINE)
# The plugin's last word: "[oxen-contract] CONTRACT HELD: ... (exit status 0)".
_VERDICT_LINE = re.compile(r"^\[oxen-contract\] (.+\(exit status -?\d+\))\s*$", re.MULTILINE)


def clauses_named(output: str) -> tuple[str, ...]:
    """Clause ids in "clause <id>: <rule>" lines of the suite's failure messages, in order, without repeats."""
    return tuple(dict.fromkeys(_CLAUSE.findall(output)))


def failed_tests(output: str) -> tuple[str, ...]:
    """Node ids from pytest's short test summary (FAILED, SUBFAILED, ERROR)."""
    return tuple(dict.fromkeys(match.strip() for match in _SUMMARY.findall(output)))


def caught_by(output: str, expected: tuple[str, ...], tests: tuple[str, ...]) -> str | None:
    # pytest prints one "____ name ____" section per failure: the first whose text names an expected clause caught it.
    headers = list(_SECTION.finditer(output))
    for index, header in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(output)
        if set(clauses_named(output[header.end() : end])) & set(expected):
            name = re.sub(r"^ERROR at (?:setup|teardown) of ", "", header.group(1))
            return next((test for test in tests if name.startswith(test.rpartition("::")[2])), name)
    # Named outside a failure section (a session-end note, a subtest report): credit the first failing test.
    return tests[0] if tests and set(clauses_named(output)) & set(expected) else None


def verdict_line(output: str) -> str:
    """The plugin's last verdict line in ``output``, without its "[oxen-contract]" prefix; "" when it printed none."""
    found = _VERDICT_LINE.findall(output)
    return found[-1] if found else ""


def warnings_listed(path: Path) -> tuple[str, ...] | None:
    """The clause of each lenient input and warning a --contract-report JSON lists; None without a readable report."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = [*data["lenient_inputs"]["entries"], *data.get("warnings", [])]
        return tuple(str(entry["clause"]) for entry in entries)
    except (OSError, ValueError, KeyError, TypeError):
        return None


# A usage error's one line: pytest's ("ERROR: ...") or the oxen-contract command's ("Error: ...").
_USAGE_LINE = re.compile(r"^(?:ERROR|Error): (.+?)\s*$", re.MULTILINE)


def summary_line(output: str) -> str:
    """The line a run ends on: its verdict line, else a usage error's line, without its prefix; "" for neither."""
    found = verdict_line(output)
    if found:
        return found
    usage = _USAGE_LINE.findall(output)
    return usage[-1] if usage else ""
