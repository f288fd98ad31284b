"""The fork server's own process: import a kind of run once, then fork a child for each run and report how it ended.

``forkserver.ForkServer`` starts this module's ``serve`` in a fresh interpreter (``KIND CONTROL_FD WARM_ARGS_JSON``) and
talks to it over the control socket; see its docstring for the protocol and for why each kind has a server of its own.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import os
import random
import selectors
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_PACKAGE = "oxen_contract"
# Imported by a run after pytest configured it, or by `st run` and a serving hub past their start-up: loaded by the
# server too, so that no child pays for them. A name missing from the environment is skipped (an extra not installed).
_LATER_IMPORTS: dict[str, tuple[str, ...]] = {
    "suite": (
        "encodings.ascii",
        "encodings.unicode_escape",
        "faulthandler",
        "http.server",
        "pdb",
        "sqlite3",
        "h11",
        "httpcore",
        "markupsafe",
        "openai",
        "openai.pagination",
        "openai.resources.models",
        "pydantic",
        "pyrate_limiter",
        "werkzeug",
        "werkzeug.serving",
        "werkzeug.test",
        "werkzeug.wrappers",
        "hypothesis.internal.conjecture.optimiser",
        "hypothesis.strategies._internal.flatmapped",
        "hypothesis.strategies._internal.random",
        "schemathesis.engine.link_calibration",
        "schemathesis.engine.summary",
        "schemathesis.engine.supervisor",
        "schemathesis.failure_codes",
        "schemathesis.generation.dictionaries",
        "schemathesis.generation.jsonschema.strategy",
        "schemathesis.graphql.checks",
        "schemathesis.openapi.generation.filters",
        "schemathesis.pytest.lazy",
        "schemathesis.pytest.xdist",
        "schemathesis.reporting.html.writer",
        "schemathesis.reporting.junitxml",
        "schemathesis.specs.openapi.coverage",
        "schemathesis.specs.openapi.schemas",
        "schemathesis.specs.openapi.stateful",
        "schemathesis.transport.asgi",
        "schemathesis.transport.wsgi",
        "oxen_contract.reporting.baseline",
        "oxen_contract.recording.cassettes",
        "oxen_contract.checking.contracts",
        "oxen_contract.checking.documented",
        "oxen_contract.reporting.html_report",
        "oxen_contract.disposables.ledger",
        "oxen_contract.clients.openai_compat",
        "oxen_contract.disposables.provenance",
        "oxen_contract.settings.profiles",
        "oxen_contract.disposables.provisioning",
        "oxen_contract.reporting.report",
        "oxen_contract.checking.tally",
    ),
    "schemathesis": (
        "anyio",
        "encodings.ascii",
        "multiprocessing.pool",
        "multiprocessing.managers",
        "netrc",
        "pickle",
        "pyrate_limiter",
        "rich._emoji_codes",
        "rich.console",
        "rich.live",
        "rich.progress",
        "rich.table",
        "sqlite3",
        "yaml",
        "hypothesis.internal.conjecture.optimiser",
        "hypothesis.strategies._internal.flatmapped",
        "hypothesis.strategies._internal.random",
        "schemathesis.cli",
        "schemathesis.cli.commands.run.executor",
        "schemathesis.engine.core",
        "schemathesis.engine.run.analysis",
        "schemathesis.engine.run.stateful",
        "schemathesis.engine.run.unit",
        "schemathesis.engine.run.unit._hypothesis_executor",
        "schemathesis.generation.body_overrides",
        "schemathesis.generation.dictionaries",
        "schemathesis.openapi.loaders",
        "schemathesis.python.asgi",
        "schemathesis.python._constants.orchestrator",
        "schemathesis.python._constants.warnings",
        "schemathesis.specs.openapi._ordering",
        "schemathesis.specs.openapi.auth_flow.detection",
        "schemathesis.specs.openapi.auth_inference",
        "schemathesis.specs.openapi.coverage._operation",
        "schemathesis.specs.openapi.object_authorization",
        "schemathesis.specs.openapi.schemas",
        "schemathesis.transport.asgi",
        "schemathesis.transport.wsgi",
    ),
    "hub": (
        "oxen_contract.hub.__main__",
        "oxen_contract.hub.app",
        "oxen_contract.hub.serve",
        "uvicorn.lifespan.off",
        "uvicorn.loops.asyncio",
        "uvicorn.loops.auto",
        "uvicorn.protocols.http.auto",
        "uvicorn.protocols.http.h11_impl",
        "uvicorn.protocols.websockets.auto",
    ),
}


# Generators made while the server imported, seeded from the OS: a fresh interpreter seeds each anew, and so does a
# child (random's own instance is reseeded by the random module after every fork).
_OS_SEEDED: list[random.Random] = []


def _recording_os_seeded(original: Any) -> Any:
    def init(self: random.Random, x: Any = None) -> None:
        original(self, x)
        if x is None and type(self) is random.Random:
            _OS_SEEDED.append(self)

    return init


def _forget_own_modules() -> None:
    # The boot line imported this package to reach serve(): gone again, so that each kind imports it (or not) as its
    # command does. This module's functions keep working; they hold their globals.
    for name in [name for name in sys.modules if name == _PACKAGE or name.startswith(_PACKAGE + ".")]:
        del sys.modules[name]


def _import_later_modules(kind: str) -> None:
    for name in _LATER_IMPORTS[kind]:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _warm_suite(args: list[str]) -> None:
    # What `python -m pytest ARGS` does before it configures anything: the same plugins, the same import hook, the same
    # initial conftests; then pytest's set-up is undone (the hook leaves sys.meta_path, output capture stops). Private
    # pytest API: pytest is pinned below its next minor version (pyproject.toml).
    from _pytest.config import _prepareconfig

    sys.path[0] = os.getcwd()
    os.environ["PYTEST_VERSION"] = importlib.import_module("pytest").__version__
    try:
        config = _prepareconfig(list(args))
        try:
            _import_later_modules("suite")
        finally:
            config._ensure_unconfigure()
    finally:
        os.environ.pop("PYTEST_VERSION", None)


def _warm(kind: str, args: list[str]) -> None:
    _forget_own_modules()
    original = random.Random.__init__
    random.Random.__init__ = _recording_os_seeded(original)  # type: ignore[method-assign]
    try:
        if kind == "suite":
            _warm_suite(args)
        else:
            if kind == "hub":
                sys.path[0] = os.getcwd()
            _import_later_modules(kind)
    finally:
        random.Random.__init__ = original  # type: ignore[method-assign]
    if kind == "schemathesis":
        leftover = sorted(name for name in sys.modules if name == _PACKAGE or name.startswith(_PACKAGE + "."))
        if leftover:
            raise RuntimeError(f"the schemathesis fork server must hold none of this project's modules: {leftover}")
    if threading.active_count() != 1:
        raise RuntimeError(f"the {kind} fork server started threads while importing: {threading.enumerate()}")
    # What the imports left behind never changes again: kept out of every child's garbage collections (and pages).
    gc.collect()
    gc.freeze()


def _run(kind: str, args: list[str]) -> int:
    """The command, as its console entry point runs it; its exit status."""
    try:
        if kind == "suite":
            from _pytest.config import _console_main

            sys.argv = [str(Path(importlib.import_module("pytest").__file__ or "pytest").with_name("__main__.py"))]
            sys.argv += args
            return int(_console_main())
        if kind == "schemathesis":
            from schemathesis.cli import schemathesis

            sys.argv = ["st", *args]
            schemathesis()
            return 0
        from oxen_contract.hub.__main__ import main

        sys.argv = [main.__module__, *args]
        return main(args)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        # As the interpreter does with a SystemExit that carries a message.
        sys.stderr.write(f"{exc.code}\n")
        return 1
    except BaseException:
        traceback.print_exc()
        return 1


def _child(kind: str, request: dict[str, Any], stdout: int, stderr: int) -> None:
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        for fd in {null, stdout, stderr} - {0, 1, 2}:
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for generator in _OS_SEEDED:
            generator.seed()
        # sys.path[0] as the command line sets it: `-c` puts "", `-m` the working directory.
        sys.path[0] = "" if kind == "schemathesis" else request["cwd"]
        code = _run(kind, list(request["args"]))
        # As an interpreter's exit does: wait for the threads left running, then the exit handlers.
        for thread in threading.enumerate():
            if thread is not threading.main_thread() and not thread.daemon:
                thread.join()
        atexit._run_exitfuncs()
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


class _Run:
    def __init__(self, pid: int, channel: socket.socket, pidfd: int) -> None:
        self.pid = pid
        self.channel = channel
        self.pidfd = pidfd
        self.buffer = b""
        self.listening = True


def _serve_loop(kind: str, control: socket.socket) -> None:
    runs: dict[int, _Run] = {}
    with selectors.DefaultSelector() as selector:
        selector.register(control, selectors.EVENT_READ)
        try:
            while True:
                for key, _ in selector.select():
                    run: _Run | None = key.data
                    if run is None:
                        if not _fork(kind, control, selector, runs):
                            return
                    elif key.fd == run.pidfd:
                        _reap(run, selector, runs)
                    else:
                        _listen(run, selector)
        finally:
            # The caller closed the server (or went away): its runs still going are killed, and say so.
            for run in list(runs.values()):
                try:
                    os.kill(run.pid, signal.SIGKILL)
                except OSError:
                    pass
                _reap(run, selector, runs)


def _fork(kind: str, control: socket.socket, selector: selectors.BaseSelector, runs: dict[int, _Run]) -> bool:
    message, fds, _, _ = socket.recv_fds(control, 1 << 20, 3)
    if not message:
        for fd in fds:
            os.close(fd)
        return False
    request = json.loads(message)
    channel, stdout, stderr = socket.socket(fileno=fds[0]), fds[1], fds[2]
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    pid = os.fork()
    if pid == 0:
        selector.close()
        control.close()
        channel.close()
        for other in runs.values():
            other.channel.close()
            os.close(other.pidfd)
        _child(kind, request, stdout, stderr)
    os.close(stdout)
    if stderr != stdout:
        os.close(stderr)
    run = _Run(pid, channel, os.pidfd_open(pid))
    runs[pid] = run
    selector.register(run.pidfd, selectors.EVENT_READ, run)
    selector.register(channel, selectors.EVENT_READ, run)
    try:
        channel.sendall(f"pid {pid}\n".encode())
    except OSError:
        os.kill(pid, signal.SIGKILL)
    return True


def _reap(run: _Run, selector: selectors.BaseSelector, runs: dict[int, _Run]) -> None:
    _, status = os.waitpid(run.pid, 0)
    selector.unregister(run.pidfd)
    os.close(run.pidfd)
    if run.listening:
        selector.unregister(run.channel)
    try:
        run.channel.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
    except OSError:
        pass
    run.channel.close()
    del runs[run.pid]


def _listen(run: _Run, selector: selectors.BaseSelector) -> None:
    try:
        chunk = run.channel.recv(256)
    except OSError:
        chunk = b""
    if not chunk:
        # The caller is gone: nobody will read this run's output or wait for it.
        selector.unregister(run.channel)
        run.listening = False
        try:
            os.kill(run.pid, signal.SIGKILL)
        except OSError:
            pass
        return
    run.buffer += chunk
    while b"\n" in run.buffer:
        line, _, run.buffer = run.buffer.partition(b"\n")
        word, _, value = line.decode().partition(" ")
        if word == "signal":
            try:
                os.kill(run.pid, int(value))
            except (OSError, ValueError):
                pass


def serve(argv: Sequence[str]) -> None:
    """The server's main: ``KIND CONTROL_FD WARM_ARGS_JSON`` (see ``ForkServer``)."""
    kind, fd, warm = argv
    control = socket.socket(fileno=int(fd))
    try:
        _warm(kind, json.loads(warm))
    except BaseException:
        control.send(("error: " + traceback.format_exc()).encode()[-60000:])
        raise
    control.send(b"ready")
    try:
        _serve_loop(kind, control)
    except KeyboardInterrupt:
        pass
