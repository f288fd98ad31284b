"""Lures in what an answer carries: an echoed key in every spelling, a gzip bomb, a head that drips in."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import zlib
from typing import Any

import httpx
import pytest

from oxen_contract.hub import LocalHub, create_app
from oxen_contract.hub.hostile_answers import BOMB_BYTES, gzip_bomb, key_spellings
from oxen_contract.hub.proxy import DRIP_HEAD_HEADER
from oxen_contract.hub.records import Reply

from ._helpers import ALICE, DEPLOY, DEPLOY_CHECKPOINT, MODELS, TOKENS, HubClient, deploy, model_path
from .conftest import MakeClient

# A key as keys can be (token68): its spellings as sent, \/-escaped and percent-encoded all differ.
KEY = "tok/al+ice.9"
AUTH = {"Authorization": f"Bearer {KEY}"}
SPELLINGS = (f"Bearer {KEY}".encode(), b"tok\\/al+ice.9", b"tok%2Fal%2Bice.9", base64.b64encode(f"{KEY}:".encode()))


@pytest.fixture
def echoing() -> Any:
    app = create_app({KEY: "alice", "tok-bob": "bob"}, ["hostile-echo-key"], deterministic=True)
    yield HubClient(app)
    app.state.store.close()


def _without_debug(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_debug(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_debug(item) for key, item in value.items() if key != "debug"}
    return value


# The echoed key ----------------------------------------------------------------------------------------------------


def test_the_key_is_spelled_four_ways() -> None:
    assert key_spellings("Bearer a/b+c") == {
        "authorization": "Bearer a/b+c",
        "authorization_json_escaped": "Bearer a/b+c",
        "authorization_percent_encoded": "Bearer%20a%2Fb%2Bc",
        "authorization_basic": "Basic " + base64.b64encode(b"a/b+c:").decode(),
    }


def test_every_answer_echoes_the_key_in_a_header_and_in_every_spelling_on_the_wire(echoing: HubClient) -> None:
    mine = echoing.post(DEPLOY.format(owner="alice"), headers=AUTH).json()["deployment"]["model_slug"]
    answers = [
        echoing.get(MODELS, headers=AUTH),
        echoing.get(model_path(mine), headers=AUTH),
        echoing.get(model_path("nope"), headers=AUTH),
        echoing.post(DEPLOY_CHECKPOINT.format(owner="alice"), headers=AUTH),
        echoing.delete(model_path(mine), headers=AUTH),
        echoing.request("PUT", MODELS, headers=AUTH),
    ]
    for answer in answers:
        assert answer.headers["x-debug-authorization"] == f"Bearer {KEY}"
        assert all(spelling in answer.content for spelling in SPELLINGS), answer.content[:200]
        # Decoded, the escaped spelling is the key as sent.
        assert set(answer.json()["debug"].values()) >= {f"Bearer {KEY}"}


def test_model_and_list_objects_carry_the_debug_member_and_are_otherwise_as_documented(
    echoing: HubClient, make_client: MakeClient
) -> None:
    # The same namespaces, as crowded, without the echo.
    client = make_client("benign-crowded-namespaces")
    listed = echoing.get(MODELS, headers=AUTH).json()
    assert "debug" in listed and all("debug" in model for model in listed["data"])
    plain = client.get(MODELS, headers=ALICE).json()
    assert _without_debug(listed) == plain
    retrieved = echoing.get(model_path("gpt-4o"), headers=AUTH).json()
    assert _without_debug(retrieved) == client.get(model_path("gpt-4o"), headers=ALICE).json()


def test_search_answers_500_with_a_debug_body(echoing: HubClient) -> None:
    answer = echoing.get(f"{MODELS}/search?search=gpt", headers=AUTH)
    assert answer.status_code == 500
    body = answer.json()
    assert body["error"]["type"] == "unknown_error" and body["debug"]["authorization"] == f"Bearer {KEY}"


def test_a_wrong_key_is_echoed_too_and_a_missing_one_is_not(echoing: HubClient) -> None:
    wrong = echoing.get(MODELS, headers={"Authorization": "Bearer not/the+key"})
    assert wrong.status_code == 401 and wrong.json()["debug"]["authorization"] == "Bearer not/the+key"
    missing = echoing.get(MODELS)
    assert missing.status_code == 401
    assert "x-debug-authorization" not in missing.headers and "debug" not in missing.json()


# The gzip bomb -----------------------------------------------------------------------------------------------------


def test_a_bombed_retrieve_of_a_custom_model_decodes_to_padding_then_the_model(make_client: MakeClient) -> None:
    client = make_client("hostile-gzip-bomb", bomb_bytes=2**20)
    plain = make_client("benign-crowded-namespaces")
    mine, theirs = deploy(client), deploy(plain)
    answer = client.get(model_path(mine), headers=ALICE)
    assert answer.headers["content-encoding"] == "gzip"
    assert int(answer.headers["content-length"]) < 2**14
    assert answer.content == b" " * 2**20 + plain.get(model_path(theirs), headers=ALICE).content
    assert json.loads(answer.content)["id"] == mine


def test_base_models_and_other_answers_are_not_bombed(make_client: MakeClient) -> None:
    client = make_client("hostile-gzip-bomb", bomb_bytes=2**20)
    mine = deploy(client)
    for answer in (
        client.get(model_path("gpt-4o"), headers=ALICE),
        client.get(MODELS, headers=ALICE),
        client.delete(model_path(mine), headers=ALICE),
    ):
        assert "content-encoding" not in answer.headers
        assert len(answer.content) == int(answer.headers["content-length"])


def test_the_default_bomb_is_a_few_hundred_kb_on_the_wire_and_about_400_mb_decoded() -> None:
    wire = gzip_bomb(Reply(200, {"id": "x"})).body
    assert 100_000 < len(wire) < 1_000_000
    decoder = zlib.decompressobj(31)
    decoded, tail = 0, b""
    # Decoded piece by piece, as a careful client would: never the whole of it at once.
    for start in range(0, len(wire), 4096):
        piece = decoder.decompress(wire[start : start + 4096], 2**20)
        while piece:
            decoded += len(piece)
            tail = (tail + piece)[-64:]
            piece = decoder.decompress(decoder.unconsumed_tail, 2**20)
    assert decoded == BOMB_BYTES + len(b'{"id":"x"}') and tail.endswith(b' {"id":"x"}')


# The dripped head --------------------------------------------------------------------------------------------------


def test_only_successful_retrieve_answers_are_marked_for_the_drip_proxy(make_client: MakeClient) -> None:
    client = make_client("hostile-drip-headers")
    marked = client.get(model_path("gpt-4o"), headers=ALICE)
    assert marked.headers[DRIP_HEAD_HEADER] == "1"
    for unmarked in (
        client.get(MODELS, headers=ALICE),
        client.get(f"{MODELS}/search?search=gpt", headers=ALICE),
        client.get(model_path("nope"), headers=ALICE),
    ):
        assert DRIP_HEAD_HEADER.lower() not in unmarked.headers


def _first_bytes(url: str, target: str, count: int) -> tuple[bytes, float]:
    """The first ``count`` bytes of the answer to a GET, and how long they took."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-alice\r\n\r\n".encode())
        received = b""
        while len(received) < count:
            received += sock.recv(count - len(received))
    return received, time.monotonic() - started


def test_over_the_wire_a_retrieve_head_drips_while_other_answers_come_at_once() -> None:
    with LocalHub(TOKENS, ["hostile-drip-headers"]) as hub:
        received, seconds = _first_bytes(hub.url, model_path("gpt-4o"), 4)
        assert received == b"HTTP"
        # Four bytes at 0.4 s each; loose on the upper side, for slow machines.
        assert 4 * 0.4 * 0.8 <= seconds < 4 * 0.4 + 5
        listed, seconds = _first_bytes(hub.url, MODELS, 12)
        assert listed == b"HTTP/1.1 200" and seconds < 1.0


def test_behind_the_drip_proxy_keep_alive_and_concurrent_clients_get_whole_answers() -> None:
    with LocalHub(TOKENS, ["hostile-drip-headers"], drip_seconds=0.001, deterministic=True) as hub:
        results: list[int] = []

        def client() -> None:
            with httpx.Client(base_url=hub.url, timeout=30) as http:
                mine = http.post(DEPLOY.format(owner="alice"), headers=ALICE).json()["deployment"]["model_slug"]
                for path in (model_path(mine), MODELS, model_path("gpt-4o"), model_path(mine)):
                    answer = http.get(path, headers=ALICE)
                    assert answer.status_code == 200 and answer.json()
                    assert DRIP_HEAD_HEADER.lower() not in answer.headers
                    results.append(answer.status_code)
                assert http.delete(model_path(mine), headers=ALICE).status_code == 200
                results.append(http.request("HEAD", MODELS, headers=ALICE).status_code)
                results.append(http.get(MODELS, headers=ALICE).status_code)

        threads = [threading.Thread(target=client) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert results.count(200) == 15 and results.count(405) == 3
        assert len(hub.app.state.audit.deleted_ids()) == 3


def test_a_hub_behind_the_drip_proxy_stops_promptly_mid_drip() -> None:
    hub = LocalHub(TOKENS, ["hostile-drip-headers"], drip_seconds=60).start()
    host, port = hub.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"GET /api/ai/models/gpt-4o HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-alice\r\n\r\n")
        time.sleep(0.2)
        started = time.monotonic()
        hub.stop()
        assert time.monotonic() - started < 5
        # The connection was ended, not left hanging.
        assert sock.recv(100) == b""
