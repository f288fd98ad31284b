"""What goes wrong in a run, as data: a failure carries findings, never prose; ``text.render_failure`` writes the text.

Every exception the suite raises on purpose derives from one base, so that a caller can tell "the suite said so"
from a bug in it. Those that are also ``AssertionError`` fail a test as pytest expects; the rest stop the run.

OxenContractError
 ├── ContractFailure          also an AssertionError: one answer broke one or more clauses (findings)
 │    └── HubTimeout          no whole answer within --request-timeout (or one too large): rule:answers-in-time
 └── SetupError               also a RuntimeError: the run cannot check the contract as configured (exit status 78)
      └── ProvisioningError   the run could not make a disposable model
           └── ProvisionsExhausted   --max-provisions is spent and no --disposable-model is left to give
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .exchange import Exchange
from .text import render_failure

__all__ = [
    "ContractFailure",
    "Finding",
    "HubTimeout",
    "OxenContractError",
    "ProvisioningError",
    "ProvisionsExhausted",
    "SetupError",
    "chain",
]

ANSWERS_IN_TIME = "rule:answers-in-time"


@dataclass(frozen=True, slots=True)
class Finding:
    """One clause an answer broke: its id (``file#/pointer`` or ``rule:...``), where in the body, expected vs actual."""

    clause: str
    expected: str
    actual: str
    at: str = ""


class OxenContractError(Exception):
    """The base of every exception the suite raises on purpose."""


class ContractFailure(OxenContractError, AssertionError):
    """An answer broke the contract; ``str()`` is the full failure text."""

    def __init__(self, exchange: Exchange, findings: Sequence[Finding], note: str = "") -> None:
        self.exchange = exchange
        self.findings = tuple(findings)
        super().__init__(render_failure(exchange, self.findings, note))


class HubTimeout(ContractFailure):
    """A request got no whole answer within --request-timeout (or one too large): a failure of that operation.

    The exchange has status 0, no headers and no body: nothing whole came back.
    """

    def __init__(
        self,
        operation: str,
        method: str,
        url: str,
        model_id: str | None,
        credential: str,
        timeout: float,
        reason: str = "",
    ) -> None:
        self.operation, self.method, self.url, self.model_id = operation, method, url, model_id
        self.credential, self.timeout = credential, timeout
        self.reason = reason or f"got no answer within {timeout:g} s (--request-timeout)"
        path = "/" + url.split("://", 1)[-1].partition("/")[2]
        exchange = Exchange(operation, method, url, path, model_id, credential, status=0, headers={}, text="")
        super().__init__(exchange, [Finding(ANSWERS_IN_TIME, f"a whole answer within {timeout:g} s", self.reason)])


class SetupError(OxenContractError, RuntimeError):
    """The run cannot check the contract as configured (a key the hub refuses, a fine-tune that cannot be deployed)."""


class ProvisioningError(SetupError):
    """No disposable model could be made; says what was asked and what came back."""


class ProvisionsExhausted(ProvisioningError):
    """The run may not deploy another model (--max-provisions) and was given none to spare."""


def chain(error: BaseException) -> Iterator[BaseException]:
    """``error``, its causes and contexts, and the members of exception groups, each once."""
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        stack.extend(getattr(current, "exceptions", ()))
