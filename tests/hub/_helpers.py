"""Shared constants and request helpers for the hub's tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import httpx

TOKENS = {"tok-alice": "alice", "tok-bob": "bob"}
ALICE = {"Authorization": "Bearer tok-alice"}
BOB = {"Authorization": "Bearer tok-bob"}
MODELS = "/api/ai/models"
DEPLOY = "/api/repos/{owner}/sandbox/fine_tunes/ft-1/deploy"
DEPLOY_CHECKPOINT = "/api/repos/{owner}/sandbox/fine_tunes/ft-1/checkpoints/1/deploy"


class HubClient:
    """A synchronous client of an in-process app, over httpx's ASGITransport.

    Starlette 1.10's TestClient warns (an error here) unless httpx2 is installed, and the project depends on httpx.
    """

    def __init__(self, app: Any, base_url: str = "http://hub.test") -> None:
        self.app = app
        self.base_url = base_url

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url=self.base_url) as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(send())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


def model_path(model_id: str, action: str = "") -> str:
    """The path of a model, its id percent-encoded as one segment, as clients send it."""
    path = f"{MODELS}/{quote(model_id, safe='')}"
    return f"{path}/{action}" if action else path


def deploy(client: HubClient, headers: dict[str, str] = ALICE, owner: str = "alice") -> str:
    """Deploy the owner's sandbox fine-tune and answer the new model's id."""
    response = client.post(DEPLOY.format(owner=owner), headers=headers)
    assert response.status_code == 200, response.text
    model_id: str = response.json()["deployment"]["model_slug"]
    return model_id


def _scope(method: str, raw_path: bytes, query: bytes, headers: Iterable[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path.decode("latin-1"),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"hub.test"), *headers],
        "server": ("hub.test", 80),
        "client": ("127.0.0.1", 5000),
    }


def asgi(
    app: Any,
    method: str,
    raw_path: bytes,
    query: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes = b"",
) -> tuple[int, dict[bytes, bytes], bytes]:
    """Call the app with exactly these bytes, below any HTTP client that would normalise them."""
    scope = _scope(method, raw_path, query, headers)
    sent: list[dict[str, Any]] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), content


def asgi_body_messages(app: Any, raw_path: bytes, headers: Iterable[tuple[bytes, bytes]] = ()) -> list[bytes]:
    """The body of each message a GET answers with, from a client that stays connected until the end."""
    scope = _scope("GET", raw_path, b"", headers)
    sent: list[dict[str, Any]] = []
    chunks = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if chunks:
            return chunks.pop(0)
        # A streamed answer listens for a disconnect; this client never leaves.
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return [m.get("body", b"") for m in sent if m["type"] == "http.response.body"]
