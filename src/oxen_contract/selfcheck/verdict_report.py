"""The self-check report's verdict section: each verdict case, what it must end with, and how its run ended.

``report.py`` renders the rest of the report and places this section after the hostile hubs; the cases themselves
are ``verdicts.py``'s table, and a row's judgement is ``rows.Outcome.verdict``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .rows import Outcome, VerdictCheck, exit_words
from .verdicts import ISSUE_CASES, KNOWN_VERDICT_FAILURES, VERDICT_CASES_BY_NAME

__all__ = ["verdict_lines"]


def _verdict_cell(outcome: Outcome) -> str:
    known = not outcome.ok and outcome.name in KNOWN_VERDICT_FAILURES
    return f"{outcome.verdict} (known failure)" if known else outcome.verdict


def _demand_cell(check: VerdictCheck | None) -> str:
    if check is None:
        return "-"
    words = ", ".join(f"`{word}`" for word in check.words)
    posts = f"; the audit counts {check.deploy_posts} deploy POST(s)" if check.deploy_posts is not None else ""
    return f"{exit_words(check.exit_status)}: {words}{posts}".replace("|", "\\|")


def _ended_cell(outcome: Outcome) -> str:
    check = outcome.check
    said = (
        f"exit {outcome.suite.exit_code}: {check.summary}"
        if check and check.summary
        else exit_words(outcome.suite.exit_code)
    )
    short = [f"missing {', '.join(check.missing)}"] if check and check.missing else []
    short += [f"**shows** {', '.join(check.shown)}"] if check and check.shown else []
    if outcome.safety is not None and not outcome.safety.safe:
        short.append("**HARMED**: " + "; ".join(outcome.safety.harm))
    return "<br>".join([said, *short]).replace("|", "\\|")


def verdict_lines(outcomes: Sequence[Outcome]) -> list[str]:
    cases = [o for o in outcomes if o.kind == "verdict"]
    if not cases:
        return []
    lines = [
        "",
        "## Verdicts",
        "",
        "How a run ends where issue 19 found it misleading: each case is a hub (a fault, a benign variant or none) and "
        "what the self-check arranges around the run. The suite must exit with the status given and its summary line "
        "(the last `[oxen-contract]` line; for a usage error, its one error line) must hold the words given; its "
        "output must show no INTERNALERROR and no Python traceback, and the hub's audit no harm.",
        "",
        "| case | what went wrong before | hub and setup | must end | verdict | the run ended | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in cases:
        case = VERDICT_CASES_BY_NAME.get(o.name)
        arranged = case.arranged if case is not None else "-"
        lines.append(
            f"| `{o.name}` | {o.rule} | {arranged} | {_demand_cell(o.check)} | {_verdict_cell(o)} | "
            f"{_ended_cell(o)} | {o.suite.seconds:.1f} |"
        )
    ran = {o.name: o for o in outcomes}
    lines += ["", "Issue 19's cases, and the rows that guard them (a fault row: exit 1 naming its clause):", ""]
    for why, names in ISSUE_CASES.items():
        rows = ", ".join(f"`{name}` ({ran[name].verdict if name in ran else 'not run'})" for name in names)
        lines.append(f"- {why}: {rows}")
    return lines
