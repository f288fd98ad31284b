"""How a failed test is sorted: contract, outage, rate-limited route, setup, or the suite's own fault; and its text.

The verdict depends on telling these apart, and each is told from what the test raised, with at most one health probe
of the hub (``triage``): a route that drops its connection or keeps answering 429 while the hub answers its probe is
that route's problem, not an outage; a gateway error or a timeout while the hub does not answer is an outage, not a
broken contract. Expected conditions (outage, setup, a rate-limited route) show one line, not a traceback; a failure
of a clause shows the failure text; an exception no rule explains keeps its traceback, since it is a bug of the suite.
The report's header (``report_meta``) lives here too: what ran, against what, with which versions.
"""

from __future__ import annotations

import datetime
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from ..checking.failures import chain
from ..checking.text import first_line
from ..settings.config import Mode, RunConfig

if TYPE_CHECKING:
    from ..checking.tally import Tally

__all__ = ["Triage", "failure_text", "report_meta", "tally_timeouts", "triage"]

# The answers of a hub that is down (or of the gateway before it): worth a probe before calling them a violation.
_AVAILABILITY_STATUSES = (0, 502, 503, 504)


@dataclass(frozen=True, slots=True)
class Triage:
    """What kind of failure a test had, in one line, and what the test's report shows instead of a traceback."""

    # "contract", "outage", "rate-limited", "setup" or "suite"
    kind: str
    detail: str
    # The test's report text; None keeps pytest's own (a traceback, for the suite's own faults).
    text: str | None = None
    # The hub is down: stop the session, the remaining tests would only say so again.
    stop: bool = False


def failure_text(nodeid: str, error: BaseException) -> str | None:
    """The text of the clauses ``error`` broke, without Hypothesis notes or our frames; None if it broke none."""
    from ..checking.contract_failure import ContractFailure

    found = [e for e in chain(error) if isinstance(e, ContractFailure)]
    if not found:
        return None
    return f"{nodeid}\n\n" + "\n\n".join(dict.fromkeys(str(e) for e in found))


def _expected(nodeid: str, kind: str, detail: str, *, stop: bool = False) -> Triage:
    words = {"outage": "HUB UNAVAILABLE", "rate-limited": "RATE-LIMITED", "setup": "SETUP ERROR"}[kind]
    return Triage(kind, detail, f"{nodeid}\n\n{words}: {detail}", stop)


def triage(
    error: BaseException, nodeid: str, run: RunConfig, tally: Tally | None, probe: Callable[[], str | None] | None
) -> Triage:
    """Sort what a failed test raised; ``probe`` (live runs) says why the hub is unavailable, or None if it answers.

    ``probe`` is called at most once.
    """
    from ..checking.contract_failure import ContractFailure
    from ..checking.failures import SetupError
    from ..http.guard import UnsafeRequest
    from ..http.retries import HubUnavailable
    from ..recording.cassette_damage import cassette_problem

    problem = cassette_problem(error, nodeid, run.cassette_dir)
    if problem is not None:
        return Triage("setup", problem.splitlines()[0], f"{nodeid}\n\n{problem}")
    found = list(chain(error))
    unavailable = next((e for e in found if isinstance(e, HubUnavailable)), None)
    if unavailable is not None:
        return _unavailable(unavailable, nodeid, tally, probe if run.live else None)
    setup = next((e for e in found if isinstance(e, SetupError)), None)
    if setup is not None:
        return _expected(nodeid, "setup", first_line(setup))
    failure = next((e for e in found if isinstance(e, ContractFailure)), None)
    if failure is not None:
        if run.live and probe is not None and failure.exchange.status in _AVAILABILITY_STATUSES:
            reason = probe()
            if reason:
                return _expected(nodeid, "outage", reason, stop=True)
        return Triage("contract", first_line(failure), failure_text(nodeid, error))
    import pytest

    # A plain assertion of a suite test, pytest.fail, or a request the guard refused to send (a hub's lure): each
    # is about what the hub answered.
    judged = (AssertionError, pytest.fail.Exception, UnsafeRequest)
    checked = next((e for e in found if isinstance(e, judged)), None)
    if checked is not None:
        return Triage("contract", first_line(checked))
    return Triage("suite", f"{nodeid}: {type(error).__name__}: {first_line(error)}")


def _unavailable(error: Any, nodeid: str, tally: Tally | None, probe: Callable[[], str | None] | None) -> Triage:
    """A request that got no usable answer: an outage, unless the hub answers its probe meanwhile."""
    reason = probe() if probe is not None else first_line(error)
    if reason:
        return _expected(nodeid, "outage", reason, stop=True)
    if error.rate_limited:
        # The route, not the request: one line per route however many queries it was asked.
        return _expected(nodeid, "rate-limited", error.rate_limited.partition("?")[0])
    text = dropped_route(error, tally) if tally is not None else None
    if text is not None:
        return Triage("contract", text.splitlines()[0], f"{nodeid}\n\n{text}")
    return _expected(nodeid, "outage", first_line(error), stop=True)


def dropped_route(error: Any, tally: Tally) -> str | None:
    """The failure text for a route that dropped its connection while the hub answers its probe; counted, too."""
    from ..checking.exchange import Exchange, url_path
    from ..checking.failures import Finding
    from ..checking.text import render_failure

    if error.request is None:
        return None
    operation, method, url, credential = error.request
    exchange = Exchange(operation, method, url, url_path(url), None, credential, 0, {}, "")
    finding = Finding(
        "rule:no-server-error",
        "an answer (the hub answers its health probe meanwhile)",
        f"the connection was dropped: {first_line(error)}",
    )
    tally.failed(exchange, finding.clause, finding.expected, finding.actual, "")
    return render_failure(exchange, [finding])


def tally_timeouts(error: BaseException, tally: Tally) -> None:
    """Count a timeout against rule:answers-in-time: it is raised by the transport, not through Verifier.fail."""
    from ..checking.contract_failure import HubTimeout

    for timeout in (e for e in chain(error) if isinstance(e, HubTimeout)):
        for finding in timeout.findings:
            tally.failed(timeout.exchange, finding.clause, finding.expected, finding.actual, finding.at)


def _versions() -> str:
    found = []
    for package in ("oxen-contract", "schemathesis", "hypothesis", "pytest"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            continue
    return ", ".join([*found, f"python {platform.python_version()}"])


def report_meta(run: RunConfig, started: float, outcome: str, exit_status: int) -> dict[str, Any]:
    """The header of --contract-report: what ran, against which hub (never a key), how long, with what."""
    return {
        "outcome": outcome,
        "mode": run.mode,
        "hub": run.hub_url if run.mode != Mode.REPLAY else f"cassettes {run.cassette_dir}",
        "variant": "strict" if run.strict_contract else "default",
        "started": datetime.datetime.fromtimestamp(started, datetime.UTC).isoformat(),
        "duration_s": round(time.time() - started, 2),
        "versions": _versions(),
        "exit_status": exit_status,
    }
