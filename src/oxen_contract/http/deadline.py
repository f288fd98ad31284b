"""The deadline of one request, where every read and write of its connection can see it.

``--request-timeout`` bounds a whole exchange: connect, status line, headers and body. The libraries' own timeouts
bound one socket operation each, so a hub that drips its status line and headers a byte at a time never trips them,
and checking the deadline between body chunks starts too late. So the guarded transports (``transport.py``) set the
request's deadline in a context variable (each thread has its own, so requests sent from several threads at once each
keep theirs) for as long as the request runs, and both network layers read it at every operation:

- httpx (the suite's client, the OpenAI SDK): httpcore's connection pool takes a network backend. ``DeadlineBackend``
  wraps the standard one; its streams cap each connect, read, write and TLS handshake at the time left.
- requests (schemathesis): urllib3 reads an answer through ``http.client.HTTPResponse``. The pools of
  ``bound_pool_manager`` give each connection a response class whose socket file caps each read the same way.

Once the deadline has passed, the operation raises ``DeadlineExceeded``, the error a dripping body raised already, so
every caller knows it. Both hooks sit below what vcrpy patches (httpx's ``HTTPTransport.handle_request``, urllib3's
connection classes and pool methods), so recording and replay work as before; keep-alive connections are reused.
Left as the libraries do it: the reads inside a TLS handshake (the ``ssl`` module makes them; each waits at most the
time left when the handshake began, under httpx, or --request-timeout, under urllib3) and urllib3's connect (at most
--request-timeout, after which the first read finds the deadline passed).
"""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpcore
import urllib3
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ..checking.failures import OxenContractError

if TYPE_CHECKING:
    # Typing only: the protocols urllib3's pools annotate their connections with.
    from urllib3._base_connection import BaseHTTPConnection, BaseHTTPSConnection

__all__ = ["DeadlineBackend", "DeadlineExceeded", "bound_pool_manager", "too_slow", "until"]


class DeadlineExceeded(OxenContractError):
    """The whole exchange took longer than --request-timeout (or the operation already stalled once)."""

    def __init__(self, message: str, *, fast: bool = False) -> None:
        super().__init__(message)
        self.fast = fast


def too_slow(timeout: float) -> DeadlineExceeded:
    return DeadlineExceeded(f"the whole answer did not arrive within {timeout:g} s (--request-timeout)")


@dataclass(frozen=True, slots=True)
class _Deadline:
    at: float  # time.monotonic()
    timeout: float  # --request-timeout, for the message


_CURRENT: ContextVar[_Deadline | None] = ContextVar("oxen_contract_request_deadline", default=None)


@contextlib.contextmanager
def until(at: float, timeout: float) -> Iterator[None]:
    """Inside the block, every network operation of this thread ends by ``at`` (``time.monotonic()``)."""
    token = _CURRENT.set(_Deadline(at, timeout))
    try:
        yield
    finally:
        _CURRENT.reset(token)


_T = TypeVar("_T")


def _bounded(
    operation: Callable[[float | None], _T], timeout: float | None, timeouts: tuple[type[Exception], ...]
) -> _T:
    """Run one network operation with its timeout capped at the time the current request has left."""
    deadline = _CURRENT.get()
    if deadline is None:
        return operation(timeout)
    left = deadline.at - time.monotonic()
    if left <= 0:
        raise too_slow(deadline.timeout)
    capped = timeout is None or left <= timeout
    try:
        return operation(left if capped else timeout)
    except timeouts:
        if capped:
            # The operation ran out of the request's time, not of its own: the exchange is what took too long.
            raise too_slow(deadline.timeout) from None
        raise


# -- httpx, through httpcore's network backend ----------------------------------------------------------------

_HTTPCORE_TIMEOUTS = (httpcore.TimeoutException,)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _bounded(lambda left: self._inner.read(max_bytes, left), timeout, _HTTPCORE_TIMEOUTS)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _bounded(lambda left: self._inner.write(buffer, left), timeout, _HTTPCORE_TIMEOUTS)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            _bounded(
                lambda left: self._inner.start_tls(ssl_context, server_hostname, left), timeout, _HTTPCORE_TIMEOUTS
            )
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's standard network backend, with every operation ending by the current request's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = _bounded(
            lambda left: self._inner.connect_tcp(host, port, left, local_address, socket_options),
            timeout,
            _HTTPCORE_TIMEOUTS,
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        stream = _bounded(
            lambda left: self._inner.connect_unix_socket(path, left, socket_options), timeout, _HTTPCORE_TIMEOUTS
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


# -- requests, through urllib3's connection pools ---------------------------------------------------------------


class _DeadlineReader(io.RawIOBase):
    """The socket file http.client reads an answer from (status line, headers, body), each read capped."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock
        # A SocketIO, as http.client's own file is: it holds a reference, so the socket lives until this is closed.
        self._file = sock.makefile("rb", buffering=0)
        # The read timeout urllib3 has just set on the socket.
        self._timeout = sock.gettimeout()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:  # any writable buffer, as io.RawIOBase.readinto takes
        def read(timeout: float | None) -> int | None:
            self._sock.settimeout(timeout)
            try:
                return self._file.readinto(buffer)
            finally:
                # The next request on this connection is sent under urllib3's timeout, not this one's remainder.
                self._sock.settimeout(self._timeout)

        return _bounded(read, self._timeout, (TimeoutError,))

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
        super().close()


class _DeadlineSocket:
    """All http.client's response asks of its socket: a file to read, here one whose reads are capped."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock))


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(cast(socket.socket, _DeadlineSocket(sock)), *args, **kwargs)


_Connection = TypeVar("_Connection", "BaseHTTPConnection", "BaseHTTPSConnection")


def _bounded_connection(connection: _Connection) -> _Connection:
    # An instance attribute, not a connection class of our own: vcrpy swaps urllib3's connection classes for its
    # stubs while a cassette is in use, and a class of ours would bypass it. A recording stub passes the attribute on
    # to the real connection it wraps, so recordings are bounded too.
    connection.response_class = _DeadlineResponse  # type: ignore[attr-defined]
    return connection


class _DeadlineHTTPPool(HTTPConnectionPool):
    def _new_conn(self) -> BaseHTTPConnection:
        return _bounded_connection(super()._new_conn())


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    def _new_conn(self) -> BaseHTTPSConnection:
        return _bounded_connection(super()._new_conn())


def bound_pool_manager(manager: urllib3.PoolManager) -> None:
    """Make the connections of ``manager`` read every answer within the current request's deadline."""
    manager.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}
