"""The mutation report: who caught each fault, who raised a false alarm, what strict-only and hostile rows showed.

Per fault, who caught it; per benign variant, who raised a false alarm; per strict-only fault, whether the suite
passed it by default and caught it under ``--strict-contract``; per hostile hub, whether the suite reached a verdict
and did no harm (the safety column, from the hub's audit); per verdict case, whether the run ended with the exit
status and summary line it must have (the verdict column); then the scores.

Then clause coverage: a clause of SOURCES.md is covered only when the suite's output, for a fault it caught, names
it (a row's other clauses prove nothing by being listed), and every clause left uncovered is listed with the reason.

A release manager reads the Markdown; CI and the README's figures read the JSON. Both come from the same rows
(``rows.py``, which also carries them between pytest-xdist workers and the controller).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..reporting.markdown import code_span
from .expected import EXPECTED_CLAUSES, KNOWN_MISSES, UNREACHED_BY_DESIGN
from .rows import HOSTILE_SECONDS, Outcome, Safety, SuiteRun, exit_words
from .scores import Scores, baseline_row, new_failures, scores
from .verdict_report import verdict_lines
from .verdicts import ISSUE_CASES

__all__ = ["covered_clauses", "render", "unreached_clauses", "write_report"]


def covered_clauses(outcomes: Sequence[Outcome]) -> dict[str, tuple[str, ...]]:
    """Clause -> the faults whose suite output named it, counting caught faults only (``Outcome.covered``)."""
    covering: dict[str, list[str]] = {}
    for outcome in outcomes:
        for clause in outcome.covered:
            covering.setdefault(clause, []).append(outcome.name)
    return {clause: tuple(names) for clause, names in covering.items()}


def _by_design(clause: str) -> str | None:
    return next((why for prefix, why in UNREACHED_BY_DESIGN.items() if clause.startswith(prefix)), None)


def unreached_clauses(rules: Iterable[str], outcomes: Sequence[Outcome]) -> dict[str, str]:
    """Clauses of SOURCES.md that no caught fault's suite output names, each with the reason."""
    covered = covered_clauses(outcomes)
    ran = {outcome.name: outcome for outcome in outcomes}
    unreached: dict[str, str] = {}
    for clause in rules:
        if clause in covered:
            continue
        why = _by_design(clause)
        mapped = [name for name, row in EXPECTED_CLAUSES.items() if clause in row]
        if why is None and not mapped:
            why = "no fault of the catalog is mapped to it"
        elif why is None:
            reasons = []
            for name in mapped:
                if name not in ran:
                    reasons.append(f"`{name}` was not run")
                elif ran[name].verdict == "caught":
                    reasons.append(f"`{name}` was caught, but the suite's output does not name this clause")
                elif name in KNOWN_MISSES:
                    reasons.append(f"`{name}` was {ran[name].verdict}, a known miss: {KNOWN_MISSES[name]}")
                else:
                    reasons.append(f"`{name}` was {ran[name].verdict}")
            why = "; ".join(reasons)
        unreached[clause] = why
    return unreached


def _st_cell(outcome: Outcome, base: Outcome | None, alarm: bool) -> str:
    run = outcome.schemathesis
    if run is None:
        return "not run"
    if run.exit_code == 0:
        return "passed" if alarm else "missed"
    new = new_failures(outcome, base)
    word = "false alarm" if alarm else "fails"
    return f"{word} ({len(new)} new: {'; '.join(new)})" if new else f"{word} (as without faults)"


def _seconds(outcome: Outcome) -> str:
    run = outcome.judged or outcome.suite
    first = run.first_failure_seconds
    return f"{first:.1f}" if first is not None else f"({run.seconds:.1f})"


def _code(text: str | None) -> str:
    return code_span(text, table=True) if text else "-"


def _verdict_cell(outcome: Outcome) -> str:
    known = outcome.verdict == "missed" and outcome.name in KNOWN_MISSES
    return f"{outcome.verdict} (known miss)" if known else outcome.verdict


def _clause_cell(outcome: Outcome, clause: str) -> str:
    run = outcome.judged
    named = run is not None and clause in run.clauses
    return _code(clause) if named else f"{_code(clause)} *(not named)*"


def _clauses_cell(outcome: Outcome) -> str:
    return "<br>".join(_clause_cell(outcome, c) for c in outcome.expected) or "(no clause id mapped)"


def _warned_cell(run: SuiteRun | None) -> str:
    if run is None or run.warned is None:
        return "-"
    counted = {clause: run.warned.count(clause) for clause in run.warned}
    return ", ".join(f"`{clause}` ×{count}" for clause, count in counted.items()) or "none"


def _safety_cell(safety: Safety | None) -> str:
    if safety is None:
        return "-"
    if not safety.safe:
        return "**HARMED**: " + "; ".join(safety.harm)
    colleague = f" (nor the {len(safety.appeared)} a colleague made during it)" if safety.appeared else ""
    made = f"{len(safety.created)} model(s) its deploys made" if safety.created else "no model made by its deploys"
    return (
        f"safe: {safety.deploy_posts} deploy POST(s) of {safety.max_provisions} allowed; no DELETE reached a model "
        f"the run did not make{colleague}; every model held before the run kept; {made}, "
        "each deleted or named in a LEAK line; no key shown"
    )


def _run_cell(run: SuiteRun | None) -> str:
    if run is None:
        return "not run"
    # The verdict line ends with its own "(exit status N)"; without one, say what the exit status means.
    text = f"exit {run.exit_code}: {run.verdict_line}" if run.verdict_line else exit_words(run.exit_code)
    return text.replace("|", "\\|")


def render(outcomes: Sequence[Outcome], *, wall_seconds: float | None = None, command: str = "") -> str:
    """The report as Markdown: the fault, strict-only, benign, hostile and verdict tables, the no-fault row, scores."""
    base = baseline_row(outcomes)
    lines = ["# Self-check: the contract suite against every fault of the local hub", ""]
    if command or wall_seconds is not None:
        wall = f"; wall time {wall_seconds:.0f} s" if wall_seconds is not None else ""
        lines += [f"Command: `{command}`{wall}." if command else f"Wall time {wall_seconds:.0f} s.", ""]
    lines += _fault_lines(outcomes, base)
    lines += _strict_only_lines(outcomes, base)
    lines += _benign_lines(outcomes, base)
    lines += _hostile_lines(outcomes)
    lines += verdict_lines(outcomes)
    lines += _no_fault_lines(base)
    lines += _score_lines(scores(outcomes))
    lines += _coverage_lines(outcomes)
    return "\n".join(lines) + "\n"


def _fault_lines(outcomes: Sequence[Outcome], base: Outcome | None) -> list[str]:
    """Each fault: the clause it breaks, our suite's verdict, plain schemathesis's, and how fast."""
    lines = [
        "## Faults",
        "",
        "Each must fail the suite (exit 1) naming its clause.",
        "Seconds: to the first failing test line of the suite, or (in parentheses) the whole run when nothing failed.",
        "A clause marked *(not named)* is one the fault breaks but the suite's output did not name.",
    ]
    if any(o.suite.first_failure_only for o in outcomes if o.harmful):
        lines.append(
            "Each fault's suite run stopped at its first failing test (`--first-failure`, pytest's `-x`): "
            "*caught by* names that test alone, and a clause only a later test names shows as *(not named)*."
        )
    lines += [
        "",
        "| fault | clause | our suite | plain schemathesis | caught by | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for o in (o for o in outcomes if o.harmful):
        lines.append(
            f"| `{o.name}` | {_clauses_cell(o)} | {_verdict_cell(o)} | {_st_cell(o, base, alarm=False)} | "
            f"{_code(o.suite.caught_by)} | {_seconds(o)} |"
        )
    return lines


def _strict_only_lines(outcomes: Sequence[Outcome], base: Outcome | None) -> list[str]:
    """Each strict-only fault: passed by default with a warning, caught under --strict-contract."""
    lines = [
        "",
        "## Strict-only faults",
        "",
        "A leniency no source forbids (a request the documentation does not allow, accepted): by default the suite "
        "must pass (exit 0), reporting it as a warning; with `--strict-contract` it must fail (exit 1) naming the "
        "clause. Each lenient input also has a benign variant below, which must pass by default.",
        "",
        "| fault | clause | by default | warnings of the default run | with `--strict-contract` | plain schemathesis "
        "| caught by | seconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in (o for o in outcomes if o.kind == "strict-only"):
        strict = o.strict
        lines.append(
            f"| `{o.name}` | {_clauses_cell(o)} | {_run_cell(o.suite)} | {_warned_cell(o.suite)} | "
            f"{_verdict_cell(o)}: {_run_cell(strict)} | {_st_cell(o, base, alarm=False)} | "
            f"{_code(strict.caught_by if strict else None)} | {_seconds(o)} |"
        )
    return lines


def _benign_lines(outcomes: Sequence[Outcome], base: Outcome | None) -> list[str]:
    """Each benign variant: passed, with what the suite named and warned, and the safety of crowded hubs."""
    lines = [
        "",
        "## Benign variants",
        "",
        "Each must pass the suite (exit 0). Lenient inputs: requests the documentation does not allow that the hub "
        "accepted, which the suite reports as warnings (the leniency variants must draw them, not a failure). "
        "Safety: for a hub whose namespaces already hold models, what its audit shows the run did to them.",
        "",
        "| variant | what varies | our suite | plain schemathesis | clauses our suite named | warnings | safety |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in (o for o in outcomes if o.benign):
        named = ", ".join(_code(c) for c in o.suite.clauses) or "-"
        lines.append(
            f"| `{o.name}` | {o.rule} | {o.verdict} | {_st_cell(o, base, alarm=True)} | {named} | "
            f"{_warned_cell(o.suite)} | {_safety_cell(o.safety)} |"
        )
    return lines


def _hostile_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """Each hostile hub: its lure, the suite's verdict, and what the hub's audit shows the run did."""
    lines = [
        "",
        "## Hostile hubs",
        "",
        "Each lures the suite towards harm: a model it did not make, an extra deploy, a model left behind unnamed, a "
        "key shown, an answer too big, an endless wait. The suite must end with the verdict the lure calls for (exit 1 "
        "for a clause it broke, 78 when no usable model could be deployed; `wrong exit` otherwise), say the rule or "
        "refusal that kept it safe (`unsaid` if not), print no INTERNALERROR or traceback (`crashed`), within "
        f"{HOSTILE_SECONDS:.0f} s (`too slow` past it), and the hub's audit "
        "(`--audit`) must show no more deploy POSTs than `--max-provisions`, no DELETE reaching a live model that no "
        "deploy of the run created (held before the run, or a colleague's that appeared during it), no such model "
        "deleted, and every model the run's deploys made either deleted or named in a `LEAK '<id>'` line of the "
        "suite's output; and no spelling of a key (as sent, JSON-escaped, percent-encoded, as Basic credentials) may "
        "show in its output or report. Plain schemathesis is not run against them: it follows redirects and deletes "
        "whatever it finds, so it would only show the harm this table guards against.",
        "",
        "| hub | the lure | our suite | verdict | safety | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for o in (o for o in outcomes if o.kind == "hostile"):
        lines.append(
            f"| `{o.name}` | {o.rule} | {o.verdict} | {_run_cell(o.suite)} | {_safety_cell(o.safety)} | "
            f"{o.suite.seconds:.1f} |"
        )
    return lines


def _no_fault_lines(base: Outcome | None) -> list[str]:
    """The hub without faults: our suite's verdict, and plain schemathesis's failures if it had any."""
    if base is None:
        return []
    st = "not run" if base.schemathesis is None else ("passed" if base.schemathesis.exit_code == 0 else "fails")
    failures = "; ".join(base.schemathesis.failures) if base.schemathesis else ""
    lines = [
        "",
        "## The hub without faults",
        "",
        f"Our suite: {base.verdict} ({_run_cell(base.suite)}). Plain schemathesis: {st}.",
    ]
    if failures:
        lines += ["", f"Plain schemathesis failures without any fault: {failures}."]
    return lines


def _coverage_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """The clauses of SOURCES.md the suite named for a fault it caught, and those no fault reaches."""
    rules = _rules()
    covered = covered_clauses(outcomes)
    unreached = unreached_clauses(rules, outcomes)
    lines = [
        "",
        "## Clause coverage",
        "",
        f"{sum(clause in covered for clause in rules)} of {len(rules)} clauses of SOURCES.md are covered: named in the "
        "suite's output for a fault it caught.",
        "",
        "## Clauses no fault reaches",
        "",
    ]
    lines += [f"- `{clause}`: {why}" for clause, why in unreached.items()] or [
        "None: the suite named every clause of SOURCES.md for a fault it caught."
    ]
    return lines


def _score_lines(score: Scores) -> list[str]:
    known = f" ({score.suite_known_misses} known miss)" if score.suite_known_misses else ""
    failures = f" ({score.verdict_known_failures} known failure)" if score.verdict_known_failures else ""
    lines = [
        "",
        "## Scores",
        "",
        "| | caught / faults | false alarms / benign variants | strict-only: passed by default, caught under "
        "`--strict-contract` / strict-only faults | hostile hubs: ended with a verdict, did no harm / hostile hubs "
        "| verdict cases: held / cases |",
        "|---|---|---|---|---|---|",
        f"| our suite | {score.suite_caught} / {score.faults}{known} | {score.suite_false_alarms} / {score.benign} | "
        f"{score.strict_passed_by_default}, {score.strict_caught} / {score.strict_only} | "
        f"{score.hostile_verdicts}, {score.hostile_safe} / {score.hostile} | "
        f"{score.verdicts_held} / {score.verdict_cases}{failures} |",
    ]
    if score.st_caught is not None:
        lines.append(
            f"| plain schemathesis (any failure) | {score.st_caught} / {score.faults} | "
            f"{score.st_false_alarms} / {score.benign} | - | not run | not run |"
        )
        lines.append(
            f"| plain schemathesis (failures the hub without faults does not provoke) | "
            f"{score.st_caught_new} / {score.faults} | {score.st_false_alarms_new} / {score.benign} | - | not run "
            "| not run |"
        )
    return lines


def _rules() -> tuple[str, ...]:
    from ..checking.contracts import load_contract

    return tuple(load_contract().rules())


def to_json(outcomes: Sequence[Outcome], **meta: Any) -> dict[str, Any]:
    rules = _rules()
    covered = covered_clauses(outcomes)
    return {
        **meta,
        "scores": asdict(scores(outcomes)),
        "coverage": {
            "clauses": len(rules),
            "covered": {clause: list(covered[clause]) for clause in rules if clause in covered},
            "unreached": unreached_clauses(rules, outcomes),
        },
        "outcomes": [
            {**asdict(o), "verdict": o.verdict, "ok": o.ok, **({"safe": o.safety.safe} if o.safety else {})}
            for o in outcomes
        ],
        "issue_19_cases": {why: list(names) for why, names in ISSUE_CASES.items()},
    }


def write_report(outcomes: Sequence[Outcome], out: Path, **meta: Any) -> str:
    """Write ``out`` (Markdown) and the same path with ``.json``; return the Markdown."""
    text = render(outcomes, wall_seconds=meta.get("wall_seconds"), command=str(meta.get("command", "")))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    payload = to_json(outcomes, **meta)
    out.with_suffix(".json").write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    return text
