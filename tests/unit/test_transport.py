"""transport.py: what may leave the process, how long an exchange may take, and that the key never shows."""

from __future__ import annotations

import base64
import gzip
import json
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from oxen_contract.checking.contract_failure import HubTimeout
from oxen_contract.checking.contracts import load_contract
from oxen_contract.checking.exchange import Credential
from oxen_contract.clients.client import HubClient
from oxen_contract.clients.openai_compat import openai_client
from oxen_contract.http import transport
from oxen_contract.http.deadline import DeadlineExceeded
from oxen_contract.http.guard import RequestGuard
from oxen_contract.http.redaction import ApiKey
from oxen_contract.http.retries import HubUnavailable, RequestBudget
from oxen_contract.http.transport import (
    AnswerTooLarge,
    BearerAuth,
    Sending,
    guarded_httpx_client,
    guarded_session,
    translated_errors,
)

HUB = "http://hub.test"
MINE = "alice:sandbox/ft-1-7"
VICTIM = "alice:sandbox/ft-1-prod"


def _guard(url: str = HUB, **kwargs: Any) -> RequestGuard:
    return RequestGuard(url, lambda: {MINE}, **kwargs)


def test_api_key_never_shows_itself() -> None:
    key = ApiKey("sk-secret", "$OXEN_API_KEY")
    auth = BearerAuth(key)
    for text in (repr(key), str(key), repr(auth), f"{key}", repr({"k": key})):
        assert "sk-secret" not in text
    assert key.redact("echo sk-secret") == "echo $OXEN_API_KEY"


@contextmanager
def _raw_hub(answer: bytes, pause: float = 0.0) -> Iterator[str]:
    """A loopback server that answers every request with ``answer`` as it is, a byte every ``pause`` seconds.

    Written on a plain socket: an HTTP server library would not send a status line or headers a byte at a time, nor
    a malformed status line.
    """
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def answer_one(connection: socket.socket) -> None:
        with connection:
            request = b""
            while b"\r\n\r\n" not in request:
                received = connection.recv(65536)
                if not received:
                    return
                request += received
            for start in range(0, len(answer), 1 if pause else len(answer)):
                if stop.is_set():
                    return
                try:
                    connection.sendall(answer[start : start + (1 if pause else len(answer))])
                except OSError:
                    return  # the client gave up: what this server is for
                time.sleep(pause)

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=answer_one, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        server.close()


# 40 bytes before the body: a byte every 0.3 s is 12 s, where the timeout is 1 s.
SLOW_HEADERS = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"


def _get_through(client_kind: str, url: str, guard: RequestGuard) -> None:
    """One GET of the model list through one of the run's three clients."""
    if client_kind == "httpx":
        with guarded_httpx_client(guard) as client:
            client.get(f"{url}/api/ai/models")
    elif client_kind == "requests":
        with guarded_session(guard) as session:
            session.get(f"{url}/api/ai/models", timeout=guard.timeout)
    else:
        with openai_client(url, ApiKey("sk-secret", "$OXEN_API_KEY"), guard, RequestBudget(None)) as sdk:
            sdk.models.list()


@pytest.mark.parametrize("client_kind", ["httpx", "requests", "openai-sdk"])
def test_a_hub_dripping_its_status_line_and_headers_is_cut_off_at_about_the_timeout(client_kind: str) -> None:
    # The SDK's transport hands the suite's own error on; the other two clients' callers translate (HubClient.send,
    # Sender.call).
    error = HubTimeout if client_kind == "openai-sdk" else DeadlineExceeded
    # Its text names the rule in words, read from the contract once per process: before the clock starts.
    load_contract().rules()
    with _raw_hub(SLOW_HEADERS, pause=0.3) as url:
        guard = _guard(url, timeout=1.0)
        started = time.monotonic()
        with pytest.raises(error, match="whole answer did not arrive within 1 s"):
            _get_through(client_kind, url, guard)
        assert time.monotonic() - started < 2.0


def _listing(url: str) -> Sending:
    return Sending("listModels", "GET", f"{url}/api/ai/models", None, Credential.KEY)


@pytest.mark.parametrize("client_kind", ["httpx", "requests", "openai-sdk"])
def test_a_timeout_through_any_client_is_a_timeout_failure_of_its_operation_whose_later_requests_fail_fast(
    client_kind: str,
) -> None:
    with _raw_hub(SLOW_HEADERS, pause=0.3) as url:
        guard = _guard(url, timeout=0.5)
        with pytest.raises(HubTimeout) as timeout, translated_errors(_listing(url), guard):
            _get_through(client_kind, url, guard)
    assert (timeout.value.exchange.operation, timeout.value.exchange.path) == ("listModels", "/api/ai/models")
    assert [finding.clause for finding in timeout.value.findings] == ["rule:answers-in-time"]
    assert guard.stalled == {"listModels"}


def test_a_request_that_fails_fast_after_a_stall_is_a_timeout_failure_too() -> None:
    guard = _guard(timeout=0.5)
    guard.stalled_on("listModels")
    with pytest.raises(HubTimeout, match="already got no answer within 0.5 s"), translated_errors(_listing(HUB), guard):
        guard.before("listModels")


def _refusing_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("client_kind", "says"),
    [("httpx", "ConnectError: "), ("requests", "ConnectionError"), ("openai-sdk", "ConnectError: ")],
)
def test_a_refused_connection_through_any_client_is_hub_unavailable_naming_the_request(
    client_kind: str, says: str
) -> None:
    url = _refusing_port()
    with pytest.raises(HubUnavailable) as unavailable, translated_errors(_listing(url), _guard(url)):
        _get_through(client_kind, url, _guard(url))
    assert str(unavailable.value).startswith(f"GET {url}/api/ai/models: {says}")
    assert unavailable.value.request == ("listModels", "GET", f"{url}/api/ai/models", Credential.KEY)


def test_the_sdk_s_retrieve_is_named_as_the_suite_s_client_names_it() -> None:
    with _raw_hub(SLOW_HEADERS, pause=0.3) as url:
        guard = _guard(url, timeout=0.5)
        key = ApiKey("sk-secret", "$OXEN_API_KEY")
        with openai_client(url, key, guard, RequestBudget(None)) as sdk, pytest.raises(HubTimeout) as timeout:
            sdk.models.retrieve(MINE)
    exchange = timeout.value.exchange
    assert (exchange.operation, exchange.method, exchange.model_id) == ("retrieveModel", "GET", MINE)
    assert guard.stalled == {"retrieveModel"}


def test_requests_sent_from_two_threads_at_once_each_keep_their_own_deadline() -> None:
    took: dict[float, float] = {}
    errors: list[Exception] = []

    def send(timeout: float) -> None:
        started = time.monotonic()
        try:
            _get_through("httpx", url, _guard(url, timeout=timeout))
        except DeadlineExceeded:
            took[timeout] = time.monotonic() - started
        except Exception as error:
            errors.append(error)  # handed to the test's own thread, which fails on it

    with _raw_hub(SLOW_HEADERS, pause=0.3) as url:
        threads = [threading.Thread(target=send, args=(timeout,)) for timeout in (0.6, 2.0)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(15)
    assert errors == []
    assert took[0.6] < 1.4
    assert 1.9 < took[2.0] < 3.0  # not cut at the other thread's deadline


@pytest.mark.parametrize("client_kind", ["httpx", "requests"])
def test_a_keep_alive_connection_is_reused_by_the_next_request(serve: Any, client_kind: str) -> None:
    async def port(request: Request) -> Response:
        assert request.client is not None
        return JSONResponse({"port": request.client.port})

    with serve(Starlette(routes=[Route("/api/ai/models", port)])) as url:
        if client_kind == "httpx":
            with guarded_httpx_client(_guard(url)) as client:
                ports = [client.get(f"{url}/api/ai/models").json()["port"] for _ in range(2)]
        else:
            with guarded_session(_guard(url)) as session:
                ports = [session.get(f"{url}/api/ai/models").json()["port"] for _ in range(2)]
    assert ports[0] == ports[1]


def _redirecting_hub(hits: list[str]) -> Starlette:
    async def delete(request: Request) -> Response:
        hits.append(request.path_params["id"])
        if request.path_params["id"] == MINE:
            return Response(status_code=307, headers={"Location": f"/api/ai/models/{VICTIM.replace('/', '%2F')}"})
        return JSONResponse({"id": request.path_params["id"]})

    return Starlette(routes=[Route("/api/ai/models/{id:path}", delete, methods=["DELETE"])])


def test_httpx_client_follows_no_redirect_and_the_victim_is_never_reached(serve: Any) -> None:
    hits: list[str] = []
    with serve(_redirecting_hub(hits)) as url, guarded_httpx_client(_guard(url)) as client:
        answer = client.delete(f"{url}/api/ai/models/alice%3Asandbox%2Fft-1-7", follow_redirects=True)
    assert answer.status_code == 307
    assert answer.headers["location"].endswith("ft-1-prod")
    assert hits == [MINE]


def test_requests_session_follows_no_redirect_and_the_victim_is_never_reached(serve: Any) -> None:
    hits: list[str] = []
    with serve(_redirecting_hub(hits)) as url, guarded_session(_guard(url)) as session:
        answer = session.delete(f"{url}/api/ai/models/alice%3Asandbox%2Fft-1-7", allow_redirects=True)
    assert answer.status_code == 307
    assert hits == [MINE]


def _dripping_app(chunks: int, pause: float) -> Starlette:
    async def drip(_: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            import anyio

            for _ in range(chunks):
                yield b"x"
                await anyio.sleep(pause)

        return StreamingResponse(body(), media_type="application/json")

    return Starlette(routes=[Route("/api/ai/models", drip)])


@pytest.mark.parametrize("client_kind", ["httpx", "requests"])
def test_a_dripping_answer_is_cut_off_at_about_the_timeout_not_after_the_whole_body(
    serve: Any, client_kind: str
) -> None:
    with serve(_dripping_app(chunks=40, pause=0.1)) as url:
        guard = _guard(url, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded, match="whole answer did not arrive within 0.5 s"):
            if client_kind == "httpx":
                with guarded_httpx_client(guard) as client:
                    client.get(f"{url}/api/ai/models")
            else:
                with guarded_session(guard) as session:
                    session.get(f"{url}/api/ai/models", timeout=0.5)
        assert time.monotonic() - started < 2.0  # the whole body would take 4 s


@pytest.mark.parametrize("client_kind", ["httpx", "requests"])
def test_a_body_past_the_size_cap_is_cut_off(serve: Any, client_kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "MAX_BODY_BYTES", 1000)

    async def big(_: Request) -> Response:
        return Response(b"x" * 5000, media_type="application/json")

    with serve(Starlette(routes=[Route("/api/ai/models", big)])) as url, pytest.raises(AnswerTooLarge):
        if client_kind == "httpx":
            with guarded_httpx_client(_guard(url)) as client:
                client.get(f"{url}/api/ai/models")
        else:
            with guarded_session(_guard(url)) as session:
                session.get(f"{url}/api/ai/models")


COMPRESS = {"gzip": gzip.compress, "deflate": zlib.compress}


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("encoding", list(COMPRESS))
@pytest.mark.parametrize("client_kind", ["httpx", "requests"])
def test_a_compressed_answer_is_cut_off_by_its_decoded_size_in_bounded_memory(
    serve: Any, client_kind: str, encoding: str, framing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cap = 1024 * 1024
    monkeypatch.setattr(transport, "MAX_BODY_BYTES", cap)
    # 64 MB once decoded, 64 KB on the wire: well under the cap as it arrives.
    packed = COMPRESS[encoding](b"x" * (64 * cap))

    async def bomb(_: Request) -> Response:
        headers = {"Content-Encoding": encoding}
        if framing == "chunked":

            async def one_chunk() -> AsyncIterator[bytes]:
                yield packed

            return StreamingResponse(one_chunk(), headers=headers, media_type="application/json")
        return Response(packed, headers=headers, media_type="application/json")

    with serve(Starlette(routes=[Route("/api/ai/models", bomb)])) as url:
        tracemalloc.start()
        try:
            with pytest.raises(AnswerTooLarge):
                _get_through(client_kind, url, _guard(url))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 4 * cap


def test_a_compressed_answer_is_handed_on_decoded_once_and_no_longer_says_it_is_compressed(serve: Any) -> None:
    body = json.dumps({"object": "list", "data": []}).encode()

    async def packed(_: Request) -> Response:
        return Response(gzip.compress(body), headers={"Content-Encoding": "gzip"}, media_type="application/json")

    with serve(Starlette(routes=[Route("/api/ai/models", packed)])) as url:
        client = HubClient(url, {}, guard=_guard(url))
        exchange = client.list(credential=Credential.NONE)
        client.close()
    assert exchange.text == body.decode()
    assert "content-encoding" not in exchange.headers
    assert exchange.headers["content-length"] == str(len(body))


# A key with the characters JSON, URLs and base64 spell differently.
ECHOED_KEY = "sk-live/Ab+cD/0123456789"


def _echoing_hub() -> Starlette:
    """A hub whose debug output repeats the request's Authorization: in a body, JSON-escaped, and in headers."""

    async def echo(request: Request) -> Response:
        authorization = request.headers.get("authorization", "")
        token = authorization.partition(" ")[2]
        basic = base64.b64encode(f"user:{token}".encode()).decode()
        # A JSON encoder that writes "/" as "\/", as PHP's and some Java ones do.
        body = json.dumps({"error": "boom", "debug": {"authorization": authorization, "basic": f"Basic {basic}"}})
        return Response(
            body.replace("/", "\\/"),
            status_code=500,
            media_type="application/json",
            headers={"X-Debug-Authorization": authorization, "X-Debug-Basic": f"Basic {basic}"},
        )

    return Starlette(routes=[Route("/api/ai/models", echo)])


REDACTED_ECHO = {
    "error": "boom",
    "debug": {"authorization": "Bearer $OXEN_API_KEY", "basic": "Basic $OXEN_API_KEY"},
}


def test_a_hub_echoing_the_key_in_any_spelling_shows_only_its_label_through_the_hub_client(serve: Any) -> None:
    key = ApiKey(ECHOED_KEY, "$OXEN_API_KEY")
    with serve(_echoing_hub()) as url:
        client = HubClient(url, {Credential.KEY: key}, guard=_guard(url))
        exchange = client.list()
        client.close()
    assert exchange.json() == REDACTED_ECHO
    assert exchange.headers["x-debug-authorization"] == "Bearer $OXEN_API_KEY"
    assert exchange.headers["x-debug-basic"] == "Basic $OXEN_API_KEY"


def test_a_hub_echoing_the_key_in_any_spelling_shows_only_its_label_through_the_requests_session(serve: Any) -> None:
    key = ApiKey(ECHOED_KEY, "$OXEN_API_KEY")
    with serve(_echoing_hub()) as url, guarded_session(_guard(url, keys=[key])) as session:
        answer = session.get(f"{url}/api/ai/models", auth=BearerAuth(key))
    assert answer.json() == REDACTED_ECHO
    # schemathesis reads the raw headers, the rest of the run answer.headers.
    for headers in (answer.headers, answer.raw.headers):
        assert headers["X-Debug-Authorization"] == "Bearer $OXEN_API_KEY"
        assert headers["X-Debug-Basic"] == "Basic $OXEN_API_KEY"


@pytest.mark.parametrize("client_kind", ["httpx", "requests"])
def test_a_key_in_the_status_line_shows_only_its_label_in_the_reason_and_in_a_protocol_error(client_kind: str) -> None:
    guard_keys = [ApiKey(ECHOED_KEY, "$OXEN_API_KEY")]
    answers = (
        f"HTTP/1.1 500 {ECHOED_KEY}\r\nContent-Length: 2\r\n\r\n{{}}".encode(),
        f"{ECHOED_KEY} is no status line\r\n\r\n".encode(),
    )
    with _raw_hub(answers[0]) as reasoned, _raw_hub(answers[1]) as broken:
        if client_kind == "httpx":
            with guarded_httpx_client(_guard(reasoned, keys=guard_keys)) as client:
                assert client.get(f"{reasoned}/api/ai/models").reason_phrase == "$OXEN_API_KEY"
            with guarded_httpx_client(_guard(broken, keys=guard_keys)) as client:
                with pytest.raises(httpx.RemoteProtocolError) as failure:
                    client.get(f"{broken}/api/ai/models")
        else:
            with guarded_session(_guard(reasoned, keys=guard_keys)) as session:
                assert session.get(f"{reasoned}/api/ai/models").reason == "$OXEN_API_KEY"
            with guarded_session(_guard(broken, keys=guard_keys)) as session:
                with pytest.raises(requests.ConnectionError) as failure:
                    session.get(f"{broken}/api/ai/models")
    assert ECHOED_KEY not in str(failure.value)
    assert "$OXEN_API_KEY is no status line" in str(failure.value)


def test_the_key_reaches_the_wire_through_the_auth_hook(serve: Any) -> None:
    seen: list[str] = []

    async def echo(request: Request) -> Response:
        seen.append(request.headers.get("authorization", ""))
        return JSONResponse({})

    key = ApiKey("sk-secret", "$OXEN_API_KEY")
    with serve(Starlette(routes=[Route("/api/ai/models", echo)])) as url:
        with guarded_httpx_client(_guard(url)) as client:
            request = client.build_request("GET", f"{url}/api/ai/models")
            assert "sk-secret" not in repr(request.headers)
            client.send(request, auth=BearerAuth(key))
        with guarded_session(_guard(url)) as session:
            session.get(f"{url}/api/ai/models", auth=BearerAuth(key))
    assert seen == ["Bearer sk-secret", "Bearer sk-secret"]
