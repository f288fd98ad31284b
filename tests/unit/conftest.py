"""Helpers for the fast offline tests of the package's modules: a real HTTP server on loopback, when one is needed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
import uvicorn
from starlette.types import ASGIApp

from oxen_contract.hub.serve import bind, url_of


@contextmanager
def _served(app: ASGIApp) -> Iterator[str]:
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="off", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


@pytest.fixture
def serve() -> Callable[[ASGIApp], AbstractContextManager[str]]:
    """A context manager that runs an ASGI app on a free loopback port and gives its URL."""
    return _served
