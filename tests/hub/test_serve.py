"""LocalHub: a real uvicorn server in a thread, and what only a real server shows (concurrency, raw bytes)."""

from __future__ import annotations

import socket
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest

from oxen_contract.hub import LocalHub
from oxen_contract.hub.serve import bind

from ._helpers import ALICE, DEPLOY, MODELS, TOKENS, model_path


def _deploy(client: httpx.Client) -> str:
    model_id: str = client.post(DEPLOY.format(owner="alice"), headers=ALICE).json()["deployment"]["model_slug"]
    return model_id


def _race_deletes(urls: list[str], model_id: str) -> list[int]:
    """Send one delete of the model to each URL at the same moment; answer the statuses."""
    barrier = threading.Barrier(len(urls))
    statuses: list[int] = []

    def delete(url: str) -> None:
        with httpx.Client(base_url=url) as client:
            barrier.wait()
            statuses.append(client.delete(model_path(model_id), headers=ALICE).status_code)

    threads = [threading.Thread(target=delete, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(statuses)


def _raw_get(url: str, target: bytes) -> bytes:
    """The whole answer to one GET, bytes as they came over the wire."""
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-alice\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_local_hub_serves_on_a_free_loopback_port() -> None:
    with LocalHub(TOKENS, deterministic=True) as hub:
        assert hub.url.startswith("http://127.0.0.1:")
        response = httpx.get(hub.url + MODELS, headers=ALICE)
        assert response.status_code == 200
        assert response.headers["date"] == "Thu, 01 Jan 2026 00:00:00 GMT"
        deployed = httpx.post(hub.url + DEPLOY.format(owner="alice"), headers=ALICE).json()
        assert deployed["deployment"]["endpoint"] == f"{hub.url}/api/ai/chat/completions"


@pytest.mark.parametrize("deterministic", [True, False])
def test_an_answer_over_the_wire_carries_exactly_one_date_header(deterministic: bool) -> None:
    with LocalHub(TOKENS, deterministic=deterministic) as hub:
        head = _raw_get(hub.url, MODELS.encode()).split(b"\r\n\r\n", 1)[0].lower()
    dates = [line for line in head.split(b"\r\n") if line.startswith(b"date:")]
    assert len(dates) == 1
    assert dates[0].endswith(b" gmt")


def test_two_concurrent_deletes_of_one_model_give_one_200_and_one_404() -> None:
    with LocalHub(TOKENS) as hub, httpx.Client(base_url=hub.url) as client:
        for _ in range(10):
            assert _race_deletes([hub.url, hub.url], _deploy(client)) == [200, 404]


def test_two_hubs_sharing_one_db_file_still_delete_exactly_once(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.sqlite")
    with LocalHub(TOKENS, db_path=db) as one, LocalHub(TOKENS, db_path=db) as two:
        with httpx.Client(base_url=one.url) as client:
            for _ in range(10):
                assert _race_deletes([one.url, two.url], _deploy(client)) == [200, 404]


@pytest.mark.parametrize(
    "target",
    [b"/api/ai/models/%ff", b"/api/ai/models/%00", b"/api/ai/models/%2F%2F..%2F", b"/api/ai/models/" + b"x" * 10_000],
)
def test_raw_request_targets_get_json_answers_over_the_wire(target: bytes) -> None:
    with LocalHub(TOKENS) as hub:
        answer = _raw_get(hub.url, target)
    assert answer.startswith(b"HTTP/1.1 404 ")
    assert b"content-type: application/json" in answer
    assert b'"resource_not_found"' in answer


def test_a_malformed_header_is_refused_by_the_server_not_crashed() -> None:
    with LocalHub(TOKENS) as hub:
        host, port = hub.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /api/ai/models HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert httpx.get(hub.url + MODELS, headers=ALICE).status_code == 200


def test_the_listening_socket_lets_asyncio_disable_nagle() -> None:
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_sequential_answers_do_not_wait_for_a_delayed_ack() -> None:
    with LocalHub(TOKENS) as hub, httpx.Client(base_url=hub.url) as client:
        client.get(MODELS, headers=ALICE)
        timings = []
        for _ in range(9):
            started = time.perf_counter()
            client.get(model_path("gpt-4o"), headers=ALICE)
            timings.append(time.perf_counter() - started)
    # A delayed ACK costs about 40 ms per answer; a healthy loopback answer takes a few.
    assert statistics.median(timings) < 0.030
