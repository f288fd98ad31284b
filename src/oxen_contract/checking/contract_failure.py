"""An answer that broke the contract, as the exception its test fails with; its text is ``text.render_failure``'s.

Apart from ``failures.py``, whose base it derives from, so that the base's module imports nothing: rendering reads the
rule words of the contract (``contracts.py``), which can itself fail with one of the suite's errors.
"""

from __future__ import annotations

from collections.abc import Sequence

from .exchange import Exchange, url_path
from .failures import Finding, OxenContractError
from .text import render_failure

__all__ = ["ANSWERS_IN_TIME", "ContractFailure", "HubTimeout"]

ANSWERS_IN_TIME = "rule:answers-in-time"


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
        exchange = Exchange(operation, method, url, url_path(url), model_id, credential, status=0, headers={}, text="")
        super().__init__(exchange, [Finding(ANSWERS_IN_TIME, f"a whole answer within {timeout:g} s", self.reason)])
