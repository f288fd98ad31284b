"""What a hostile hub does to an answer on its way out: echo the caller's key, gzip-bomb it, or have its head dripped.

These lures harm a suite through what it receives, not through what it deletes: a key a debug page echoes ends up in
the suite's output, report or cassettes unless every spelling of it is redacted; an answer of a few hundred KB that
decodes to hundreds of MB passes a cap on bytes received; a head that trickles in passes a timeout that only bounds
the body. Each is a plain function of a ``Reply`` the app calls where the fault's switch is on (``hostile.py`` holds
the lures that decide which model is answered or deleted).
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import replace
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from .proxy import DRIP_HEAD_HEADER
from .records import ApiError, Reply, render

__all__ = ["BOMB_BYTES", "DEBUG_PAGE", "drip_head", "echo_key", "gzip_bomb", "key_spellings", "prepare_bomb"]

# What a gzip-bombed answer decodes to: ~400 MB of leading whitespace, then the model (still valid JSON).
BOMB_BYTES = 400 * 2**20
# Compressed in pieces of this size, so that the hub never holds the decoded answer.
_CHUNK = 2**20
# The search answer of a hub that echoes keys: a crash page that dumps the request.
DEBUG_PAGE = ApiError(500, "unknown_error", "Internal error; the request is shown under debug")
# The one spelling that is only a way of writing JSON: the member whose value is rendered with "/" escaped as "\/".
_ESCAPED = "authorization_json_escaped"


def key_spellings(authorization: str) -> dict[str, str]:
    r"""The Authorization header as a debug page shows it: as sent, \/-escaped, percent-encoded, as Basic credentials.

    The \/-escaped spelling is the one PHP's json_encode writes by default; its value here is the header as sent, and
    ``echo_key`` escapes it as the body is rendered (decoded, the two are equal; on the wire they differ).
    """
    token = authorization.partition(" ")[2].strip() or authorization
    basic = base64.b64encode(f"{token}:".encode("latin-1", "replace")).decode("ascii")
    return {
        "authorization": authorization,
        _ESCAPED: authorization,
        "authorization_percent_encoded": quote(authorization, safe=""),
        "authorization_basic": f"Basic {basic}",
    }


def _with_debug(value: Any, debug: dict[str, str], *, top: bool) -> Any:
    # The answer itself, and every model or list object inside it, gains the member.
    if isinstance(value, list):
        return [_with_debug(item, debug, top=False) for item in value]
    if not isinstance(value, dict):
        return value
    bent = {key: _with_debug(item, debug, top=False) for key, item in value.items()}
    if top or bent.get("object") in ("model", "list"):
        bent["debug"] = debug
    return bent


def echo_key(reply: Reply, authorization: str | None) -> Reply:
    """``reply`` echoing the request's Authorization header: a header, and a ``debug`` member of a JSON body."""
    if authorization is None:
        return reply
    headers = (*reply.headers, ("X-Debug-Authorization", authorization))
    if reply.raw is not None or not isinstance(reply.payload, dict):
        # Not a JSON object (no body, a page, a bomb): the header alone echoes it.
        return replace(reply, headers=headers)
    body = render(_with_debug(reply.payload, key_spellings(authorization), top=True))
    plain = f'"{_ESCAPED}":'.encode() + render(authorization)
    body = body.replace(plain, plain.replace(b"/", b"\\/"))
    return replace(reply, raw=body, headers=headers)


@lru_cache(maxsize=4)
def _bomb_start(size: int) -> tuple[bytes, Any]:
    """``size`` spaces, gzip-compressed, and the compressor as it stands after them (to be copied, never used)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * _CHUNK
    pieces = [compressor.compress(chunk) for _ in range(size // _CHUNK)]
    pieces.append(compressor.compress(b" " * (size % _CHUNK)))
    return b"".join(pieces), compressor


def prepare_bomb(size: int = BOMB_BYTES) -> None:
    """Compress the bomb's padding now (a second or two), not while a client waits for its first answer."""
    _bomb_start(size)


def gzip_bomb(reply: Reply, size: int = BOMB_BYTES) -> Reply:
    """``reply`` gzip-encoded after ``size`` bytes of leading whitespace: a few hundred KB on the wire for 400 MB."""
    padding, start = _bomb_start(size)
    # Each answer finishes a copy of the compressor: the padding is compressed once, whatever the model.
    finish = start.copy()
    body = padding + finish.compress(reply.body) + finish.flush()
    return replace(reply, raw=body, drip=0.0, headers=(*reply.headers, ("Content-Encoding", "gzip")))


def drip_head(reply: Reply) -> Reply:
    """``reply`` marked for the drip proxy, which sends its status line and headers one byte at a time."""
    return replace(reply, headers=(*reply.headers, (DRIP_HEAD_HEADER, "1")))
