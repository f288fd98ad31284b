"""The mutation report, ``reports/mutants.md`` and its JSON twin: the figures, by module, and every survivor's diff.

The JSON is what ``tests/mutants/test_ledger.py`` reads: every mutant with its outcome and stable key, and each
survivor's diff. The Markdown puts each survivor under the ledger entry that accounts for it, or under "in neither
list", so that a reviewer reads the run and the ledger side by side.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .ledger import Accounting
from .results import OUTCOMES, Mutant

__all__ = ["RunInfo", "figures", "render_markdown", "write_reports"]

_KILLED = tuple(outcome for outcome in OUTCOMES if outcome.startswith("killed"))
# The Markdown shows a survivor's first differences; the JSON keeps them all.
_SHOWN_DIFFERENCES = 12
_TITLES = {
    "hub": "# Mutation testing: the contract suite against mutants of the local hub",
    "safety": "# Mutation testing: the safety code (provenance, reconciliation, ledger) against its unit tests",
}


@dataclass(frozen=True, slots=True)
class RunInfo:
    command: str
    test_command: str
    mutmut: str
    modules: tuple[str, ...]
    max_children: int
    date: str
    # phase -> wall seconds
    seconds: dict[str, float]
    target: str = "hub"


def figures(mutants: Iterable[Mutant], accounting: Accounting | None) -> dict[str, object]:
    mutants = list(mutants)
    counted = Counter(mutant.outcome for mutant in mutants)
    made = len(mutants)
    not_reached = counted["not reached"]
    reached = made - not_reached - counted["not checked"]
    killed = sum(counted[outcome] for outcome in _KILLED)
    survivors = [mutant for mutant in mutants if mutant.outcome == "survived"]
    allowed = gaps = neither = equivalent = by_clause = misfiled = 0
    if accounting is not None:
        allowed = sum(mutant.key in accounting.allowed for mutant in survivors)
        gaps = sum(mutant.key in accounting.gaps for mutant in survivors)
        neither = len(survivors) - allowed - gaps
        equivalent = sum(mutant.key in set(accounting.equivalent) for mutant in survivors)
        by_clause = sum(mutant.key in set(accounting.allowed_by_clause) for mutant in survivors)
        misfiled = sum(mutant.key in accounting.misfiled or mutant.key in accounting.unprobed for mutant in survivors)
    # Only a claim the probe bears out leaves the count: an equivalent mutant answers nothing differently, an allowed
    # one only what its group's clause leaves free. A misfiled claim counts as a survivor the suite should have caught.
    must_kill = reached - equivalent - by_clause
    return {
        "made": made,
        "reached": reached,
        # mutmut's "reached" is a test calling the function; this is the unmutated run executing the changed line.
        "reached_lines": sum(mutant.executed is True for mutant in mutants if mutant.outcome != "not reached"),
        "killed": killed,
        "killed_by": {outcome.removeprefix("killed: "): counted[outcome] for outcome in _KILLED},
        "survived": len(survivors),
        "survived_allowed": allowed,
        "survived_equivalent": equivalent,
        "survived_allowed_by_clause": by_clause,
        "survived_misfiled": misfiled,
        "survived_gaps": gaps,
        "survived_in_neither_list": neither,
        "survived_unexecuted_lines": sum(mutant.executed is False for mutant in survivors),
        "not_reached": not_reached,
        "not_checked": counted["not checked"],
        # The bar: of the reached mutants neither probe-equivalent nor allowed by a named clause, the share killed.
        "kill_rate_not_allowed": round(killed / must_kill, 4) if must_kill else None,
        "must_kill": must_kill,
        "kill_rate_reached": round(killed / reached, 4) if reached else None,
    }


def _by_module(mutants: Sequence[Mutant], accounting: Accounting | None) -> dict[str, dict[str, object]]:
    modules = sorted({mutant.module for mutant in mutants})
    return {module: figures([m for m in mutants if m.module == module], accounting) for module in modules}


def _status(mutant: Mutant, accounting: Accounting | None) -> str:
    if accounting is None:
        return "no ledger"
    if mutant.key in accounting.gaps:
        return "gap"
    entry = accounting.allowed.get(mutant.key)
    if entry is None:
        return "IN NEITHER LIST"
    if mutant.key in accounting.misfiled:
        return f"MISFILED under {entry.group}: the probe shows {accounting.misfiled[mutant.key]}"
    return f"{'equivalent' if entry.equivalent else 'allowed'}: {entry.group}"


def to_json(info: RunInfo, mutants: Sequence[Mutant], accounting: Accounting | None) -> dict[str, object]:
    return {
        "command": info.command,
        "target": info.target,
        "test_command": info.test_command,
        "mutmut": info.mutmut,
        "modules": list(info.modules),
        "max_children": info.max_children,
        "date": info.date,
        "seconds": info.seconds,
        "figures": figures(mutants, accounting),
        "by_module": _by_module(mutants, accounting),
        "mutants": [
            {**mutant.to_json(with_diff=mutant.outcome == "survived"), "ledger": _status(mutant, accounting)}
            if mutant.outcome == "survived"
            else mutant.to_json(with_diff=False)
            for mutant in mutants
        ],
    }


def _percent(value: object) -> str:
    return f"{value * 100:.1f} %" if isinstance(value, float) else "n/a"


def render_markdown(info: RunInfo, mutants: Sequence[Mutant], accounting: Accounting | None) -> str:
    lines = [*_head(info), *_figure_lines(figures(mutants, accounting)), *_module_lines(mutants, accounting)]
    survivors = [mutant for mutant in mutants if mutant.outcome == "survived"]
    if accounting is not None:
        lines += _ledger_sections(survivors, accounting)
    lines += ["", "## Every survivor", ""]
    for mutant in survivors:
        where = "" if mutant.executed is not False else " (line never executed by the unmutated run)"
        lines += [
            f"### `{mutant.key}`: {_status(mutant, accounting)}",
            "",
            f"`{mutant.id}`, line {', '.join(map(str, mutant.lines))}{where}",
            "",
            "```diff",
            mutant.diff,
            "```",
            "",
            *_probe_lines(mutant),
        ]
    return "\n".join(lines).rstrip() + "\n"


def _head(info: RunInfo) -> list[str]:
    """The title, the command and when it ran, what was mutated and what the tests were."""
    seconds = ", ".join(f"{phase} {value:.0f} s" for phase, value in info.seconds.items())
    return [
        _TITLES.get(info.target, f"# Mutation testing: {info.target}"),
        "",
        f"`{info.command}` on {info.date}, {info.mutmut}, {info.max_children} worker(s): {seconds}.",
        "",
        f"Mutated: {', '.join(f'`{module}`' for module in info.modules)}. Each mutant runs the tests that reached its "
        f"function: `{info.test_command}`. "
        + (
            "The suite's exit status splits mutmut's \"killed\": 1 a contract violation, 75 hub unavailable, 78 a "
            "setup error. Every survivor is played the differential probe (`mutants/probe.py`) against the clean hub."
            if info.target == "hub"
            else "pytest's exit status 1 (a test failed) is counted as a contract violation here: a rule of the safety "
            "code's tests broke."
        ),
    ]


def _figure_lines(total: dict[str, object]) -> list[str]:
    killed_by = total["killed_by"]
    assert isinstance(killed_by, dict)
    return [
        "",
        "## Figures",
        "",
        "| | mutants |",
        "|---|---:|",
        f"| made | {total['made']} |",
        f"| reached (a test of the suite called the function) | {total['reached']} |",
        f"| reached, and the unmutated run executed the changed line | {total['reached_lines']} |",
        f"| killed | {total['killed']} ({_percent(total['kill_rate_reached'])} of reached) |",
        f"| killed as a contract violation (exit 1) | {killed_by['contract violation']} |",
        f"| killed as hub unavailable (75) | {killed_by['hub unavailable']} |",
        f"| killed as a setup error (78) | {killed_by['setup error']} |",
        f"| killed by mutmut's timeout | {killed_by['timeout']} |",
        f"| killed otherwise (pytest error, crash) | {killed_by['other']} |",
        f"| survived | {total['survived']} ({total['survived_unexecuted_lines']} on lines the suite never executes) |",
        f"| survived, filed as equivalent and shown so by the probe (no difference) | {total['survived_equivalent']} |",
        f"| survived, allowed by a named clause and shown so by the probe | {total['survived_allowed_by_clause']} |",
        f"| survived, filed as equivalent or allowed but the probe disagrees | {total['survived_misfiled']} |",
        f"| survived, gaps (`contracts/MUTANTS.md`) | {total['survived_gaps']} |",
        f"| survived, in neither list | {total['survived_in_neither_list']} |",
        f"| not reached (no test called the function) | {total['not_reached']} |",
        f"| reached, neither probe-equivalent nor allowed by a named clause | {total['must_kill']} |",
        f"| killed, of those | {_percent(total['kill_rate_not_allowed'])} |",
    ]


def _module_lines(mutants: Sequence[Mutant], accounting: Accounting | None) -> list[str]:
    lines = [
        "",
        "## By module",
        "",
        "| module | made | reached | violation | unavailable | setup | timeout | other | survived | equivalent "
        "| allowed | misfiled | gaps | neither | killed of the rest |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for module, row in _by_module(mutants, accounting).items():
        by = row["killed_by"]
        assert isinstance(by, dict)
        lines.append(
            f"| `{module}` | {row['made']} | {row['reached']} | {by['contract violation']} | {by['hub unavailable']} "
            f"| {by['setup error']} | {by['timeout']} | {by['other']} | {row['survived']} "
            f"| {row['survived_equivalent']} | {row['survived_allowed_by_clause']} | {row['survived_misfiled']} "
            f"| {row['survived_gaps']} | {row['survived_in_neither_list']} | {_percent(row['kill_rate_not_allowed'])} |"
        )
    return lines


def _probe_lines(mutant: Mutant) -> list[str]:
    if mutant.differences is None:
        return ["Not probed.", ""]
    if not mutant.differences:
        return ["The probe: no difference.", ""]
    shown = list(mutant.differences[:_SHOWN_DIFFERENCES])
    if len(mutant.differences) > _SHOWN_DIFFERENCES:
        shown.append(f"... and {len(mutant.differences) - _SHOWN_DIFFERENCES} more (reports/mutants.json has them all)")
    return [f"The probe's differences ({len(mutant.differences)}):", "", "```", *shown, "```", ""]


def _ledger_sections(survivors: Sequence[Mutant], accounting: Accounting) -> list[str]:
    lines = ["", "## Survivors by ledger group", "", "| group | source | survivors |", "|---|---|---:|"]
    groups = Counter((entry.group, entry.source) for entry in accounting.allowed.values())
    for (group, source), count in sorted(groups.items(), key=lambda item: -item[1]):
        lines.append(f"| {group} | {source} | {count} |")
    lines.append(f"| **gaps** | | {len(accounting.gaps)} |")
    lines += ["", "## Gaps", ""]
    for mutant in survivors:
        gap = accounting.gaps.get(mutant.key)
        if gap is not None:
            lines.append(f"- `{mutant.key}` (`{mutant.id}`) {gap.note}")
    misfiled = [mutant for mutant in survivors if mutant.key in accounting.misfiled]
    lines += ["", f"## Filed as equivalent or allowed, but the probe disagrees ({len(misfiled)})", ""]
    lines += [
        f"- `{mutant.key}` ({_status(mutant, accounting).partition(':')[0]}): `{accounting.misfiled[mutant.key]}`"
        for mutant in misfiled
    ] or ["None."]
    neither = [mutant for mutant in survivors if mutant.key in accounting.unaccounted]
    lines += ["", f"## In neither list ({len(neither)})", ""]
    lines += [f"- `{mutant.key}` (`{mutant.id}`): `{mutant.change}`" for mutant in neither] or ["None."]
    if accounting.closed_gaps:
        lines += ["", "## Gaps of the ledger that no longer survive (remove them)", ""]
        lines += [f"- `{entry.selector}` ({entry.where}) {entry.note}" for entry in accounting.closed_gaps]
    return lines


def write_reports(
    info: RunInfo, mutants: Sequence[Mutant], accounting: Accounting | None, out: Path
) -> dict[str, object]:
    """Write ``out`` (Markdown) and its ``.json`` twin; returns the figures."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_markdown(info, mutants, accounting), "utf-8")
    data = to_json(info, mutants, accounting)
    out.with_suffix(".json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", "utf-8")
    result = data["figures"]
    assert isinstance(result, dict)
    return result
