"""The pytest plugin (entry point ``pytest11``): its hooks, and nothing else.

Modes: replay (default; cassettes, no network, no key), live (``--hub-url``), record (``--record-mode``), and local
(``--local-hub``: the local reference hub on a free loopback port). Options are ``options.py``'s, settings resolve in
``config.py``, the session is set up in ``activation.py``, fixtures are ``fixtures.py``'s and the verdict is given in
``run_recorder.py``. Installed, the plugin loads into every pytest session of the environment: it changes nothing in one
that does not run the contract suite.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from .run.activation import activate_suite
from .run.fixtures import *  # noqa: F403 - pytest finds a plugin's fixtures among its module's names
from .run.run_recorder import RunRecorder, finish, judge_report
from .run.stash_keys import (
    DEFERRED_USAGE_ERROR,
    GENERATION_THAWED,
    LEDGER_HELD,
    RUN_CONFIG,
    RUN_RECORDER,
    SESSION_LOG,
    SESSION_NOTES,
    SIGNALS_RESTORED,
    STARTED,
    SUITE_ACTIVE,
    SUITE_REQUESTED,
    VERDICT,
    WORKER_TALLIES,
)
from .settings.config import WORKER_SEED, Mode, draws_label, mode_label, resolve
from .settings.options import MARKERS, SUITE_OPTIONS, add_options


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    config.stash[SESSION_NOTES] = []
    config.stash[STARTED] = time.time()
    config.stash[WORKER_TALLIES] = []
    recorder = RunRecorder(config)
    config.stash[RUN_RECORDER] = recorder
    config.pluginmanager.register(recorder, "oxen-contract-recorder")
    # Installed, the plugin loads into every pytest session of the environment: until the contract suite is asked
    # for (one of its options on the command line) or collected, it changes nothing, and an OXEN_* variable left in
    # the environment is no usage error for somebody else's project.
    explicit = any(config.getoption(name, default=None) not in (None, False, [], "") for name in SUITE_OPTIONS)
    try:
        run = resolve(config, rootdir=Path(str(config.rootpath)))
    except pytest.UsageError as error:
        if explicit or SUITE_REQUESTED in config.stash:
            raise
        config.stash[DEFERRED_USAGE_ERROR] = error
        return
    config.stash[RUN_CONFIG] = run
    if explicit or SUITE_REQUESTED in config.stash:
        activate_suite(config)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if any(item.get_closest_marker("contract") is not None for item in items):
        activate_suite(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(RUN_CONFIG, None)
    xmlpath = getattr(config.option, "xmlpath", None)
    if run is not None and run.hub_label and run.live and run.hub_url and xmlpath:
        # The JUnit XML is published (an artifact, check annotations): with --hub-label it names no hub URL either.
        from .reporting.report import scrub_hub_url

        scrub_hub_url(Path(xmlpath), run.hub_url)
    ledger = config.stash.get(LEDGER_HELD, None)
    if ledger is not None:
        ledger.release()
    restore = config.stash.get(SIGNALS_RESTORED, None)
    if restore is not None:
        restore()
    thaw = config.stash.get(GENERATION_THAWED, None)
    if thaw is not None:
        thaw()


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    from .recording.cassettes import register_matchers

    register_matchers(vcr)


def pytest_report_header(config: pytest.Config) -> str | None:
    if SUITE_ACTIVE not in config.stash:
        return None  # said at the end instead, if the suite runs at all
    run = config.stash[RUN_CONFIG]
    where = f" ({run.cassette_dir})" if run.mode == Mode.REPLAY else ""
    variant = "strict" if run.strict_contract else "default"
    return f"oxen-contract: {mode_label(run)}{where}; contract variant {variant}{draws_label(run)}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if item.get_closest_marker("contract") is None:
        return report
    try:
        judge_report(item, call, report)
    except Exception as error:  # noqa: BLE001 - a hook that raises is an INTERNALERROR, which hides the verdict
        detail = f"{item.nodeid}: the suite's report hook failed: {type(error).__name__}: {error}"
        report.user_properties = [*report.user_properties, ("oxen_contract", report.when)]
        if report.failed:
            report.user_properties += [("oxen_kind", "suite"), ("oxen_detail", detail)]
    return report


# Last: pytest's runner tears the session's fixtures down in its own sessionfinish, and cleanup (the provisioner's
# teardown) must be over before the verdict and the report say what it did, interrupted runs included.
@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    finish(session)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    for note in [*config.stash.get(SESSION_LOG, []), *config.stash.get(SESSION_NOTES, [])]:
        terminalreporter.write_line(f"[oxen-contract] {note}")
    found = config.stash.get(VERDICT, None)
    if found is not None:
        colour = {"contract held": "green", "partial pass": "yellow"}.get(found.outcome, "red")
        # The mode is in the summary line too: it is the line people paste, and a replay's green is not a hub's. The
        # line still ends "(exit status N)": the self-check reads it so.
        mode = mode_label(config.stash[RUN_CONFIG])
        line = f"[oxen-contract] {found.summary} [{mode}] (exit status {found.exit_status})"
        terminalreporter.write_line(line, **{colour: True, "bold": True})


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    # xdist workers parse the command line anew: the seed --seed random drew here is the one they all draw with.
    run = node.config.stash.get(RUN_CONFIG, None)
    if run is not None and run.seed is not None:
        node.workerinput[WORKER_SEED] = run.seed
