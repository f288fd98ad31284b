"""Failure text: what broke, on which request, and a curl line that reproduces it.

Every message names the operation, the request (method, path, ids), the status, each clause broken (its id, the rule
in words, where in the body, expected vs actual) and a curl line that writes the key as ``$OXEN_API_KEY``: a message
is pasted into tickets and CI logs, so it never holds a key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .exchange import Credential, Exchange, curl_line

if TYPE_CHECKING:
    from .failures import Finding

__all__ = ["BODY_LIMIT", "excerpt", "first_line", "render_failure", "render_value"]

BODY_LIMIT = 600


def render_value(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) and value.startswith("<") else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_line(said: BaseException | str) -> str:
    """The first line of what ``said`` says: of an error, its message (its type's name if it has none); of a text."""
    text = str(said).strip()
    if text:
        return text.splitlines()[0]
    return type(said).__name__ if isinstance(said, BaseException) else ""


def excerpt(text: str, limit: int = BODY_LIMIT) -> str:
    if not text:
        return "<empty>"
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


# Headers that say nothing about the failure, or could carry a session: never shown.
_QUIET_HEADERS = frozenset({"content-type", "date", "server", "set-cookie", "connection", "keep-alive", "vary"})


def _shown_headers(headers: Mapping[str, str]) -> str:
    return "; ".join(f"{name}: {value}" for name, value in headers.items() if name.lower() not in _QUIET_HEADERS)


def _rule(clause: str) -> str:
    from .contracts import load_contract

    return load_contract().rules().get(clause, "")


def render_failure(exchange: Exchange, findings: Sequence[Finding], note: str = "") -> str:
    ids = f", id {exchange.model_id!r}" if exchange.model_id is not None else ""
    credential = "" if exchange.credential == Credential.KEY else f", credential: {exchange.credential}"
    lines = [f"Contract violation in {exchange.operation}: {exchange.method} {exchange.path}{ids}{credential}"]
    # Status 0: nothing whole came back (a timeout, a dropped connection): no status, headers or body to show.
    answered = bool(exchange.status)
    content_type = exchange.content_type or "(no content type)"
    lines.append(f"  answered {exchange.status} {content_type}" if answered else "  no whole answer")
    shown = _shown_headers(exchange.headers)
    if shown:
        lines.append(f"  answer headers: {shown}")
    for finding in findings:
        rule = _rule(finding.clause)
        lines.append(f"  clause {finding.clause}" + (f": {rule}" if rule else ""))
        where = f" at {finding.at}" if finding.at else ""
        lines.append(f"    expected{where}: {finding.expected}")
        lines.append(f"    actual{where}:   {finding.actual}")
    if note:
        lines.append(f"  {note}")
    if answered:
        lines.append(f"  body: {excerpt(exchange.text)}")
    lines.append("  reproduce with:")
    lines.append(f"    {curl_line(exchange.method, exchange.url, exchange.credential, exchange.request_body)}")
    return "\n".join(lines)
