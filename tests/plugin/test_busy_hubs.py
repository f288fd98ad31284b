"""A correct hub that is rate-limited or slow is still a correct hub: the suite passes against it.

Staging hubs answer an occasional 429 with Retry-After, and take their time. Both wrap the local reference hub here,
in front of its app, the way a gateway would. A rate-limited hub is run at every --concurrency: each request that
reached it was counted against a budget, and a 429 brought the run down to one request at a time.
"""

from __future__ import annotations

import re
import threading

import anyio
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from oxen_contract.hub import create_app

from ..unit.conftest import _served as _serving
from .conftest import Runner

TOKENS = {"key-a": "alice", "key-b": "bob"}


class RateLimited:
    """Answers every ``every``-th request with 429 and Retry-After: 1, as a gateway in front of the hub would."""

    def __init__(self, app: ASGIApp, every: int) -> None:
        self.app, self.every, self.seen, self.limited = app, every, 0, 0
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self._lock:
            self.seen += 1
            limit = scope["type"] == "http" and self.seen % self.every == 0
            self.limited += limit
        if not limit:
            await self.app(scope, receive, send)
            return
        body = b'{"error": {"message": "Too many requests"}}'
        headers = [(b"content-type", b"application/json"), (b"retry-after", b"1")]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class Slow:
    """Takes ``delay`` seconds more over every answer."""

    def __init__(self, app: ASGIApp, delay: float) -> None:
        self.app, self.delay = app, delay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await anyio.sleep(self.delay)
        await self.app(scope, receive, send)


def _run(run_suite: Runner, url: str, *options: str) -> tuple[int, str]:
    result = run_suite(
        *("tests/contract", "--hub-url", url, "--fine-tune", "alice/sandbox/ft-1", "--allow-protection-probes"),
        *(options or ("--max-provisions", "4")),
        env={"OXEN_API_KEY": "key-a", "OXEN_API_KEY_OTHER": "key-b"},
    )
    return result.returncode, result.stdout + result.stderr


# "sent 290 request(s) to the hub: 286 of --max-requests 400, 4 for cleanup and health probes; at most 4 at once, ..."
_SENT = re.compile(r"sent (\d+) request\(s\) to the hub: (\d+) of --max-requests (\d+), .*; at most (\d+) at once(.*)")


@pytest.mark.parametrize("concurrency", [1, 2, 4])
def test_a_correct_hub_that_answers_one_request_in_50_with_429_passes_within_the_request_budget(
    run_suite: Runner, concurrency: int
) -> None:
    gateway = RateLimited(create_app(TOKENS), every=50)
    with _serving(gateway) as url:
        # A 429 may land on a deploy, which is retried as another deploy: room for a few more than the run needs.
        options = ("--max-provisions", "8", "--max-requests", "400", "--concurrency", str(concurrency))
        status, output = _run(run_suite, url, *options)
    assert gateway.limited >= 4, "the gateway should have rate-limited the run several times"
    assert status == 0, output[-3000:]
    assert "CONTRACT HELD" in output
    found = _SENT.search(output)
    assert found is not None, output[-3000:]
    sent, under_cap, cap, at_once, slowed = found.groups()
    # Every request that reached the hub, retries included, was counted; those under --max-requests stayed within it.
    assert int(sent) == gateway.seen
    assert int(under_cap) <= int(cap) == 400
    assert int(at_once) == concurrency
    assert ("lowered to 1 after a 429" in slowed) == (concurrency > 1)


def test_a_correct_hub_that_takes_30_ms_more_per_answer_passes(run_suite: Runner) -> None:
    # Six times the local hub's own pace, over some 260 answers: slow is not unavailable.
    with _serving(Slow(create_app(TOKENS), delay=0.03)) as url:
        status, output = _run(run_suite, url)
    assert status == 0, output[-3000:]
    assert "CONTRACT HELD" in output


class DropsRetrieve:
    """Drops the connection mid-answer on every retrieve of one model, as a crashing route behind a proxy would."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and scope["method"] == "GET" and path.startswith("/api/ai/models/gpt-"):
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
            raise RuntimeError("the route crashed mid-answer")
        await self.app(scope, receive, send)


def test_a_route_that_drops_its_connection_while_the_hub_answers_is_that_route_s_failure_not_an_outage(
    run_suite: Runner,
) -> None:
    with _serving(DropsRetrieve(create_app(TOKENS))) as url:
        status, output = _run(run_suite, url)
    assert status == 1, output[-3000:]
    assert "rule:no-server-error" in output and "the connection was dropped" in output
    assert "HUB UNAVAILABLE" not in output
