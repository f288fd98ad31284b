"""The one base of every error the suite raises on purpose, the errors that stop a run, and findings as data.

A caller can tell "the suite said so" from a bug in it: every exception the suite raises on purpose derives from
``OxenContractError``, wherever it is defined (each beside the code that raises it; this module imports nothing of the
package, so that any module may). Those that are also ``AssertionError`` fail a test as pytest expects; the rest stop
the run or are handled where they are raised. A failure carries findings, never prose: ``text.render_failure`` writes
its text. The local hub, a program of its own, keeps its own errors.

OxenContractError
 ├── ContractFailure          also an AssertionError (contract_failure.py): one answer broke one or more clauses
 │    └── HubTimeout          no whole answer within --request-timeout (or one too large): rule:answers-in-time
 ├── SdkMismatch              also an AssertionError (openai_compat.py): the answer does not fit the OpenAI SDK's type
 ├── KnownIncompatibility     also an AssertionError (openai_compat.py): it does not fit only in documented ways
 ├── SetupError               also a RuntimeError: the run cannot check the contract as configured (exit status 78)
 │    └── ProvisioningError   the run could not make a disposable model
 │         └── ProvisionsExhausted   --max-provisions is spent and no --disposable-model is left to give
 ├── HubUnavailable           also a RuntimeError (retries.py): the hub cannot be reached, or keeps answering 429
 │    └── RunStopped          a background read after the run was interrupted: not sent (retries.py)
 ├── UnsafeRequest            also a RuntimeError (guard.py): a request the suite must never send; it was not sent
 ├── ContractNotFound         also a RuntimeError (contracts.py): no contract files in the wheel or beside src/
 ├── DeadlineExceeded         the whole exchange took longer than --request-timeout (deadline.py)
 ├── AnswerTooLarge           the answer's body passed the size cap, once decoded (transport.py)
 ├── CassetteUnreadable       a cassette that exists but cannot be replayed (cassette_damage.py)
 ├── LedgerBusy               another run holds the ledger of deploys (ledger.py)
 ├── LedgerUnusable           the ledger's path cannot hold a ledger (ledger.py)
 └── BaselineError            an earlier contract report that cannot be read (baseline.py)

The transports' errors (httpx's, requests', the OpenAI SDK's through its transport) become ``HubTimeout`` or
``HubUnavailable`` in one place, ``transport.translated_errors``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "Finding",
    "OxenContractError",
    "ProvisioningError",
    "ProvisionsExhausted",
    "SetupError",
    "chain",
]


@dataclass(frozen=True, slots=True)
class Finding:
    """One clause an answer broke: its id (``file#/pointer`` or ``rule:...``), where in the body, expected vs actual."""

    clause: str
    expected: str
    actual: str
    at: str = ""


class OxenContractError(Exception):
    """The base of every exception the suite raises on purpose."""


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
