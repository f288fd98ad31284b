"""One row of the matrix by its name, whatever its kind: what the CLI and the pytest rows call.

A verdict case (``verdicts.py``) runs through ``verdict_runs.py``; a hub of the catalog, or ``no-fault``, through
``runner.py``, which the verdict runs build on (so the choice is made here, above both).
"""

from __future__ import annotations

from pathlib import Path

from ..settings.argparsing import find_checkout
from .launchers import Launcher
from .rows import Outcome
from .runner import launcher_for, run_case
from .verdict_runs import run_verdict_case
from .verdicts import VERDICT_CASES_BY_NAME

__all__ = ["run_row"]


def run_row(
    name: str,
    *,
    schemathesis: bool = True,
    root: Path | None = None,
    launcher: Launcher | None = None,
    first_failure: bool = False,
) -> Outcome:
    """The row ``name``: a verdict case, a fault, benign variant or hostile hub of the catalog, or ``no-fault``.

    ``schemathesis``: run plain schemathesis beside the suite, where the row's kind has it (never for a verdict case).
    ``first_failure``: a fault's runs stop at their first failing test (``runner.run_case``); a verdict case always
    runs whole, its verdict is the point.
    """
    root = root or find_checkout()
    launcher = launcher or launcher_for(root)
    if name in VERDICT_CASES_BY_NAME:
        return run_verdict_case(VERDICT_CASES_BY_NAME[name], root, launcher)
    return run_case(name, schemathesis=schemathesis, root=root, launcher=launcher, first_failure=first_failure)
