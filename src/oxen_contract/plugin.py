"""The pytest plugin (entry point ``pytest11``): its hooks, each handing the work to the run's session or settings.

Modes: replay (default; cassettes, no network, no key), live (``--hub-url``), record (``--record-mode``), and local
(``--local-hub``: the local reference hub on a free loopback port). Options are ``options.py``'s, settings resolve in
``config.py``, the session is set up in ``activation.py``, fixtures are ``fixtures.py``'s, and the run's state, the
verdict's facts and the verdict are the session's (``session.py``). Installed, the plugin loads into every pytest
session of the environment: it changes nothing in one that does not run the contract suite.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from .run.activation import activate_suite, end_session, start_session
from .run.fixtures import *  # noqa: F403 - pytest finds a plugin's fixtures among its module's names
from .run.session import session_of
from .settings.options import add_options, register_markers


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    register_markers(config)
    start_session(config)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if any(item.get_closest_marker("contract") is not None for item in items):
        activate_suite(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    end_session(config)


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    from .recording.cassettes import register_matchers

    register_matchers(vcr)


def pytest_report_header(config: pytest.Config) -> str | None:
    return session_of(config).report_header()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if item.get_closest_marker("contract") is not None:
        session_of(item.config).judge(item, call, report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    try:
        return (yield)
    finally:
        session_of(session.config).finishing = True


# Last: pytest's runner tears the session's fixtures down in its own sessionfinish, and cleanup (the provisioner's
# teardown) must be over before the verdict and the report say what it did, interrupted runs included.
@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session_of(session.config).finish(session)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    for line, markup in session_of(config).summary_lines():
        terminalreporter.write_line(line, **markup)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    session_of(node.config).seed_workers(node)
