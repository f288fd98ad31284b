"""All failure text: what broke, on which request, and a curl line that reproduces it.

Every message names the operation, the request (method, path, ids), the status, each clause broken (its id, the rule
in words, where in the body, expected vs actual) and a curl line that writes the key as ``$OXEN_API_KEY``: a message
is pasted into tickets and CI logs, so it never holds a key.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .client import INVALID_KEY, Credential, Exchange

if TYPE_CHECKING:
    from .failures import Finding

__all__ = ["curl_line", "excerpt", "render_failure", "render_value"]

BODY_LIMIT = 600


def render_value(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) and value.startswith("<") else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def excerpt(text: str, limit: int = BODY_LIMIT) -> str:
    if not text:
        return "<empty>"
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def curl_line(method: str, url: str, credential: str, body: str | None = None) -> str:
    parts = ["curl", "-X", method, shlex.quote(url)]
    if credential in (Credential.KEY, Credential.OTHER):
        # Double quotes so that the shell expands the variable; the key itself is never written.
        parts += ["-H", f'"Authorization: Bearer {credential}"']
    elif credential == Credential.INVALID:
        parts += ["-H", shlex.quote(f"Authorization: Bearer {INVALID_KEY}")]
    elif credential == Credential.NOT_BEARER:
        parts += ["-H", shlex.quote(f"Authorization: Basic {INVALID_KEY}")]
    if body is not None:
        parts += ["-H", "'Content-Type: application/json'", "--data", shlex.quote(body)]
    return " ".join(parts)


def _rule(clause: str) -> str:
    from .contracts import load_contract

    return load_contract().rules().get(clause, "")


def render_failure(exchange: Exchange, findings: Sequence[Finding], note: str = "") -> str:
    ids = f", id {exchange.model_id!r}" if exchange.model_id is not None else ""
    credential = "" if exchange.credential == Credential.KEY else f", credential: {exchange.credential}"
    lines = [
        f"Contract violation in {exchange.operation}: {exchange.method} {exchange.path}{ids}{credential}",
        f"  answered {exchange.status} {exchange.content_type or '(no content type)'}",
    ]
    for finding in findings:
        rule = _rule(finding.clause)
        lines.append(f"  clause {finding.clause}" + (f": {rule}" if rule else ""))
        where = f" at {finding.at}" if finding.at else ""
        lines.append(f"    expected{where}: {finding.expected}")
        lines.append(f"    actual{where}:   {finding.actual}")
    if note:
        lines.append(f"  {note}")
    lines.append(f"  body: {excerpt(exchange.text)}")
    lines.append("  reproduce with:")
    lines.append(f"    {curl_line(exchange.method, exchange.url, exchange.credential, exchange.request_body)}")
    return "\n".join(lines)
