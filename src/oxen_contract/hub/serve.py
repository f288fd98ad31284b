"""Serving the hub with uvicorn: in a background thread for Python callers, or in the foreground for the CLI.

The pytest plugin, the self-check and the benchmark need a real HTTP server on a free loopback port that they can
start and stop in-process (as httpx's tests do with ``serve_in_thread``); the command line needs the same server in
the foreground. Both bind the socket first, so the port is known (even with port 0) before anyone connects.

A fault that must bend what uvicorn itself writes (``hostile-drip-headers``) puts the drip proxy (``proxy.py``) in
front: it listens where clients connect, on the same event loop, and uvicorn listens on another loopback port.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .faults import Fault, Switch
from .hostile import DRIP_SECONDS
from .proxy import DripProxy

# Faults whose switches only the proxy can carry out.
_PROXIED = frozenset({Switch.DRIP_HEADERS})


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


def server_for(app: Starlette) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        # The app dates every answer from its own clock (deterministic or not); a second Date would contradict it.
        date_header=False,
        # A hanging or dripping request (the hang and drip faults) must not keep a stopping hub alive for long.
        timeout_graceful_shutdown=1,
    )
    return uvicorn.Server(config)


def needs_proxy(app: Starlette) -> bool:
    """Whether the app's faults need the drip proxy in front of it."""
    return any(_PROXIED & fault.switches for fault in app.state.faults)


class Serving:
    """The sockets a hub is served on: where clients connect, and behind it, with the proxy, where uvicorn listens.

    Binds at once (raising OSError when ``host``:``port`` cannot be used), so that the URL is known before serving.
    """

    def __init__(self, app: Starlette, host: str, port: int, drip_seconds: float) -> None:
        self.front = bind(host, port)
        self.app = app
        self._drip = drip_seconds
        self.back: socket.socket | None = None
        if needs_proxy(app):
            try:
                # Loopback only: nobody but the proxy is to reach the hub behind it.
                self.back = bind("::1" if ":" in host else "127.0.0.1", 0)
            except OSError:
                self.front.close()
                raise

    @property
    def url(self) -> str:
        """The URL clients use: the front socket's, below the app's prefix."""
        return url_of(self.front) + str(self.app.state.prefix)

    def run(self, server: uvicorn.Server) -> None:
        """Serve until ``server.should_exit`` (or a signal, in the main thread); then close the sockets."""
        try:
            if self.back is None:
                server.run(sockets=[self.front])
            else:
                asyncio.run(self._behind_proxy(server, self.back))
        finally:
            self.close()

    async def _behind_proxy(self, server: uvicorn.Server, back: socket.socket) -> None:
        host, port = back.getsockname()[:2]
        proxy = DripProxy(self.front, (host, port), self._drip)
        await proxy.start()
        try:
            await server.serve(sockets=[back])
        finally:
            await proxy.close()

    def close(self) -> None:
        self.front.close()
        if self.back is not None:
            self.back.close()


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
        prefix: str = "",
        catalog_size: int | None = None,
        latency: float = 0.0,
    ) -> None:
        self.app = create_app(
            tokens,
            faults,
            deterministic=deterministic,
            db_path=db_path,
            hang_seconds=hang_seconds,
            drip_seconds=drip_seconds,
            prefix=prefix,
            catalog_size=catalog_size,
            latency=latency,
        )
        try:
            self._serving = Serving(self.app, host, port, drip_seconds)
        except OSError:
            self.app.state.store.close()
            raise
        # With a prefix the URL has a path, as a hub behind a gateway does; with the drip proxy it is the proxy's.
        self.url = self._serving.url
        self._server = server_for(self.app)
        self._thread = threading.Thread(target=self._serving.run, args=(self._server,), daemon=True)

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
        self._serving.close()
        self.app.state.store.close()

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
