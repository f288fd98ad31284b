"""Where every request the suite sends leaves the process: one guard, one deadline, no redirect, no key in sight.

Three clients talk to the hub: the suite's httpx client, schemathesis (through ``requests``) and the OpenAI SDK
(through httpx). Each is built on what this module gives (``guarded_httpx_client``, ``guarded_session``), so that:

- no request follows a redirect: a 3xx is an answer, judged like any other (it is not a documented status);
- ``RequestGuard`` (``guard.py``) sees each request as it goes out, after any redirect handling a library might
  still do, and lets through only the routes the suite knows, relative to the hub URL's path;
- ``--request-timeout`` bounds the whole exchange, connect, status line, headers and body (``deadline.py``: a
  server that drips a byte at a time is cut off), and a body that passes ``MAX_BODY_BYTES`` once decoded (gzip,
  deflate) is cut off too, so an answer never takes much more memory than that; after an operation's first
  timeout, its later requests fail at once instead of waiting again;
- the hub's answer is redacted where it enters the run (``redaction.py``): every spelling of the run's keys in its
  body, headers and reason becomes the key's label, before the client, schemathesis's checks, failure text or a
  report see it;
- the key lives in an ``ApiKey``, whose ``repr`` and ``str`` are redacted, and reaches a header only inside the
  auth hook, at the last moment, so no traceback mode (``--showlocals``, ``--full-trace``) can print it;
- what httpx and requests raise becomes the suite's own errors in one place (``translated_errors``), where every
  client sends each attempt, as httpx's own ``map_exceptions`` does for its backends.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
import requests
import requests.adapters
import requests.structures
import urllib3.response
from urllib3 import HTTPHeaderDict

from ..checking.contract_failure import HubTimeout
from ..checking.failures import OxenContractError
from .deadline import DeadlineBackend, DeadlineExceeded, bound_pool_manager, too_slow, until
from .guard import RequestGuard
from .redaction import ApiKey, Redactor
from .retries import HubUnavailable, RequestBudget, send_with_retries

__all__ = [
    "MAX_BODY_BYTES",
    "AnswerTooLarge",
    "BearerAuth",
    "Sending",
    "guarded_httpx_client",
    "guarded_session",
    "translated_errors",
]

MAX_BODY_BYTES = 10 * 1024 * 1024
_CHUNK = 64 * 1024
# A compressed body is fed to its decoder this much at a time: zlib inflates a byte to at most about 1032 bytes, so
# one decoding step yields at most about 260 KB, and an answer never holds much more than the cap, however it was
# compressed.
_ENCODED_SLICE = 256
# What the clients ask for: encodings whose decoders httpx and urllib3 have whatever is installed, and whose
# expansion per input byte is bounded (see _ENCODED_SLICE). Left to the libraries, it would grow with the packages
# installed (br, zstd).
_ACCEPT_ENCODING = "gzip, deflate"


class BearerAuth(requests.auth.AuthBase, httpx.Auth):
    """Sets ``Authorization`` on the outgoing request, for requests and httpx alike (``scheme`` Bearer or Basic)."""

    def __init__(self, key: ApiKey, scheme: str = "Bearer") -> None:
        self.key = key
        self.scheme = scheme

    def __repr__(self) -> str:
        return f"BearerAuth({self.key.label})"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self.key.authorization(self.scheme)
        return request

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.key.authorization(self.scheme)
        yield request


class AnswerTooLarge(OxenContractError):
    """The answer's body passed MAX_BODY_BYTES, once decoded, and was cut off."""


@dataclass(frozen=True, slots=True)
class Sending:
    """One request as a failure of it names it: the operation, method, URL as sent, model id and credential."""

    operation: str
    method: str
    url: str
    model_id: str | None
    credential: str


@contextlib.contextmanager
def translated_errors(sending: Sending, guard: RequestGuard) -> Iterator[None]:
    """Inside the block, what the HTTP libraries raise for one attempt of ``sending`` becomes the suite's own error.

    No whole answer in time (the deadline, or httpx's or requests' own timeout) or one past the size cap is a
    ``HubTimeout`` of the operation (rule:answers-in-time), and the operation is marked stalled unless it failed fast
    for that very reason; no connection is ``HubUnavailable``, which the verdict sorts into an outage or a route that
    drops its connection.
    """
    try:
        yield
    except (DeadlineExceeded, httpx.TimeoutException, requests.Timeout) as error:
        if not getattr(error, "fast", False):
            guard.stalled_on(sending.operation)
        reason = str(error) if isinstance(error, DeadlineExceeded) else ""
        raise _timeout(sending, guard, reason) from None
    except AnswerTooLarge as error:
        raise _timeout(sending, guard, str(error)) from None
    except httpx.TransportError as error:
        raise _unavailable(sending, f"{type(error).__name__}: {error}") from None
    except requests.ConnectionError as error:
        # requests' text is urllib3's retry summary, which repeats the URL and nests the cause's repr: its type says it.
        raise _unavailable(sending, type(error).__name__) from None


def _timeout(sending: Sending, guard: RequestGuard, reason: str) -> HubTimeout:
    return HubTimeout(
        sending.operation, sending.method, sending.url, sending.model_id, sending.credential, guard.timeout, reason
    )


def _unavailable(sending: Sending, what: str) -> HubUnavailable:
    request = (sending.operation, sending.method, sending.url, sending.credential)
    return HubUnavailable(f"{sending.method} {sending.url}: {what}", request)


def _read_within(chunks: Iterable[bytes], deadline: float, guard: RequestGuard) -> bytes:
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise AnswerTooLarge(f"the answer's body passed {MAX_BODY_BYTES} bytes (decoded) and was cut off")
        # The network reads end by the deadline already (deadline.py); this bounds decoding as well.
        if time.monotonic() > deadline:
            raise too_slow(guard.timeout)
    return bytes(body)


# -- httpx (the suite's client, the OpenAI SDK) -----------------------------------------------------------------

# Headers that describe the body as it came over the wire: the rebuilt answer holds it decoded, and whole.
_WIRE_HEADERS = (b"content-encoding", b"content-length", b"transfer-encoding")


class _DeadlineHTTPTransport(httpx.HTTPTransport):
    """httpx's own transport (the one vcrpy patches), whose connections end every operation by the deadline."""

    def __init__(self) -> None:
        ssl_context = httpx.create_ssl_context()
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
        super().__init__(verify=ssl_context, limits=limits)
        # httpx takes no network backend of its own; its pool is rebuilt, with the same settings, on one that does.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=DeadlineBackend(),
        )


class _Sliced(httpx.SyncByteStream):
    """``inner``'s bytes in slices of at most ``size``, so that one decoding step stays small."""

    def __init__(self, inner: httpx.SyncByteStream, size: int) -> None:
        self._inner = inner
        self._size = size

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            for start in range(0, len(chunk), self._size):
                yield chunk[start : start + self._size]

    def close(self) -> None:
        self._inner.close()


def _decoded(response: httpx.Response) -> Iterator[bytes]:
    """The body as httpx's own decoders give it (its Content-Encoding undone), a bounded step at a time."""
    assert isinstance(response.stream, httpx.SyncByteStream)
    stream = response.stream
    if response.headers.get("content-encoding"):
        stream = _Sliced(stream, _ENCODED_SLICE)
    return httpx.Response(response.status_code, headers=response.headers, stream=stream).iter_bytes()


def _redacted_answer(response: httpx.Response, body: bytes, redactor: Redactor) -> httpx.Response:
    headers = [
        (redactor.redact_bytes(name), redactor.redact_bytes(value))
        for name, value in response.headers.raw
        if name.lower() not in _WIRE_HEADERS
    ]
    extensions = dict(response.extensions)
    reason = extensions.get("reason_phrase")
    if isinstance(reason, bytes):
        extensions["reason_phrase"] = redactor.redact_bytes(reason)
    return httpx.Response(
        response.status_code, headers=headers, content=redactor.redact_bytes(body), extensions=extensions
    )


class _GuardedTransport(httpx.BaseTransport):
    def __init__(
        self,
        guard: RequestGuard,
        inner: httpx.BaseTransport,
        budget: RequestBudget | None,
        sending: Callable[[httpx.Request], Sending] | None,
    ) -> None:
        self.guard = guard
        self._inner = inner
        self._budget = budget
        self._sending = sending

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # A client that has no error translation or retry loop of its own (the OpenAI SDK's, with max_retries=0) gets
        # the run's.
        sending = self._sending(request) if self._sending is not None else None
        # The operation whose stall fails its later requests fast: the suite's client names it in an extension.
        operation = sending.operation if sending is not None else request.extensions.get("oxen_operation")

        def attempt() -> httpx.Response:
            if sending is None:
                return self._once(request, operation)
            with translated_errors(sending, self.guard):
                return self._once(request, operation)

        if self._budget is None:
            return attempt()
        return send_with_retries(
            attempt,
            lambda answer: answer.status_code,
            lambda answer: answer.headers,
            budget=self._budget,
            sleep=time.sleep,
            label=f"{request.method} {request.url}",
        )

    def _once(self, request: httpx.Request, operation: str | None) -> httpx.Response:
        deadline = self.guard.before(operation)
        self.guard.check(request.method, str(request.url))
        redactor = self.guard.redactor
        with until(deadline, self.guard.timeout):
            try:
                response = self._inner.handle_request(request)
                try:
                    body = _read_within(_decoded(response), deadline, self.guard)
                finally:
                    response.close()
            except httpx.TransportError as error:
                # A protocol error may quote what the hub sent (a status line, a header).
                message = redactor.redact(str(error))
                if message == str(error):
                    raise
                raise type(error)(message, request=request) from None
        return _redacted_answer(response, body, redactor)

    def close(self) -> None:
        self._inner.close()


class _NoRedirectClient(httpx.Client):
    """An httpx client that never follows a redirect, whatever its caller asks (the OpenAI SDK asks for it)."""

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        kwargs["follow_redirects"] = False
        return super().send(request, **kwargs)


def guarded_httpx_client(
    guard: RequestGuard,
    *,
    budget: RequestBudget | None = None,
    sending: Callable[[httpx.Request], Sending] | None = None,
) -> httpx.Client:
    """An httpx client whose every request passes the guard and the deadline, and that follows no redirect.

    With ``budget`` and ``sending`` (what a request is, for the failure that names it), each request also goes through
    the run's retry loop and request budget (send_with_retries), and its errors become the suite's own
    (``translated_errors``). Without, the caller does both (the suite's client, in its ``send``).
    """
    return _NoRedirectClient(
        transport=_GuardedTransport(guard, _DeadlineHTTPTransport(), budget, sending),
        # Per operation, below the deadline of the whole exchange.
        timeout=guard.timeout,
        headers={"Accept-Encoding": _ACCEPT_ENCODING},
        follow_redirects=False,
        trust_env=False,
    )


# -- requests (schemathesis) -------------------------------------------------------------------------------------


class _GuardedAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, guard: RequestGuard) -> None:
        super().__init__(max_retries=0)
        self.guard = guard

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        bound_pool_manager(self.poolmanager)

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any
    ) -> requests.Response:
        # The fuzzer names the operation in a header that never leaves the process.
        operation = request.headers.pop("X-Oxen-Operation", None)
        deadline = self.guard.before(str(operation) if operation else None)
        self.guard.check(str(request.method), str(request.url))
        redactor = self.guard.redactor
        with until(deadline, self.guard.timeout):
            try:
                response = super().send(request, stream=True, **kwargs)
                try:
                    body = _read_within(_raw_chunks(response), deadline, self.guard)
                finally:
                    response.close()
            except requests.RequestException as error:
                # As with httpx: the error may quote what the hub sent.
                message = redactor.redact(str(error))
                if message == str(error):
                    raise
                raise type(error)(message, request=request) from None
        _redact_response(response, body, redactor)
        return response


def _raw_chunks(response: requests.Response) -> Iterator[bytes]:
    raw = response.raw
    if not isinstance(raw, urllib3.response.HTTPResponse):
        # vcrpy's replayed answer: the whole body is at hand.
        yield raw.read()
        return
    # urllib3 decodes (decode_content) at most ``amt`` bytes a step: the cap counts decoded bytes, memory stays bounded.
    if raw.chunked and raw.supports_chunked_reads():
        yield from raw.read_chunked(_CHUNK, decode_content=True)
        return
    while True:
        # read1 answers with whatever has arrived, so the deadline is checked between drips.
        chunk = raw.read1(_CHUNK, decode_content=True)
        if not chunk:
            return
        yield chunk


def _redact_response(response: requests.Response, body: bytes, redactor: Redactor) -> None:
    """Put the redacted body, headers and reason where requests and schemathesis read them."""
    response._content = redactor.redact_bytes(body)
    if response.reason:
        response.reason = redactor.redact(response.reason)
    raw_headers = response.raw.headers
    # urllib3's HTTPHeaderDict has each value apart in iteritems(); vcrpy's replayed headers list them in items().
    pairs = raw_headers.iteritems() if hasattr(raw_headers, "iteritems") else raw_headers.items()
    headers = HTTPHeaderDict()
    for name, value in pairs:
        headers.add(redactor.redact(name), redactor.redact(value))
    # schemathesis reads the raw headers (getlist), the rest of the run response.headers, built from them as requests
    # builds it.
    response.raw.headers = headers
    response.headers = requests.structures.CaseInsensitiveDict(headers)


class _NoRedirectSession(requests.Session):
    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None


def guarded_session(guard: RequestGuard) -> requests.Session:
    """A requests session whose every request passes the guard and the deadline, and that follows no redirect."""
    session = _NoRedirectSession()
    session.trust_env = False
    adapter = _GuardedAdapter(guard)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
