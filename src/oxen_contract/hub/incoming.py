"""What the hub reads off a request as it was sent: raw path, query, base URL, a checkpoint deploy's options and body.

Kept apart from ``app.py``, which decides the answers: these only read the request, and read it the same way for
every route (ids are parsed from the raw path by ``routing.py``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from .routing import Target

__all__ = ["Query", "base_url", "checkpoint_problem", "path_text", "raw_path"]

_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
_MAX_BODY = 64 * 1024
_STEP = re.compile(r"^[0-9]{1,12}$")
_BOOLEANS = {"true", "false", "1", "0"}
_DEPLOYMENT_TYPES = ("fast", "normal")


@dataclass(frozen=True, slots=True)
class Query:
    values: dict[str, str]

    @classmethod
    def parse(cls, query_string: bytes) -> Query:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace")
        values: dict[str, str] = {}
        for key, value in pairs:
            # The first value wins, as in most frameworks.
            values.setdefault(key, value)
        return cls(values)

    def get(self, key: str) -> str | None:
        return self.values.get(key)


def raw_path(request: Request) -> bytes:
    raw: bytes = request.scope.get("raw_path") or request.scope["path"].encode("utf-8", "replace")
    return raw


def path_text(request: Request) -> str:
    # Percent-escapes stay as sent: the audit shows what arrived, not what it meant.
    return raw_path(request).decode("utf-8", "replace")


def base_url(request: Request) -> str:
    scheme = "https" if request.scope.get("scheme") == "https" else "http"
    host = request.headers.get("host", "")
    if not _HOST.match(host):
        server = request.scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    return f"{scheme}://{host}"


async def checkpoint_problem(request: Request, target: Target, query: Query) -> str | None:
    """What is wrong with a checkpoint deploy's step, ``retry`` query and body, as an error detail; None if nothing."""
    if not _STEP.match(target.step):
        return f"Path parameter 'step' must be an integer, got {target.step!r}"
    retry = query.get("retry")
    if retry is not None and retry.lower() not in _BOOLEANS:
        return f"Query parameter 'retry' must be a boolean, got {retry!r}"
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_BODY:
            return "Request body is too large"
    if not body.strip():
        return None
    try:
        document: Any = json.loads(body)
    except (ValueError, RecursionError):
        return "Request body must be a JSON object"
    if not isinstance(document, dict):
        return "Request body must be a JSON object"
    kind = document.get("deployment_type", "normal")
    if kind not in _DEPLOYMENT_TYPES:
        return "deployment_type must be 'fast' or 'normal'"
    return None
