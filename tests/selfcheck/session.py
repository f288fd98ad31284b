"""The fault matrix's session hooks: its rows run only with OXEN_SELFCHECK=1, and then the mutation report is written.

Made hooks by ``tests/conftest.py``, not by ``tests/selfcheck/conftest.py``: under xdist the controller, which clears
the last outcomes and writes the report, loads only the conftests its command line reaches, and `tox` runs the matrix
in a session started as ``pytest`` (its ``testpaths``), which does not reach ``tests/selfcheck/conftest.py``.

Rows run the longest first (by the last report's seconds, see ``oxen_contract.selfcheck.schedule``), and the fast
tests after them, so that what is left at the end is short; each worker forks its runs from fork servers it ends when
the session does.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from oxen_contract.selfcheck.launchers import switched_on

ENABLED = os.environ.get("OXEN_SELFCHECK") == "1"
# Plain schemathesis runs beside the suite only for the report's comparison column, and asserts nothing: about half the
# matrix's CPU. `tox` (its check env, which CI runs) sets OXEN_SELFCHECK_SCHEMATHESIS=0; `tox -e selfcheck` keeps it.
PLAIN_SCHEMATHESIS = switched_on("OXEN_SELFCHECK_SCHEMATHESIS")
# A fault's suite run stops at its first failing test (-x) only where asked: `tox` (its check env, which CI runs) sets
# OXEN_SELFCHECK_FIRST_FAILURE=1 to stay within CI's minutes; `tox -e selfcheck` runs every fault's suite whole, so its
# report's "caught by" names every test that caught it.
FIRST_FAILURE = os.environ.get("OXEN_SELFCHECK_FIRST_FAILURE") == "1"
SKIP_REASON = "the fault matrix takes minutes: OXEN_SELFCHECK=1 pytest tests/selfcheck -n 2 (or tox -e selfcheck)"


def outcomes_folder(config: pytest.Config) -> Path:
    return Path(str(config.rootpath), "reports", "selfcheck-outcomes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "selfcheck: a fault-matrix row (a hub, a suite run); needs OXEN_SELFCHECK=1")
    if ENABLED and not hasattr(config, "workerinput"):
        shutil.rmtree(outcomes_folder(config), ignore_errors=True)


def _row_name(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    names = [value for value in callspec.params.values() if isinstance(value, str)] if callspec else []
    return names[0] if names else "no-fault"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rows = [item for item in items if item.get_closest_marker("selfcheck")]
    if not ENABLED:
        for item in rows:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))
        return
    from oxen_contract.selfcheck.schedule import longest_first, previous_seconds

    # Every xdist worker collects the same order: the report is rewritten only once the session is over. The fast
    # tests come last, where they fill the gaps the last rows leave.
    by_name = {_row_name(item): item for item in rows}
    order = longest_first(list(by_name), previous_seconds(outcomes_folder(config).parent / "selfcheck.json"))
    others = [item for item in items if not item.get_closest_marker("selfcheck")]
    items[:] = [*(by_name[name] for name in order), *others]


def pytest_unconfigure(config: pytest.Config) -> None:
    if ENABLED:
        from oxen_contract.selfcheck.launchers import close_default_launchers

        close_default_launchers()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    directory = outcomes_folder(config)
    if not ENABLED or hasattr(config, "workerinput") or not directory.is_dir():
        return
    from oxen_contract.selfcheck.report import write_report
    from oxen_contract.selfcheck.rows import load_outcomes, row_names

    outcomes = load_outcomes(directory, ["no-fault", *row_names()])
    text = write_report(outcomes, directory.parent / "selfcheck.md", command="OXEN_SELFCHECK=1 pytest tests/selfcheck")
    terminalreporter.write_sep("=", "mutation report (reports/selfcheck.md)")
    terminalreporter.write(text)
