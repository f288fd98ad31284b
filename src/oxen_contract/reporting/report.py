"""The run's report (``--contract-report``): one report model, written as JSON and rendered to Markdown or HTML.

It says which contract was checked (the digest of ``contracts/`` and the package's version), what the run checked
(coverage, clauses), what broke (each failure with its curl line), what is worth a look (warnings, lenient inputs,
drift, leaks, unsettled deploys) and, given a baseline, what changed since. ``html_report.py`` renders the model
through one template per format, so no section exists in one and not the other. In a GitHub Actions step the Markdown
also goes to the step summary, shortened to fit its size limit. With ``--hub-label`` the hub's URL appears nowhere in
what the run publishes: the label names the hub, and curl lines read the URL from ``$OXEN_CONTRACT_HUB_URL``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .baseline import changes_sentence, changes_since
from .html_report import render_html, render_markdown

if TYPE_CHECKING:
    from ..checking.tally import Tally

__all__ = ["STEP_SUMMARY_LIMIT", "hide_hub_url", "scrub_hub_url", "step_summary", "write_contract_report"]

# GitHub refuses a step summary over 1 MiB (and shows none of it); the report keeps a margin for other steps' lines.
STEP_SUMMARY_LIMIT = 1024 * 1024 - 64 * 1024
# What a hidden hub URL reads as in curl lines: the scheme's variable, which a reader sets to run them.
HUB_URL_PLACEHOLDER = "$OXEN_CONTRACT_HUB_URL"


def hide_hub_url(value: Any, url: str) -> Any:
    """``value`` (JSON data) with every occurrence of the hub's URL replaced by the placeholder variable."""
    if isinstance(value, str):
        return value.replace(url, HUB_URL_PLACEHOLDER)
    if isinstance(value, list):
        return [hide_hub_url(item, url) for item in value]
    if isinstance(value, dict):
        return {hide_hub_url(key, url): hide_hub_url(item, url) for key, item in value.items()}
    return value


def _contract() -> dict[str, str]:
    from .. import __version__
    from ..checking.contracts import contract_digest

    return {"digest": contract_digest(), "version": __version__}


def _drift_section(tally: Tally, strict: bool) -> dict[str, Any]:
    """What the hub's answers carried beyond the contract, and documented fields that stopped coming."""
    return {
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


def write_contract_report(
    path: Path,
    tally: Tally,
    meta: dict[str, Any],
    strict: bool,
    *,
    baseline: dict[str, Any] | None = None,
    history: Sequence[dict[str, Any]] = (),
    hub_label: str | None = None,
) -> tuple[tuple[Path, Path], str | None]:
    """Write the run's report at ``path`` (Markdown, or HTML for ``.html``) and as JSON beside it.

    With ``baseline`` (an earlier run's JSON report), the report opens with what is new since it; the sentence that
    says so is returned. With ``$GITHUB_STEP_SUMMARY`` set (a GitHub Actions step), the Markdown goes there too.
    With ``hub_label``, the label names the hub and its URL (``meta["hub"]``) is in none of the files.
    """
    clauses = {
        clause: {"rule": rule, "checked": tally.checked.get(clause, 0), "broken": tally.broken.get(clause, 0)}
        for clause, rule in tally.contract.rules().items()
    }
    data: dict[str, Any] = {
        **meta,
        "contract": _contract(),
        "coverage": tally.answers_by_operation(),
        "clauses": clauses,
        "failures": tally.failures,
        "lenient_inputs": {"entries": tally.lenient_inputs, "fails_the_run": strict},
        "warnings": tally.warnings,
        "drift": _drift_section(tally, strict),
    }
    url = str(meta.get("hub") or "")
    if hub_label and url.startswith(("http://", "https://")):
        data = hide_hub_url(data, url)
        data["hub"] = f"{hub_label} (URL withheld: {HUB_URL_PLACEHOLDER})"
    changes = changes_since(data, baseline) if baseline is not None else None
    if changes is not None:
        data["changes"] = changes
    path.parent.mkdir(parents=True, exist_ok=True)
    twin = path.with_suffix(".json")
    twin.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if path.suffix.lower() in (".html", ".htm"):
        path.write_text(render_html(data, history, changes), encoding="utf-8")
    else:
        path.write_text(render_markdown(data, history, changes), encoding="utf-8")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as file:
            file.write(step_summary(data, history, changes) + "\n")
    return (path, twin), (changes_sentence(changes) if changes is not None else None)


def step_summary(
    data: dict[str, Any], history: Sequence[dict[str, Any]] = (), changes: dict[str, Any] | None = None
) -> str:
    """The Markdown for GitHub's step summary: whole if it fits under STEP_SUMMARY_LIMIT, else shortened to fit.

    Shortened, it leaves out the clause grid, the drift value tables and all but the first failures, and says so;
    should that still not fit (a hub answering megabytes of drift), it is cut at the limit with a line saying where.
    """
    whole = render_markdown(data, history, changes)
    if len(whole.encode("utf-8")) <= STEP_SUMMARY_LIMIT:
        return whole
    short = render_markdown(data, history, changes, compact=True)
    if len(short.encode("utf-8")) <= STEP_SUMMARY_LIMIT:
        return short
    note = "\n\n*Cut here to fit the step summary's size limit: the whole report is in the run's artifact.*\n"
    budget = STEP_SUMMARY_LIMIT - len(note.encode("utf-8"))
    return short.encode("utf-8")[:budget].decode("utf-8", errors="ignore") + note


def scrub_hub_url(path: Path, url: str) -> None:
    """Hide the hub's URL in a file the run published (the JUnit XML), as the report hides it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return
    if url in text:
        path.write_text(text.replace(url, HUB_URL_PLACEHOLDER), encoding="utf-8")
