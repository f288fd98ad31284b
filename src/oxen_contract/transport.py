"""Where every request the suite sends leaves the process: one guard, one deadline, no redirect, no key in sight.

Three clients talk to the hub: the suite's httpx client, schemathesis (through ``requests``) and the OpenAI SDK
(through httpx). Each is built on what this module gives (``guarded_httpx_client``, ``guarded_session``), so that:

- no request follows a redirect: a 3xx is an answer, judged like any other (it is not a documented status);
- ``RequestGuard`` sees each request as it goes out, after any redirect handling a library might still do, and
  refuses a DELETE of any model the run may not delete, a request to another origin, and a deploy past the
  run's allowance;
- ``--request-timeout`` bounds the whole exchange, body included (a server that drips a byte at a time is cut
  off), and a body larger than ``MAX_BODY_BYTES`` is cut off too; after an operation's first timeout, its later
  requests fail at once instead of waiting again;
- the key lives in an ``ApiKey``, whose ``repr`` and ``str`` are redacted, and reaches a header only inside the
  auth hook, at the last moment, so no traceback mode (``--showlocals``, ``--full-trace``) can print it.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Collection, Generator, Iterable, Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import requests
import requests.adapters
import urllib3.response

from .redaction import ApiKey
from .retries import RequestBudget, send_with_retries

__all__ = [
    "MAX_BODY_BYTES",
    "AnswerTooLarge",
    "ApiKey",
    "BearerAuth",
    "DeadlineExceeded",
    "RequestGuard",
    "UnsafeRequest",
    "guarded_httpx_client",
    "guarded_session",
]

MAX_BODY_BYTES = 10 * 1024 * 1024
MODELS_PREFIX = "/api/ai/models/"
# Both documented deploy routes: a POST here costs money on a real hub.
DEPLOY_ROUTE = re.compile(r"^/api/repos/[^/]+/[^/]+/fine_tunes/[^/]+(?:/checkpoints/[^/]+)?/deploy/?$")
_CHUNK = 64 * 1024


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


class UnsafeRequest(RuntimeError):
    """The suite was about to send a request it must never send; it was not sent."""


class DeadlineExceeded(Exception):
    """The whole exchange took longer than --request-timeout (or the operation already stalled once)."""

    def __init__(self, message: str, *, fast: bool = False) -> None:
        super().__init__(message)
        self.fast = fast


class AnswerTooLarge(Exception):
    """The answer's body passed MAX_BODY_BYTES and was cut off."""


class RequestGuard:
    """Decides, for each request about to leave, whether it may; counts deploys; remembers stalled operations.

    ``may_delete`` answers the ids the run may delete right now (verified disposable models); ``allow_once`` lets a
    protection probe try one DELETE it expects the hub to refuse.
    """

    def __init__(
        self,
        hub_url: str,
        may_delete: Callable[[], Collection[str]] = frozenset,
        *,
        max_deploys: int = 0,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(hub_url)
        self.origin = (parts.scheme, parts.hostname, parts.port)
        self.hub_url = hub_url
        self.may_delete = may_delete
        self.max_deploys = max_deploys
        self.timeout = timeout
        self.deploy_posts = 0
        self.stalled: set[str] = set()
        self._probing: set[str] = set()
        self._lock = threading.Lock()

    def check(self, method: str, url: str) -> None:
        """Raise UnsafeRequest unless ``method url`` may leave the process now."""
        parts = urlsplit(url)
        if (parts.scheme, parts.hostname, parts.port) != self.origin:
            raise UnsafeRequest(f"refusing to send {method} {parts.scheme}://{parts.netloc}{parts.path}: not the hub")
        method = method.upper()
        if method == "DELETE":
            self._check_delete(parts.path)
        elif method == "POST" and DEPLOY_ROUTE.match(parts.path):
            with self._lock:
                if self.deploy_posts >= self.max_deploys:
                    raise UnsafeRequest(
                        f"refusing to send POST {parts.path}: {self.deploy_posts} deploy(s) sent, the run may send "
                        f"{self.max_deploys} (--max-provisions)"
                    )
                self.deploy_posts += 1

    def _check_delete(self, path: str) -> None:
        segment = path[len(MODELS_PREFIX) :] if path.startswith(MODELS_PREFIX) else None
        # surrogateescape: the inverse of model_path, so an id that is not UTF-8 is compared as it was sent.
        model_id = unquote(segment, errors="surrogateescape") if segment and "/" not in segment else None
        if model_id is None or model_id in (".", ".."):
            raise UnsafeRequest(f"refusing to send DELETE {path}: it names no single model")
        if model_id not in self._probing and model_id not in self.may_delete():
            raise UnsafeRequest(f"refusing to send DELETE {path}: this run did not provision {model_id!r}")

    @contextlib.contextmanager
    def allow_once(self, model_id: str) -> Iterator[None]:
        """Let a protection probe send a DELETE of ``model_id`` (one it expects the hub to refuse)."""
        self._probing.add(model_id)
        try:
            yield
        finally:
            self._probing.discard(model_id)

    def before(self, operation: str | None) -> float:
        """The deadline of a request of ``operation``; fails fast if that operation already stalled this run."""
        if operation and operation in self.stalled:
            raise DeadlineExceeded(
                f"{operation} already got no answer within {self.timeout:g} s in this run: not waiting again",
                fast=True,
            )
        return time.monotonic() + self.timeout

    def stalled_on(self, operation: str | None) -> None:
        if operation:
            self.stalled.add(operation)


def _too_slow(guard: RequestGuard) -> DeadlineExceeded:
    return DeadlineExceeded(f"the whole answer did not arrive within {guard.timeout:g} s (--request-timeout)")


def _read_within(chunks: Iterable[bytes], deadline: float, guard: RequestGuard) -> bytes:
    body = bytearray()
    for chunk in chunks:
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise AnswerTooLarge(f"the answer's body passed {MAX_BODY_BYTES} bytes and was cut off")
        if time.monotonic() > deadline:
            raise _too_slow(guard)
    return bytes(body)


# -- httpx (the suite's client, the OpenAI SDK) -----------------------------------------------------------------


class _GuardedTransport(httpx.BaseTransport):
    def __init__(self, guard: RequestGuard, inner: httpx.BaseTransport, budget: RequestBudget | None) -> None:
        self.guard = guard
        self._inner = inner
        self._budget = budget

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._budget is None:
            return self._once(request)
        # For a client that has no retry loop of its own (the OpenAI SDK's, with max_retries=0): the run's.
        return send_with_retries(
            lambda: self._once(request),
            lambda answer: answer.status_code,
            lambda answer: answer.headers,
            budget=self._budget,
            sleep=time.sleep,
            label=f"{request.method} {request.url}",
        )

    def _once(self, request: httpx.Request) -> httpx.Response:
        operation = request.extensions.get("oxen_operation")
        deadline = self.guard.before(operation)
        self.guard.check(request.method, str(request.url))
        response = self._inner.handle_request(request)
        try:
            assert isinstance(response.stream, httpx.SyncByteStream)
            body = _read_within(response.stream, deadline, self.guard)
        finally:
            response.close()
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, extensions=response.extensions
        )

    def close(self) -> None:
        self._inner.close()


class _NoRedirectClient(httpx.Client):
    """An httpx client that never follows a redirect, whatever its caller asks (the OpenAI SDK asks for it)."""

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        kwargs["follow_redirects"] = False
        return super().send(request, **kwargs)


def guarded_httpx_client(guard: RequestGuard, *, budget: RequestBudget | None = None) -> httpx.Client:
    """An httpx client whose every request passes the guard and the deadline, and that follows no redirect.

    With ``budget``, each request also goes through the run's retry loop and request budget (send_with_retries).
    """
    inner = httpx.HTTPTransport()
    # Each socket read is bounded by the timeout too, so a read that never returns cannot outlive the deadline by much.
    return _NoRedirectClient(
        transport=_GuardedTransport(guard, inner, budget),
        timeout=guard.timeout,
        follow_redirects=False,
        trust_env=False,
    )


# -- requests (schemathesis) -------------------------------------------------------------------------------------


class _GuardedAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, guard: RequestGuard) -> None:
        super().__init__(max_retries=0)
        self.guard = guard

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any
    ) -> requests.Response:
        # The fuzzer names the operation in a header that never leaves the process.
        operation = request.headers.pop("X-Oxen-Operation", None)
        deadline = self.guard.before(str(operation) if operation else None)
        self.guard.check(str(request.method), str(request.url))
        response = super().send(request, stream=True, **kwargs)
        try:
            response._content = _read_within(_raw_chunks(response), deadline, self.guard)
        finally:
            response.close()
        return response


def _raw_chunks(response: requests.Response) -> Iterator[bytes]:
    raw = response.raw
    if not isinstance(raw, urllib3.response.HTTPResponse):
        # vcrpy's replayed answer: the whole body is at hand.
        yield raw.read()
        return
    if raw.chunked and raw.supports_chunked_reads():
        yield from raw.read_chunked(decode_content=True)
        return
    while True:
        # read1 answers with whatever has arrived, so the deadline is checked between drips.
        chunk = raw.read1(_CHUNK, decode_content=True)
        if not chunk:
            return
        yield chunk


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
