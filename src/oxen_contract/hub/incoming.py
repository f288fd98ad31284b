"""What the hub reads off a request as it was sent: the raw path, the query string, the base URL it was reached at.

Kept apart from ``app.py``, which decides the answers: these only read the ASGI scope, and read it the same way for
every route (ids are parsed from the raw path by ``routing.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.requests import Request

__all__ = ["Query", "base_url", "path_text", "raw_path"]

_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


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
