"""Helpers for the plugin tests: run the real contract suite in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_suite(tmp_path: Path) -> Runner:
    """Runs ``pytest ARGS`` at the project root with a clean OXEN_* environment plus ``env``.

    Each test's runs get a ledger of their own: runs against one ledger exclude each other, and tests run in parallel.
    """

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        clean = {key: value for key, value in os.environ.items() if not key.startswith("OXEN_")}
        clean["OXEN_CONTRACT_LEDGER"] = str(tmp_path / "ledger.jsonl")
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
        return subprocess.run(
            command, cwd=ROOT, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=timeout
        )

    return run


@pytest.fixture
def local_hub() -> Iterator[str]:
    """A local reference hub with alice's key ``key-a`` and bob's ``key-b``; its URL."""
    from oxen_contract.hub import LocalHub

    with LocalHub({"key-a": "alice", "key-b": "bob"}, deterministic=True) as hub:
        yield hub.url
