"""Fork servers: a forked run behaves as the same command in a fresh interpreter; and rows start longest first.

The self-check forks each hub, suite and plain schemathesis run from a server that imported its modules once. What
these tests hold it to: the same output and exit status as a fresh interpreter (a message, a usage error, a signal),
output where the caller asks for it, no project module in the schemathesis server (Hypothesis would mix their constants
into what ``st`` generates), and the suite collected as ``python -m pytest`` collects it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from oxen_contract.selfcheck.forkserver import ForkServer
from oxen_contract.selfcheck.launchers import ForkLauncher, FreshLauncher, fork_wanted
from oxen_contract.selfcheck.runner import clean_env, suite_args
from oxen_contract.selfcheck.schedule import guess_seconds, longest_first, previous_seconds, row_seconds
from oxen_contract.settings.argparsing import find_checkout

ROOT = find_checkout(Path(__file__).parent)

needs_fork = pytest.mark.skipif(not fork_wanted({}), reason="fork servers need os.fork and pidfds (Linux)")
Start = Callable[..., Any]


def _run(start: Start, args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Start a run through ``start`` (a launcher's or a server's), its stdout and stderr to files; wait for it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = start(args, env=env, cwd=cwd, stdout=out.fileno(), stderr=err.fileno())
        code = child.wait(timeout=120)
        out.seek(0)
        err.seek(0)
        return code, out.read().decode(), err.read().decode()


def _fresh(kind: str) -> Start:
    launcher = FreshLauncher()
    return lambda args, **kw: launcher.start(kind, args, **kw)


@pytest.fixture(scope="module")
def hub_server() -> Iterator[ForkServer]:
    server = ForkServer("hub", cwd=ROOT, env=clean_env({}))
    yield server
    server.close()


@needs_fork
@pytest.mark.parametrize(
    "args",
    [pytest.param(["--list-faults"], id="output, exit 0"), pytest.param(["--port", "x"], id="usage error, exit 2")],
)
def test_a_forked_hub_answers_as_a_fresh_one(hub_server: ForkServer, args: list[str], tmp_path: Path) -> None:
    env = clean_env({"OXEN_LOCAL_HUB_TOKENS": "t=alice"})
    forked = _run(hub_server.start, args, env, tmp_path)
    assert forked == _run(_fresh("hub"), args, env, tmp_path)
    assert forked[0] in (0, 2) and (forked[1] or forked[2])


@needs_fork
def test_a_forked_run_takes_its_environment_and_working_directory(hub_server: ForkServer, tmp_path: Path) -> None:
    # The hub reads its tokens from the environment and writes its audit relative to its working directory.
    env = clean_env({"OXEN_LOCAL_HUB_TOKENS": "secret-token=carol"})
    reading, writing = os.pipe()
    child = hub_server.start(
        ["--port", "0", "--audit", "audit.json"], env=env, cwd=tmp_path, stdout=writing, stderr=writing
    )
    os.close(writing)
    with open(reading, encoding="utf-8") as output:
        assert "listening on http://127.0.0.1:" in output.readline()
        assert (tmp_path / "audit.json").is_file()
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(timeout=0.2)
        child.terminate()
        assert child.wait(timeout=10) in (0, -signal.SIGTERM)


@needs_fork
def test_a_killed_run_ends_with_minus_the_signal_and_a_closed_server_leaves_no_child(tmp_path: Path) -> None:
    server = ForkServer("hub", cwd=ROOT, env=clean_env({}))
    try:
        env = clean_env({"OXEN_LOCAL_HUB_TOKENS": "t=alice"})
        first = server.start(["--port", "0"], env=env, cwd=tmp_path, stdout=2, stderr=2)
        first.kill()
        assert first.wait(timeout=10) == -signal.SIGKILL
        second = server.start(["--port", "0"], env=env, cwd=tmp_path, stdout=2, stderr=2)
    finally:
        server.close()
    assert second.wait(timeout=10) == -signal.SIGKILL
    with pytest.raises(ProcessLookupError):
        os.kill(second.pid, 0)


@needs_fork
def test_a_server_that_cannot_import_says_why() -> None:
    server = ForkServer("suite", cwd=ROOT, env=clean_env({}), warm_args=["--no-such-option"])
    with pytest.raises(RuntimeError, match="suite fork server did not start"):
        server.wait_ready()


@needs_fork
def test_the_schemathesis_server_holds_no_project_module_and_runs_st_as_a_fresh_one(tmp_path: Path) -> None:
    server = ForkServer("schemathesis", cwd=ROOT, env=clean_env({}))
    try:
        # The server refuses to start with one of this project's modules loaded (see warm._warm).
        server.wait_ready()
        forked = _run(server.start, ["run", "--help"], clean_env({}), tmp_path)
    finally:
        server.close()
    assert forked == _run(_fresh("schemathesis"), ["run", "--help"], clean_env({}), tmp_path)
    assert forked[0] == 0 and "--max-examples" in forked[1]


@needs_fork
def test_a_forked_suite_collects_as_python_m_pytest_does(tmp_path: Path) -> None:
    # Collection loads every plugin, the suite's conftest and its modules through the assertion-rewriting hook: a
    # module the server imported the wrong way would draw pytest's "already imported" warning, an error here.
    env = clean_env({"OXEN_API_KEY": "a", "OXEN_API_KEY_OTHER": "b", "HYPOTHESIS_PROFILE": "replay"})
    args = suite_args("http://127.0.0.1:9", tmp_path)
    collect = [*(arg for arg in args if arg != "-v"), "--collect-only", "-q"]
    collect += ["-W", "error::pytest.PytestAssertRewriteWarning"]
    server = ForkServer("suite", cwd=ROOT, env=clean_env({}), warm_args=args)
    try:
        forked = _run(server.start, collect, env, ROOT)
    finally:
        server.close()
    fresh = _run(_fresh("suite"), collect, env, ROOT)
    assert forked[0] == fresh[0] == 0, forked[1][-3000:] + forked[2][-3000:]
    assert _node_ids(forked[1]) == _node_ids(fresh[1])
    assert len(_node_ids(fresh[1])) > 20


def _node_ids(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("tests/contract/")]


def test_the_longest_rows_start_first_by_the_last_report(tmp_path: Path) -> None:
    report = tmp_path / "selfcheck.json"
    outcomes = [
        {"name": "no-fault", "suite": {"seconds": 3.0}, "strict": None, "schemathesis": {"seconds": 4.0}},
        {"name": "delete-hangs", "suite": {"seconds": 8.0}, "strict": None, "schemathesis": {"seconds": 50.0}},
        {"name": "list-filter-drops-last-match", "suite": {"seconds": 5.0}, "strict": {"seconds": 6.5}},
        {"name": "delete-missing-object", "suite": {"seconds": 3.5}},
    ]
    report.write_text(json.dumps({"outcomes": outcomes}), encoding="utf-8")
    previous = previous_seconds(report)
    assert previous == {
        "no-fault": 4.0,
        "delete-hangs": 50.0,
        "list-filter-drops-last-match": 6.5,
        "delete-missing-object": 3.5,
    }
    assert row_seconds(outcomes[2]) == 6.5
    names = ["no-fault", "delete-missing-id", "list-filter-drops-last-match", "delete-hangs"]
    # A row the report does not hold counts as an ordinary one (the median of the report's rows).
    assert longest_first(names, previous) == [
        "delete-hangs",
        "list-filter-drops-last-match",
        "delete-missing-id",
        "no-fault",
    ]


def test_without_a_report_rows_that_wait_or_run_twice_start_first(tmp_path: Path) -> None:
    assert previous_seconds(tmp_path / "missing.json") == {}
    assert guess_seconds("hostile-drip-retrieve") > guess_seconds("list-filter-drops-last-match") > 1.0
    assert guess_seconds("no-fault") == guess_seconds("delete-missing-id") == 1.0
    names = ["no-fault", "delete-missing-id", "list-filter-drops-last-match", "delete-hangs", "hostile-drip-retrieve"]
    assert longest_first(names, {}) == [
        "delete-hangs",
        "hostile-drip-retrieve",
        "list-filter-drops-last-match",
        "no-fault",
        "delete-missing-id",
    ]


def test_oxen_selfcheck_fork_0_brings_fresh_interpreters_back() -> None:
    assert not fork_wanted({"OXEN_SELFCHECK_FORK": "0"})
    assert fork_wanted({"OXEN_SELFCHECK_FORK": "1"}) == fork_wanted({})


def test_a_launcher_of_some_kinds_refuses_the_others_before_starting_a_server(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown kinds"):
        ForkLauncher(tmp_path, {}, [], kinds=("suite", "st"))
    launcher = ForkLauncher(tmp_path, {}, [], kinds=("suite",))
    with pytest.raises(ValueError, match="starts no hub runs"):
        launcher.start("hub", [], env={}, cwd=tmp_path, stdout=1, stderr=2)
    assert launcher._servers == {}
    launcher.close()
