"""An outage is not a contract failure: unreachable, 502/503/504 and endless 429 give "hub unavailable" (exit 75).

Retries of 429 and 503 honour Retry-After and are bounded; one hanging request stays a contract failure of its
operation; --max-requests caps what a run sends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from oxen_contract.checking.exchange import Credential
from oxen_contract.clients.client import HubClient
from oxen_contract.http.guard import RequestGuard
from oxen_contract.http.redaction import ApiKey
from oxen_contract.http.retries import HubUnavailable, RequestBudget
from oxen_contract.hub.serve import bind, url_of
from oxen_contract.run.verdict import EXIT_HUB_UNAVAILABLE

from .conftest import Runner

LIVE = ("tests/contract", "--fine-tune", "alice/sandbox/ft-1", "-p", "no:randomly")


@pytest.fixture
def refusing_hub(request: pytest.FixtureRequest) -> Iterator[str]:
    """A server that answers every request with the status (and Retry-After) the test's param names."""
    status, retry_after = request.param

    async def answer(_: Request) -> Response:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return JSONResponse({"error": {"message": "unavailable"}}, status_code=status, headers=headers)

    app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST", "DELETE"])])
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    yield url_of(sock)
    server.should_exit = True
    thread.join(5)
    sock.close()


def test_stopped_hub_is_unavailable_with_its_own_exit_status(run_suite: Runner, tmp_path: Path) -> None:
    sock = bind("127.0.0.1", 0)
    url = url_of(sock)
    sock.close()  # nothing listens there any more
    result = run_suite(*LIVE, "--hub-url", url, "--contract-report", str(tmp_path / "r.md"), env={"OXEN_API_KEY": "k"})
    assert result.returncode == EXIT_HUB_UNAVAILABLE, result.stdout[-2000:]
    assert "HUB UNAVAILABLE" in result.stdout
    assert "Contract violation" not in result.stdout
    assert (tmp_path / "r.md").read_text().splitlines()[2].startswith("**hub unavailable")


@pytest.mark.parametrize("refusing_hub", [(502, None), (503, "0"), (504, None), (429, "0")], indirect=True)
def test_hub_answering_only_gateway_errors_or_429_is_unavailable(run_suite: Runner, refusing_hub: str) -> None:
    result = run_suite(*LIVE, "--hub-url", refusing_hub, env={"OXEN_API_KEY": "k"})
    assert result.returncode == EXIT_HUB_UNAVAILABLE, result.stdout[-2000:]
    assert "HUB UNAVAILABLE" in result.stdout


def test_one_hanging_request_stays_a_contract_failure_of_its_operation(run_suite: Runner, tmp_path: Path) -> None:
    from oxen_contract.hub import LocalHub

    with LocalHub({"k": "alice", "o": "bob"}, ["delete-hangs"], deterministic=True, hang_seconds=4) as hub:
        result = run_suite(
            "tests/contract/test_delete_lifecycle.py",
            *("--hub-url", hub.url, "--fine-tune", "alice/sandbox/ft-1", "--request-timeout", "1"),
            *("--ledger", str(tmp_path / "ledger.jsonl")),
            env={"OXEN_API_KEY": "k"},
        )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "Contract violation in deleteModel" in result.stdout
    assert "rule:answers-in-time" in result.stdout
    assert "HUB UNAVAILABLE" not in result.stdout


def _client(statuses: list[tuple[int, dict[str, str]]], slept: list[float], budget: int | None = None) -> HubClient:
    answers = iter(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        status, headers = next(answers)
        return httpx.Response(status, headers=headers, json={"object": "list", "data": []})

    keys = {Credential.KEY: ApiKey("k", Credential.KEY)}
    guard = RequestGuard("http://hub.test", timeout=5)
    client = HubClient("http://hub.test", keys, guard=guard, budget=RequestBudget(budget), sleep=slept.append)
    client._http = httpx.Client(transport=httpx.MockTransport(handler))
    return client


def test_429_and_503_are_retried_honouring_retry_after() -> None:
    slept: list[float] = []
    client = _client([(429, {"Retry-After": "2"}), (503, {}), (200, {})], slept)
    assert client.list().status == 200
    assert slept == [2.0, 1.0]  # Retry-After, then backoff 0.5 * 2**1


def test_429_past_the_retry_budget_is_hub_unavailable() -> None:
    slept: list[float] = []
    client = _client([(429, {"Retry-After": "1"})] * 10, slept)
    with pytest.raises(HubUnavailable, match="still answers 429"):
        client.list()
    assert len(slept) == 3


def test_retry_wait_is_bounded_in_time() -> None:
    slept: list[float] = []
    client = _client([(503, {"Retry-After": "3600"}), (200, {})], slept)
    assert client.list().status == 503
    assert slept == []


def test_max_requests_stops_sending_and_says_so(run_suite: Runner) -> None:
    result = run_suite("tests/contract/test_models.py", "--local-hub", "--max-requests", "3", "-rs", "--allow-partial")
    assert result.returncode == 0, result.stdout[-2000:]
    assert "--max-requests 3 reached" in result.stdout
