"""Fork servers: a process that imported a run's modules once, and forks a child for every run of that kind.

Every row of the matrix starts hubs, the contract suite and plain schemathesis. Started as fresh interpreters, each paid
its imports again (pytest, schemathesis, hypothesis, httpx, jsonschema and the OpenAI SDK for the suite; starlette and
uvicorn for a hub; schemathesis for ``st``): about as much CPU as the run itself. A fork server pays them once; each run
is an ``os.fork()`` of it that points fd 0/1/2 where the caller asks, takes the run's environment and working directory,
calls what the command line would have called (``pytest``'s console entry, ``st``'s click command, the hub's ``main``)
and leaves with ``os._exit`` and that exit status.

A child must run as the command would have run in a fresh interpreter, so each kind has its own server, holding what
that command imports and nothing else:

- ``suite``: pytest started as for the suite's command line (plugins, the assertion-rewriting import hook, the initial
  conftests), stopped before anything is configured, plus what a run imports later. Modules pytest rewrites (those of
  packages with a ``pytest11`` entry point) are imported through its hook, as a run imports them; a module imported
  otherwise would draw pytest's "already imported" warning, an error under ``filterwarnings = error``.
- ``schemathesis``: ``st``'s command and what ``st run`` imports. None of this project's modules stay loaded: Hypothesis
  mixes constants from "local" modules into what it generates, and a fresh ``st`` has none.
- ``hub``: ``oxen-local-hub``'s modules and the server's.

A server imports, then forks: it starts no thread (a fork copies only the calling thread, so a lock another thread held
would stay locked in the child). It reaps its children through pidfds, reports each pid and exit status on the run's
own socket, and sends a signal to a live child when asked, so that a pid is never signalled after it was reaped.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["KINDS", "ForkServer", "ForkedChild"]

KINDS = ("suite", "schemathesis", "hub")
READY_TIMEOUT = 120.0


# ---------------------------------------------------------------------------------------------------------------------
# The caller's side.


class ForkedChild:
    """One run forked by a server: its pid, a way to signal it, and its exit status (``subprocess``'s convention)."""

    def __init__(self, pid: int, channel: socket.socket) -> None:
        self.pid = pid
        self._channel = channel
        self._buffer = b""
        self._lock = threading.Lock()
        self.returncode: int | None = None

    def send_signal(self, signum: int) -> None:
        # The server signals the child only while it has not reaped it; after the exit, a request is ignored.
        try:
            with self._lock:
                self._channel.sendall(f"signal {int(signum)}\n".encode())
        except OSError:
            pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        """The exit status: the code, or minus the signal that ended it; ``subprocess.TimeoutExpired`` on timeout."""
        if self.returncode is not None:
            return self.returncode
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if left == 0.0:
                raise subprocess.TimeoutExpired(f"forked child {self.pid}", timeout or 0.0)
            self._channel.settimeout(left)
            try:
                chunk = self._channel.recv(256)
            except TimeoutError:
                raise subprocess.TimeoutExpired(f"forked child {self.pid}", timeout or 0.0) from None
            if not chunk:
                self._channel.close()
                raise RuntimeError(f"the fork server went away before child {self.pid} ended")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        word, _, value = line.decode().partition(" ")
        if word != "exit":
            raise RuntimeError(f"unexpected word from the fork server: {line!r}")
        self.returncode = int(value)
        self._channel.close()
        return self.returncode


class ForkServer:
    """A server process of one kind (``KINDS``); ``start`` forks a run of it. Thread-safe; ``close`` ends it."""

    def __init__(
        self, kind: str, *, cwd: Path, env: Mapping[str, str], warm_args: Sequence[str] = (), ready_timeout: float = 0
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}: expected one of {', '.join(KINDS)}")
        self.kind = kind
        self._lock = threading.Lock()
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        boot = "import sys; from oxen_contract.selfcheck.warm import serve; serve(sys.argv[1:])"
        command = [sys.executable, "-c", boot, kind, str(theirs.fileno()), json.dumps(list(warm_args))]
        # What went wrong while it imported is on its stderr: a file, read back if it never says ready.
        self._errors = tempfile.TemporaryFile()
        try:
            self._process = subprocess.Popen(
                command,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._errors,
                pass_fds=[theirs.fileno()],
            )
        finally:
            theirs.close()
        self._ready = False
        self._failure: RuntimeError | None = None
        self._ready_timeout = ready_timeout or READY_TIMEOUT

    @property
    def pid(self) -> int:
        """The server's own pid (its children's CPU time adds up in its ``cutime``, as it reaps them)."""
        return self._process.pid

    def _await_ready(self) -> None:
        # Under the lock: the first start waits for the server's imports; later ones find it ready (or failed).
        if self._ready:
            return
        if self._failure is not None:
            raise self._failure
        self._control.settimeout(self._ready_timeout)
        try:
            word = self._control.recv(1 << 16)
        except TimeoutError:
            word = b""
        finally:
            self._control.settimeout(None)
        if word != b"ready":
            self._stop()
            self._errors.seek(0)
            detail = (word.decode(errors="replace") + self._errors.read().decode(errors="replace")).strip()
            self._errors.close()
            self._failure = RuntimeError(f"the {self.kind} fork server did not start: {detail[-3000:] or 'no output'}")
            raise self._failure
        self._ready = True

    def wait_ready(self) -> None:
        """Block until the server has imported its modules; raise ``RuntimeError`` with its error if it failed to."""
        with self._lock:
            self._await_ready()

    def start(self, args: Sequence[str], *, env: Mapping[str, str], cwd: Path, stdout: int, stderr: int) -> ForkedChild:
        """Fork a run with ``args`` (the command's arguments), ``env`` as its whole environment, in ``cwd``.

        ``stdout`` and ``stderr`` are file descriptors (the same one for both is fine); the caller keeps its copies.
        """
        request = json.dumps({"args": list(args), "env": dict(env), "cwd": str(cwd)}).encode()
        mine, theirs = socket.socketpair()
        try:
            with self._lock:
                self._await_ready()
                socket.send_fds(self._control, [request], [theirs.fileno(), stdout, stderr])
        finally:
            theirs.close()
        mine.settimeout(self._ready_timeout)
        line = b""
        try:
            while not line.endswith(b"\n"):
                chunk = mine.recv(1)
                if not chunk:
                    break
                line += chunk
        except TimeoutError:
            pass
        mine.settimeout(None)
        word, _, value = line.decode().strip().partition(" ")
        if word != "pid":
            mine.close()
            raise RuntimeError(f"the {self.kind} fork server did not fork: {line!r}")
        return ForkedChild(int(value), mine)

    def close(self) -> None:
        """End the server: its children still running are killed (their ``wait`` gives ``-SIGKILL``)."""
        self._stop()
        self._errors.close()

    def _stop(self) -> None:
        # Closing the control socket tells the server to end; one that does not within 10 s is killed.
        self._control.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
