"""How a run ends: the text of a failed test, "hub unavailable" told apart from a broken contract, the report's header.

The plugin's hooks call these; keeping the logic here leaves ``plugin.py`` to wiring.
"""

from __future__ import annotations

import datetime
import platform
import time
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from .config import Mode, RunConfig
from .failures import chain

if TYPE_CHECKING:
    from .tally import Tally

__all__ = ["chain", "classify", "failure_text", "report_meta", "tally_timeouts"]


def failure_text(nodeid: str, error: BaseException, run: RunConfig) -> str | None:
    """What a failed test should show instead of a traceback, or None to keep pytest's own text."""
    from .cassette_damage import cassette_problem
    from .client import HubTimeout
    from .failures import ContractFailure

    problem = cassette_problem(error, nodeid, run.cassette_dir)
    if problem is not None:
        return problem
    # The failure text is the product: show it whole, without Hypothesis notes or our own frames.
    found = [e for e in chain(error) if isinstance(e, (ContractFailure, HubTimeout))]
    if not found:
        return None
    return f"{nodeid}\n\n" + "\n\n".join(dict.fromkeys(str(e) for e in found))


def classify(error: BaseException, nodeid: str, run: RunConfig) -> tuple[str, str]:
    """What kind of failure ``error`` is, and a one-line detail: outage, setup, contract or other.

    A cassette that cannot be replayed (damaged, or without the request) is a setup error: the contract went unchecked.
    """
    from .cassette_damage import cassette_problem
    from .client import HubTimeout, HubUnavailable
    from .failures import ContractFailure, SetupError

    problem = cassette_problem(error, nodeid, run.cassette_dir)
    if problem is not None:
        return "setup", problem.splitlines()[0]

    found = list(chain(error))
    for kind, types in (
        ("outage", HubUnavailable),
        ("setup", SetupError),
        ("contract", (ContractFailure, HubTimeout)),
    ):
        match = next((e for e in found if isinstance(e, types)), None)
        if match is not None:
            return kind, _first_line(match)
    return "other", _first_line(error)


def dropped_route(error: BaseException, tally: Tally) -> str | None:
    """The failure text for a route that dropped its connection while the hub answers its probe; counted, too."""
    from .client import Exchange, HubUnavailable
    from .failures import Finding
    from .text import render_failure

    dropped = next((e for e in chain(error) if isinstance(e, HubUnavailable) and e.request), None)
    if dropped is None or dropped.request is None:
        return None
    operation, method, url, credential = dropped.request
    path = "/" + url.split("://", 1)[-1].partition("/")[2]
    exchange = Exchange(operation, method, url, path, None, credential, 0, {}, "")
    finding = Finding(
        "rule:no-server-error",
        "an answer (the hub answers its health probe meanwhile)",
        f"the connection was dropped: {_first_line(dropped)}",
    )
    tally.failed(exchange, finding.clause, finding.expected, finding.actual, "")
    return render_failure(exchange, [finding])


def tally_timeouts(error: BaseException, tally: Tally) -> None:
    """Count a timeout against rule:answers-in-time: it is raised by the transport, not through Verifier.fail."""
    from .failures import HubTimeout

    for timeout in (e for e in chain(error) if isinstance(e, HubTimeout)):
        for finding in timeout.findings:
            tally.failed(timeout.exchange, finding.clause, finding.expected, finding.actual, finding.at)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


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
