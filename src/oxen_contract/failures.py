"""What a contract failure carries: data, not prose; ``report`` turns it into the text a release manager reads.

AssertionError
 └── ContractFailure        one answer broke one or more clauses (findings)
SetupError                  the run cannot check the contract as configured (exit status 78, not 1)
 └── ProvisioningError      the run could not make a disposable model
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .exchange import Exchange
from .text import render_failure

__all__ = ["ContractFailure", "Finding", "ProvisioningError", "SetupError", "chain"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One clause an answer broke: its id (``file#/pointer`` or ``rule:...``), where in the body, expected vs actual."""

    clause: str
    expected: str
    actual: str
    at: str = ""


class ContractFailure(AssertionError):
    """An answer broke the contract; ``str()`` is the full failure text."""

    def __init__(self, exchange: Exchange, findings: Sequence[Finding], note: str = "") -> None:
        self.exchange = exchange
        self.findings = tuple(findings)
        super().__init__(render_failure(exchange, self.findings, note))


class SetupError(RuntimeError):
    """The run cannot check the contract as configured (a key the hub refuses, a fine-tune that cannot be deployed)."""


class ProvisioningError(SetupError):
    """No disposable model could be made; says what was asked and what came back."""


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
