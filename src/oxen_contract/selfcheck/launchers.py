"""How the self-check starts a hub, a suite run or a plain schemathesis run: forked from a warm server, or fresh.

Both launchers run the same command with the same arguments, environment, working directory and output descriptors,
and hand back a child that ``subprocess.Popen`` could stand for (``pid``, ``send_signal``, ``terminate``, ``kill``,
``wait``). ``FreshLauncher`` starts a new interpreter for each run (``python -m pytest``, ``st``'s command,
``python -m oxen_contract.hub``): what ``OXEN_SELFCHECK_FORK=0`` asks for, and where ``os.fork`` is missing.
``ForkLauncher`` forks each run from a fork server of its kind (``forkserver.py``), which imported the command's modules
once: the default where ``os.fork`` exists. The ``oxen-contract`` command (``cli``) only ever starts fresh: a verdict
case runs it to prove what a fresh start of the installed tool does.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from .forkserver import KINDS, ForkServer

__all__ = [
    "Child",
    "ForkLauncher",
    "FreshLauncher",
    "Launcher",
    "close_default_launchers",
    "default_launcher",
    "fork_wanted",
    "switched_on",
]

FORK_ENV = "OXEN_SELFCHECK_FORK"
# `st` is a console script; calling its function through this interpreter does not depend on PATH.
_ST = "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'st'; sys.exit(schemathesis())"
# The oxen-contract console script, as its entry point calls it: the package is imported before pytest starts, as an
# installed tool's is (what a fresh start of it must prove harmless: pytest's "already imported" warning).
_CLI = "import sys; from oxen_contract.cli import main; sys.argv[0] = 'oxen-contract'; sys.exit(main())"
_COMMANDS = {
    "suite": ("-m", "pytest"),
    "schemathesis": ("-c", _ST),
    "hub": ("-m", "oxen_contract.hub"),
    # Fresh only: no fork server holds it (a forked run would start with the modules it must import itself).
    "cli": ("-c", _CLI),
}


class Child(Protocol):
    pid: int

    def send_signal(self, signum: int) -> None: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...

    def wait(self, timeout: float | None = None) -> int: ...


class Launcher(Protocol):
    def start(
        self, kind: str, args: Sequence[str], *, env: Mapping[str, str], cwd: Path, stdout: int, stderr: int
    ) -> Child:
        """Start the command of ``kind`` (``forkserver.KINDS``) with ``args``; ``env`` is its whole environment."""
        ...

    def close(self) -> None: ...


class FreshLauncher:
    """A new interpreter per run."""

    def start(
        self, kind: str, args: Sequence[str], *, env: Mapping[str, str], cwd: Path, stdout: int, stderr: int
    ) -> Child:
        command = [sys.executable, *_COMMANDS[kind], *args]
        return subprocess.Popen(command, cwd=cwd, env=dict(env), stdout=stdout, stderr=stderr)

    def close(self) -> None:
        pass


class ForkLauncher:
    """A fork server per kind of ``kinds``, all started (side by side) at the first run; ``close`` ends them."""

    def __init__(
        self, root: Path, env: Mapping[str, str], suite_args: Sequence[str], *, kinds: Sequence[str] = KINDS
    ) -> None:
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown kinds {unknown}: expected some of {', '.join(KINDS)}")
        self._root = root
        self._env = dict(env)
        self._suite_args = list(suite_args)
        self._kinds = tuple(kinds)
        self._servers: dict[str, ForkServer] = {}
        self._lock = threading.Lock()

    def _server(self, kind: str) -> ForkServer:
        with self._lock:
            if kind not in self._kinds:
                raise ValueError(f"this launcher starts no {kind} runs (only {', '.join(self._kinds)})")
            if not self._servers:
                for name in self._kinds:
                    warm = self._suite_args if name == "suite" else ()
                    self._servers[name] = ForkServer(name, cwd=self._root, env=self._env, warm_args=warm)
            return self._servers[kind]

    def start(
        self, kind: str, args: Sequence[str], *, env: Mapping[str, str], cwd: Path, stdout: int, stderr: int
    ) -> Child:
        return self._server(kind).start(args, env=env, cwd=cwd, stdout=stdout, stderr=stderr)

    def server_pids(self) -> dict[str, int]:
        """The pid of each fork server started (starting them if none is), by kind."""
        self._server(self._kinds[0])
        with self._lock:
            return {kind: server.pid for kind, server in self._servers.items()}

    def wait_ready(self) -> None:
        """Block until every fork server has imported its modules (the first run of each kind would wait for it)."""
        for kind in self._kinds:
            self._server(kind).wait_ready()

    def close(self) -> None:
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.close()


def switched_on(name: str, environ: Mapping[str, str] | None = None) -> bool:
    """A self-check switch: on unless the variable says 0, no, false or off (any case)."""
    value = (os.environ if environ is None else environ).get(name, "1").strip().lower()
    return value not in ("0", "no", "false", "off")


def fork_wanted(environ: Mapping[str, str] | None = None) -> bool:
    """Fork servers unless ``OXEN_SELFCHECK_FORK=0`` (or the platform has no ``os.fork``)."""
    return hasattr(os, "fork") and hasattr(os, "pidfd_open") and switched_on(FORK_ENV, environ)


_DEFAULT: dict[Path, Launcher] = {}
_DEFAULT_LOCK = threading.Lock()


def default_launcher(root: Path, env: Mapping[str, str], suite_args: Sequence[str]) -> Launcher:
    """The launcher of this process for checkout ``root``: made once, ended when the interpreter exits."""
    with _DEFAULT_LOCK:
        launcher = _DEFAULT.get(root)
        if launcher is None:
            launcher = ForkLauncher(root, env, suite_args) if fork_wanted() else FreshLauncher()
            _DEFAULT[root] = launcher
            atexit.register(launcher.close)
        return launcher


def close_default_launchers() -> None:
    """End the fork servers of this process's launchers (a later run starts them again)."""
    with _DEFAULT_LOCK:
        launchers = list(_DEFAULT.values())
    for launcher in launchers:
        launcher.close()
