"""What one request and its answer are, leaving out how they were sent: the leaf every other module builds on.

``Exchange`` holds what a failure message needs (operation, method, path, ids, status, body) and which credential was
sent, by name, never the key itself. ``Credential`` gives those names. The one credential mapping is here: ``_HEADERS``
says which Authorization header each credential is (``authorization``) and how a record writes it down (``carried``,
which also reads a header back to its credential), so that the client, the curl lines, the Verifier and the cassettes
cannot disagree. ``curl_line`` writes a request back as a command that reproduces it. Model ids are percent-encoded
as one path segment: they hold ``:`` and may hold ``/`` and ``.``. This module imports nothing from the package.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

__all__ = [
    "DEPLOYED_ID",
    "INVALID_KEY",
    "INVALID_LABEL",
    "LABELS",
    "MODELS",
    "UNKNOWN_LABEL",
    "Carried",
    "Credential",
    "Exchange",
    "Secret",
    "authorization",
    "carried",
    "curl_line",
    "decoded",
    "fine_tune_path",
    "id_problem",
    "model_path",
    "next_answer_id",
    "parse_json",
    "url_path",
]

MODELS = "/api/ai/models"
# Path segments under MODELS that are other routes ([S]'s favorites and featured too): no model can be named by them.
ROUTE_NAMES = frozenset({"search", "favorites", "featured"})
DOT_SEGMENTS = frozenset({".", ".."})
# The characters a model id the run may delete is made of: the documented slugs' (`owner:repo/name-1.2`) and RFC 3986's
# unreserved ones. Anything else ("%", "?", "#", "\\", spaces) can mean another path to a proxy that decodes twice or
# normalises, so an id holding it is never one the run deletes.
_DELETABLE_ID = re.compile(r"[A-Za-z0-9._~:/@+=,-]+")
# The key sent when a test needs a credential the hub must refuse.
INVALID_KEY = "not-a-valid-oxen-key"


class Credential:
    """Which credential a request carried, by name: the run's keys by the variable a curl line reads them from.

    The names are test ids too (``test_errors.py`` is parametrized by them), and so part of cassette file names.
    """

    KEY = "$OXEN_API_KEY"
    OTHER = "$OXEN_API_KEY_OTHER"
    NONE = "none"
    INVALID = "invalid"
    NOT_BEARER = "not-bearer"


# How a record writes what follows the scheme of an Authorization header: a key of the run as its label, the key the
# suite sends to be refused and any other token as a placeholder. These are the spellings the stored cassettes hold,
# and requests replay by them (cassettes.credential_matcher): change one and the cassettes must be re-recorded.
INVALID_LABEL = "<invalid key>"
UNKNOWN_LABEL = "<unknown key>"
LABELS = (Credential.KEY, Credential.OTHER, INVALID_LABEL, UNKNOWN_LABEL)

# The one credential mapping: the Authorization header of each credential the suite sends, as (scheme, the token as
# sent, the token as recorded). A key of the run is sent as its label, which the auth hook (transport.BearerAuth)
# replaces with the key as the request leaves; Credential.NONE sends no header.
_HEADERS: Mapping[str, tuple[str, str, str]] = {
    Credential.KEY: ("Bearer", Credential.KEY, Credential.KEY),
    Credential.OTHER: ("Bearer", Credential.OTHER, Credential.OTHER),
    Credential.INVALID: ("Bearer", INVALID_KEY, INVALID_LABEL),
    Credential.NOT_BEARER: ("Basic", INVALID_KEY, INVALID_LABEL),
}


class Secret(Protocol):
    """A key of the run as this module sees it (``transport.ApiKey``): its label, and a way to hide it in text."""

    @property
    def label(self) -> str: ...

    def redact(self, text: str) -> str: ...


# Where each deploy route's answer names the new model: the fine-tune tutorials' `deployment.model_slug`, [S]'s
# checkpoint answer's `model.id`.
DEPLOYED_ID = {"deployFineTune": ("deployment", "model_slug"), "deployCheckpoint": ("model", "id")}


def fine_tune_path(owner: str, repo: str, fine_tune_id: str) -> str:
    return (
        "/api/repos/"
        + "/".join(quote(part, safe="") for part in (owner, repo))
        + f"/fine_tunes/{quote(fine_tune_id, safe='')}"
    )


def shown_id(model_id: str) -> str:
    """``model_id`` as text can carry it (reports, cassettes, failure text): bytes that are not UTF-8 become U+FFFD.

    Only an odd-id probe has such bytes (kept as surrogates, sent as ``%FF``); a hub that decodes the path reads
    them as U+FFFD too, so an error text naming the id is matched against this form.
    """
    return model_id.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def url_path(url: str) -> str:
    """The path and query of ``url`` as sent (``https://hub/x?y`` -> ``/x?y``), for an Exchange built from a URL."""
    return "/" + url.split("://", 1)[-1].partition("/")[2]


def model_path(model_id: str, action: str | None = None) -> str:
    # surrogateescape: an id may carry bytes that are not UTF-8 (an odd-id probe's "\udcff" is sent as %FF).
    path = f"{MODELS}/{quote(model_id.encode('utf-8', 'surrogateescape'), safe='')}"
    return f"{path}/{action}" if action else path


def id_problem(model_id: object) -> str | None:
    """Why ``model_id`` cannot be the id of a model the run deletes, or None: the one rule, for every caller.

    It must be one path segment once encoded that decodes to itself: made only of the characters a documented slug
    uses (so no ``%`` that a proxy could decode a second time, no ``?`` or ``#``), no dot segment anywhere (a
    normalising proxy would climb out of the model route), and not a route name.
    """
    if not isinstance(model_id, str) or not model_id:
        return "no id"
    if model_id in DOT_SEGMENTS or model_id in ROUTE_NAMES:
        return f"{model_id!r} is not one path segment that names a model"
    if not _DELETABLE_ID.fullmatch(model_id):
        return (
            f"{model_id!r} holds a character outside a model slug's (letters, digits and ._~:/@+=,-): a proxy that "
            "decodes or normalises the path could send its DELETE to another model"
        )
    if any(part in DOT_SEGMENTS for part in model_id.split("/")):
        return f"{model_id!r} holds a dot segment, which a proxy may normalise into another path"
    return None


_ANSWER_IDS = itertools.count(1)


def next_answer_id() -> int:
    return next(_ANSWER_IDS)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its answer."""

    operation: str
    method: str
    url: str
    path: str
    model_id: str | None
    credential: str
    status: int  # 0 when no whole answer came (a timeout, a dropped connection)
    headers: Mapping[str, str]
    text: str
    request_body: str | None = None
    # Which answer this is: the Verifier counts an answer once, however many checks (and Exchange views) it gets.
    answer_id: int = field(default_factory=lambda: next(_ANSWER_IDS), compare=False)
    # Why the body's bytes are no JSON text whatever they hold (not UTF-8, RFC 8259 8.1); "" when they decode.
    body_problem: str = ""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        """The body as JSON; ``ValueError`` when it is not (not UTF-8, NaN or Infinity, nested past the parser)."""
        if self.body_problem:
            raise ValueError(self.body_problem)
        return parse_json(self.text)

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 has no NaN or Infinity)")


def parse_json(text: str) -> Any:
    """``text`` as JSON, strictly: ``ValueError`` for anything RFC 8259 does not allow, or too deep to parse."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("nested too deeply to parse") from None


def decoded(content: bytes) -> tuple[str, str]:
    """An answer's body as text, and why it is no JSON text ("" if it is UTF-8): the two every Exchange carries."""
    try:
        return content.decode("utf-8"), ""
    except UnicodeDecodeError as error:
        return content.decode("utf-8", "replace"), f"not UTF-8 (byte {error.start}), which JSON text must be"


def authorization(credential: str) -> str | None:
    """The Authorization header ``credential`` stands for, keys written as their labels; None for no header."""
    if credential not in _HEADERS:
        return None
    scheme, token, _ = _HEADERS[credential]
    return f"{scheme} {token}"


@dataclass(frozen=True, slots=True)
class Carried:
    """What an Authorization header carried: the credential by name, and the header as a record may keep it."""

    credential: str
    recorded: str | None


def _recorded_token(token: str, keys: Iterable[Secret]) -> str:
    if token in LABELS:
        return token  # already written down: vcrpy runs its hooks again on every request it loads from a cassette
    for key in keys:
        if key.redact(token) == key.label:  # the token is this key, whole
            return key.label
    return INVALID_LABEL if token == INVALID_KEY else UNKNOWN_LABEL


def carried(header: str | None, keys: Iterable[Secret] = ()) -> Carried:
    """Read an Authorization header back through ``_HEADERS``: which credential it is, and how a record writes it.

    ``keys`` are the run's keys, known by their value. The scheme is kept as sent; the token becomes a label. A header
    the suite does not send itself (a fuzzed one, a key under another scheme) is named for the credential it is
    closest to, invalid under Bearer and not-bearer otherwise, so that its curl line still sends a refused credential.
    """
    if not header:
        return Carried(Credential.NONE, None)
    scheme, _, token = header.partition(" ")
    for key in keys:
        scheme = key.redact(scheme)  # a key sent with no scheme before it stays out of the record too
    label = _recorded_token(token, keys)
    for credential, (sent_scheme, _, recorded) in _HEADERS.items():
        if (scheme, label) == (sent_scheme, recorded):
            return Carried(credential, f"{scheme} {label}")
    closest = Credential.INVALID if header.startswith("Bearer ") else Credential.NOT_BEARER
    return Carried(closest, f"{scheme} {label}")


def curl_line(method: str, url: str, credential: str, body: str | None = None) -> str:
    """A curl command that sends the request again; a key appears only as its variable, which the shell expands."""
    parts = ["curl", "-X", method, shlex.quote(url)]
    header = authorization(credential)
    if header is not None:
        keyed = credential in (Credential.KEY, Credential.OTHER)  # the token is a shell variable
        # Double quotes so that the shell expands the variable; the key itself is never written.
        parts += ["-H", f'"Authorization: {header}"' if keyed else shlex.quote(f"Authorization: {header}")]
    if body is not None:
        parts += ["-H", "'Content-Type: application/json'", "--data", shlex.quote(body)]
    return " ".join(parts)
