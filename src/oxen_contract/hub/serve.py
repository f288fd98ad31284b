"""Serving the hub with uvicorn: in a background thread for Python callers, or in the foreground for the CLI.

The pytest plugin, the self-check and the benchmark need a real HTTP server on a free loopback port that they can
start and stop in-process (as httpx's tests do with ``serve_in_thread``); the command line needs the same server in
the foreground. Both bind the socket first, so the port is known (even with port 0) before anyone connects.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable, Mapping
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .faults import Fault
from .hostile import DRIP_SECONDS


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; raises OSError when the address cannot be used."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets that say so, and without it every answer
    # waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def server_for(app: Starlette, *, deterministic: bool) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        # A Date header would make recorded answers differ from run to run.
        date_header=not deterministic,
        # A hanging or dripping request (the hang and drip faults) must not keep a stopping hub alive for long.
        timeout_graceful_shutdown=1,
    )
    return uvicorn.Server(config)


class LocalHub:
    """The hub on 127.0.0.1 in a background thread; use as a context manager and read ``.url``."""

    def __init__(
        self,
        tokens: Mapping[str, str],
        faults: Iterable[str | Fault] = (),
        *,
        deterministic: bool = False,
        db_path: str | None = None,
        hang_seconds: float = 3600.0,
        drip_seconds: float = DRIP_SECONDS,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.app = create_app(
            tokens,
            faults,
            deterministic=deterministic,
            db_path=db_path,
            hang_seconds=hang_seconds,
            drip_seconds=drip_seconds,
        )
        self._socket = bind(host, port)
        self.url = url_of(self._socket)
        self._server = server_for(self.app, deterministic=deterministic)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def start(self) -> LocalHub:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the local hub did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()
        self.app.state.store.close()

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
