"""What one request and its answer are, leaving out how they were sent: the leaf every other module builds on.

``Exchange`` holds what a failure message needs (operation, method, path, ids, status, body) and which credential was
sent, by label, never the key itself. ``Credential`` names those labels and ``authorization`` maps each to the header
it stands for (the run's keys as their ``$OXEN_API_KEY`` labels); ``curl_line`` writes the request back as a command
that reproduces it. Model ids are percent-encoded as one path segment: they hold ``:`` and may hold ``/`` and ``.``.
This module imports nothing from the package.
"""

from __future__ import annotations

import itertools
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = [
    "INVALID_KEY",
    "MODELS",
    "Credential",
    "Exchange",
    "authorization",
    "curl_line",
    "fine_tune_path",
    "model_path",
    "next_answer_id",
]

MODELS = "/api/ai/models"
# The key sent when a test needs a credential the hub must refuse.
INVALID_KEY = "not-a-valid-oxen-key"


class Credential:
    """Which credential a request carried, by the name a reader can use in a curl line."""

    KEY = "$OXEN_API_KEY"
    OTHER = "$OXEN_API_KEY_OTHER"
    NONE = "none"
    INVALID = "invalid"
    NOT_BEARER = "not-bearer"


def fine_tune_path(owner: str, repo: str, fine_tune_id: str) -> str:
    return (
        "/api/repos/"
        + "/".join(quote(part, safe="") for part in (owner, repo))
        + f"/fine_tunes/{quote(fine_tune_id, safe='')}"
    )


def model_path(model_id: str, action: str | None = None) -> str:
    path = f"{MODELS}/{quote(model_id, safe='')}"
    return f"{path}/{action}" if action else path


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
    status: int
    headers: Mapping[str, str]
    text: str
    request_body: str | None = None
    # Which answer this is: the Verifier counts an answer once, however many checks (and Exchange views) it gets.
    answer_id: int = field(default_factory=lambda: next(_ANSWER_IDS), compare=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        """The body as JSON; raises ``ValueError`` when it is not JSON."""
        return json.loads(self.text)

    def json_or_none(self) -> Any:
        try:
            return self.json()
        except ValueError:
            return None


def authorization(credential: str) -> str | None:
    """The Authorization header ``credential`` stands for, keys written as their labels; None for no header."""
    if credential in (Credential.KEY, Credential.OTHER):
        return f"Bearer {credential}"
    if credential == Credential.INVALID:
        return f"Bearer {INVALID_KEY}"
    if credential == Credential.NOT_BEARER:
        return f"Basic {INVALID_KEY}"
    return None


def curl_line(method: str, url: str, credential: str, body: str | None = None) -> str:
    """A curl command that sends the request again; a key appears only as its variable, which the shell expands."""
    parts = ["curl", "-X", method, shlex.quote(url)]
    header = authorization(credential)
    if header is not None:
        keyed = credential in (Credential.KEY, Credential.OTHER)
        # Double quotes so that the shell expands the variable; the key itself is never written.
        parts += ["-H", f'"Authorization: {header}"' if keyed else shlex.quote(f"Authorization: {header}")]
    if body is not None:
        parts += ["-H", "'Content-Type: application/json'", "--data", shlex.quote(body)]
    return " ".join(parts)
