"""Helpers for the plugin tests: run the real contract suite as a user would, ``python -m pytest`` at the root.

Each run is forked from a fork server that imported pytest and the suite's modules once (the self-check's
``ForkLauncher``): a fresh interpreter spends about 1.8 s of CPU starting up and collecting before a run does
anything, and these tests make dozens of runs. A forked run takes the environment, working directory and arguments it
is given and runs pytest's console entry as the command line would. ``OXEN_SELFCHECK_FORK=0`` starts fresh
interpreters instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from oxen_contract.selfcheck.launchers import ForkLauncher, FreshLauncher, Launcher, fork_wanted

ROOT = Path(__file__).resolve().parents[2]
Runner = Callable[..., subprocess.CompletedProcess[str]]


def _clean_env() -> dict[str, str]:
    # No OXEN_* of the developer's shell or of tox reaches a run: each test says what its run gets.
    return {key: value for key, value in os.environ.items() if not key.startswith("OXEN_")}


@pytest.fixture(scope="session")
def suite_launcher() -> Iterator[Launcher]:
    """Starts ``python -m pytest`` runs at the root: forked from one warm server per xdist worker, or fresh."""
    launcher: Launcher
    if fork_wanted():
        launcher = ForkLauncher(ROOT, _clean_env(), ["-p", "no:cacheprovider", "tests/contract"], kinds=("suite",))
    else:
        launcher = FreshLauncher()
    yield launcher
    launcher.close()


@pytest.fixture
def run_suite(tmp_path: Path, suite_launcher: Launcher) -> Runner:
    """Runs ``pytest ARGS`` at the project root with a clean OXEN_* environment plus ``env``.

    Each test's runs get a ledger of their own: runs against one ledger exclude each other, and tests run in parallel.
    """

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        clean = _clean_env()
        clean["OXEN_CONTRACT_LEDGER"] = str(tmp_path / "ledger.jsonl")
        arguments = ["-p", "no:cacheprovider", *args]
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            child = suite_launcher.start(
                "suite", arguments, env={**clean, **(env or {})}, cwd=ROOT, stdout=out.fileno(), stderr=err.fileno()
            )
            try:
                code = child.wait(timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
                raise
            out.seek(0)
            err.seek(0)
            stdout, stderr = (stream.read().decode("utf-8", errors="replace") for stream in (out, err))
        return subprocess.CompletedProcess([sys.executable, "-m", "pytest", *arguments], code, stdout, stderr)

    return run


@pytest.fixture
def local_hub() -> Iterator[str]:
    """A local reference hub with alice's key ``key-a`` and bob's ``key-b``; its URL."""
    from oxen_contract.hub import LocalHub

    with LocalHub({"key-a": "alice", "key-b": "bob"}, deterministic=True) as hub:
        yield hub.url
