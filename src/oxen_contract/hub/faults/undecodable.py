"""Answers that look like JSON but that no strict parser reads: nested past any parser's depth, a NaN, bytes not UTF-8.

RFC 8259 lets a parser limit nesting, has no NaN, and makes JSON text UTF-8; Python's ``json`` module raises
``RecursionError`` on the first, takes the second as a float (which a schema's ``number`` accepts) and the third only
once it is decoded. Each fault bends one operation's successful answer (as ``delete-body-not-json`` bends the delete
answer's) so that the self-check proves the suite names ``rule:body-is-json`` for each instead of crashing on the
parser's error or passing the answer.
"""

from __future__ import annotations

import json
from dataclasses import replace

from ..records import Reply, render
from ._base import Fault

# Deeper than any recursive parser goes (Python's stops near 1,000) and still small: 200 KB of brackets.
NESTING = 100_000
# Stands where the deep value goes, in a rendering that has no other use for it.
_DEEP = "x-local-hub-deep-value"
# A documented number, which a float NaN would satisfy: only a strict parser tells that the answer is not JSON.
_NAN_FIELD = "cost_per_second"
# "Modèle" with its è in Latin-1 (0xE8), as a hub that encodes its text wrongly sends it.
_LATIN1 = b"Mod\xe8le"
_MARK = "x-local-hub-latin-1"


def _nested(reply: Reply) -> Reply:
    if not isinstance(reply.payload, dict):
        return reply
    text = render({**reply.payload, "facets": _DEEP}).decode("ascii")
    deep = "[" * NESTING + "]" * NESTING
    return replace(reply, raw=text.replace(json.dumps(_DEEP), deep, 1).encode("ascii"))


def _nan(reply: Reply) -> Reply:
    model = reply.payload
    if not isinstance(model, dict) or not isinstance(model.get("pricing"), dict):
        return reply
    bent = {**model, "pricing": {**model["pricing"], _NAN_FIELD: float("nan")}}
    return replace(reply, raw=json.dumps(bent, sort_keys=True, separators=(",", ":"), allow_nan=True).encode("ascii"))


def _not_utf8(reply: Reply) -> Reply:
    if not isinstance(reply.payload, dict):
        return reply
    return replace(reply, raw=render({**reply.payload, "description": _MARK}).replace(_MARK.encode(), _LATIN1))


UNDECODABLE: tuple[Fault, ...] = (
    Fault(
        "search-body-nested-too-deep",
        "the search answer's body is JSON a parser reads (RFC 8259 lets parsers limit nesting)",
        f"search answers carry a member nested {NESTING:,} arrays deep",
        ops=frozenset({"search"}),
        reply=_nested,
    ),
    Fault(
        "activate-body-holds-nan",
        "the activate answer's body is JSON (RFC 8259 has no NaN)",
        f"the activate answer says pricing.{_NAN_FIELD} NaN",
        ops=frozenset({"activate"}),
        reply=_nan,
    ),
    Fault(
        "deactivate-body-not-utf8",
        "the deactivate answer's body is JSON, which is UTF-8 (RFC 8259 8.1)",
        "the deactivate answer's description is Latin-1 bytes",
        ops=frozenset({"deactivate"}),
        reply=_not_utf8,
    ),
)
