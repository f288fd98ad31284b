"""How a run ends: the text of a failed test, "hub unavailable" told apart from a broken contract, the report's header.

The plugin's hooks call these; keeping the logic here leaves ``plugin.py`` to wiring.
"""

from __future__ import annotations

import datetime
import platform
import time
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .config import Mode, RunConfig

__all__ = ["chain", "failure_text", "outage_reason", "report_meta", "verdict"]

_YAML_ERRORS = {"YAMLError", "ScannerError", "ParserError", "ComposerError", "ConstructorError"}


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


def failure_text(nodeid: str, error: BaseException, run: RunConfig) -> str | None:
    """What a failed test should show instead of a traceback, or None to keep pytest's own text."""
    from .cassettes import corrupt_message, out_of_date_message
    from .client import HubTimeout
    from .failures import ContractFailure

    text = str(error)
    kinds = {type(e).__name__ for e in chain(error)}
    if "CannotOverwriteExistingCassetteException" in kinds or "Can't overwrite existing cassette" in text:
        return out_of_date_message(run.cassette_dir, text)
    if kinds & _YAML_ERRORS:
        return corrupt_message(str(run.cassette_dir), text)
    # The failure text is the product: show it whole, without Hypothesis notes or our own frames.
    found = [e for e in chain(error) if isinstance(e, (ContractFailure, HubTimeout))]
    if not found:
        return None
    return f"{nodeid}\n\n" + "\n\n".join(dict.fromkeys(str(e) for e in found))


def outage_reason(error: BaseException, probe: Callable[[], str | None] | None) -> str | None:
    """Why the hub is unavailable, judging by the failure and, if given, a fresh health probe; None if it answers."""
    from .client import HubUnavailable

    reason = next((str(e) for e in chain(error) if isinstance(e, HubUnavailable)), None)
    if reason is None and probe is not None:
        reason = probe()
    return reason


def verdict(unavailable: str | None, failed: int) -> str:
    if unavailable:
        return f"hub unavailable: {unavailable}"
    return "contract violations" if failed else "passed"


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
