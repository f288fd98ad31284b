"""Which rows of the matrix start first: the longest, so that the rows still running at the end are short ones.

Rows run side by side (pytest-xdist workers, or ``--jobs`` threads); a long row started last keeps one worker busy
after the others ran out of work. How long a row takes comes from the last report (``selfcheck.json``: a row's runs go
side by side, so it lasts as long as the longest of them: the suite, its ``--strict-contract`` run, plain
schemathesis); a row that report does not hold is guessed from its kind: a strict-only row has one run more, a hub
that hangs or drips makes its runs wait for their timeouts, and a verdict case that starts the command fresh or meets
a rate-limited route (every example of its fuzzing retried, then shrunk) runs a few times longer than a forked run.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["guess_seconds", "longest_first", "previous_seconds", "row_seconds"]

# Relative to an ordinary row, for a row the last report does not hold.
_STRICT_ONLY = 1.5
_SLOW_CASE = 3.0
_WAITS = 8.0
_ORDINARY = 1.0


def row_seconds(outcome: Mapping[str, Any]) -> float:
    """How long a row of a report (its JSON) took: as long as its longest run."""
    runs = (outcome.get(side) or {} for side in ("suite", "strict", "schemathesis"))
    return max(float(run.get("seconds", 0.0)) for run in runs)


def previous_seconds(report: Path) -> dict[str, float]:
    """Seconds per row of the report at ``report`` (``selfcheck.json``); empty when it cannot be read."""
    try:
        outcomes = json.loads(report.read_text(encoding="utf-8"))["outcomes"]
        return {str(outcome["name"]): row_seconds(outcome) for outcome in outcomes}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def guess_seconds(name: str) -> float:
    """A row's length relative to an ordinary one, from its kind and switches alone."""
    from ..hub import FAULTS
    from ..hub.faults import Switch
    from .verdicts import VERDICT_CASES_BY_NAME, Command

    case = VERDICT_CASES_BY_NAME.get(name)
    if case is not None:
        outage = any(fault.kind == "outage" for fault in FAULTS if fault.name in case.faults)
        return _SLOW_CASE if outage or case.command is Command.CLI else _ORDINARY
    fault = next((fault for fault in FAULTS if fault.name == name), None)
    if fault is None:
        return _ORDINARY
    if {Switch.HANG_DELETE, Switch.DRIP_RETRIEVE} & set(fault.switches):
        return _WAITS
    return _STRICT_ONLY if fault.kind == "strict-only" else _ORDINARY


def longest_first(names: Sequence[str], previous: Mapping[str, float]) -> list[str]:
    """``names`` by expected length, longest first; a tie keeps the given order."""
    ordinary = statistics.median(previous.values()) if previous else 1.0

    def expected(name: str) -> float:
        return previous[name] if name in previous else guess_seconds(name) * ordinary

    rank = {name: index for index, name in enumerate(names)}
    return sorted(names, key=lambda name: (-expected(name), rank[name]))
