"""client.py: each call answers an Exchange; credentials leave as the headers they stand for; no answer is no pass.

A hub that does not answer in time is a timeout failure of that operation, and one that cannot be reached is
unavailable: neither is ever a check that passed.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from oxen_contract.checking.contract_failure import ContractFailure, HubTimeout
from oxen_contract.checking.exchange import Credential, authorization, model_path
from oxen_contract.checking.skips import RequestsSpent
from oxen_contract.clients.client import HubClient
from oxen_contract.http.guard import RequestGuard
from oxen_contract.http.redaction import ApiKey
from oxen_contract.http.retries import HubUnavailable, RequestBudget
from oxen_contract.hub import create_app

SECRET = "sk-oxen-client-test-0123456789"
OTHER_SECRET = "sk-oxen-client-test-other-9876"
Serve = Callable[[ASGIApp], AbstractContextManager[str]]


MakeClient = Callable[..., HubClient]


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """Makes a HubClient for a URL with the run's two keys (``timeout``, ``budget``, ``max_deploys``); closes them."""
    made: list[HubClient] = []

    def make(url: str, *, timeout: float = 5.0, budget: int | None = None, max_deploys: int = 0) -> HubClient:
        keys = {
            Credential.KEY: ApiKey(SECRET, Credential.KEY),
            Credential.OTHER: ApiKey(OTHER_SECRET, Credential.OTHER),
        }
        guard = RequestGuard(url, max_deploys=max_deploys, timeout=timeout)
        made.append(HubClient(url, keys, guard=guard, budget=RequestBudget(budget), sleep=lambda _: None))
        return made[-1]

    yield make
    for each in made:
        each.close()


@pytest.fixture
def hub(serve: Serve) -> Iterator[str]:
    """The local reference hub, alice holding SECRET; its URL."""
    app = create_app({SECRET: "alice", OTHER_SECRET: "bob"}, deterministic=True)
    try:
        with serve(app) as url:
            yield url
    finally:
        app.state.store.close()


class _Recorder:
    """A hub that answers every request with ``answers`` in turn (the last one again) and keeps what it was sent."""

    def __init__(self, *answers: tuple[int, dict[str, str]]) -> None:
        self.answers = list(answers) or [(200, {})]
        self.seen: list[dict[str, str]] = []

    async def answer(self, request: Request) -> Response:
        self.seen.append({"method": request.method, "path": request.url.path, **request.headers})
        status, headers = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return JSONResponse({"object": "list", "data": []}, status_code=status, headers=headers)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.answer, methods=["GET", "POST", "DELETE"])])


def test_a_call_answers_an_exchange_naming_its_operation_request_and_id(hub: str, make_client: MakeClient) -> None:
    answer = make_client(hub).retrieve("gpt-4.1-mini")
    assert (answer.operation, answer.method, answer.path) == ("retrieveModel", "GET", model_path("gpt-4.1-mini"))
    assert (answer.model_id, answer.credential, answer.status) == ("gpt-4.1-mini", Credential.KEY, 200)
    assert answer.content_type.startswith("application/json")
    assert answer.json()["id"] == "gpt-4.1-mini"


def test_the_run_s_key_reaches_the_hub_but_not_the_exchange(serve: Serve, make_client: MakeClient) -> None:
    recorder = _Recorder()
    with serve(recorder.app()) as url:
        answer = make_client(url).list()
    assert recorder.seen[0]["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in repr(answer)


@pytest.mark.parametrize("credential", [Credential.INVALID, Credential.NOT_BEARER, Credential.NONE])
def test_a_credential_other_than_a_key_is_sent_as_the_header_it_stands_for(
    serve: Serve, credential: str, make_client: MakeClient
) -> None:
    recorder = _Recorder()
    with serve(recorder.app()) as url:
        answer = make_client(url).list(credential=credential)
    assert recorder.seen[0].get("authorization") == authorization(credential)
    assert answer.credential == credential


def test_the_second_namespace_s_key_is_sent_for_its_label(serve: Serve, make_client: MakeClient) -> None:
    recorder = _Recorder()
    with serve(recorder.app()) as url:
        make_client(url).retrieve("bob:sandbox/ft-1-1", credential=Credential.OTHER)
    assert recorder.seen[0]["authorization"] == f"Bearer {OTHER_SECRET}"


def test_a_busy_answer_is_retried_but_a_deploy_is_sent_once(serve: Serve, make_client: MakeClient) -> None:
    recorder = _Recorder((503, {"Retry-After": "0"}), (200, {}))
    with serve(recorder.app()) as url:
        assert make_client(url).list().status == 200
        recorder.answers = [(503, {"Retry-After": "0"}), (200, {})]
        deploy = make_client(url, max_deploys=1).deploy_fine_tune("alice", "sandbox", "ft-1")
    assert deploy.status == 503  # the hub may have deployed (and billed) before it failed: never sent twice
    assert [seen["method"] for seen in recorder.seen] == ["GET", "GET", "POST"]


def test_a_redirect_is_the_answer_and_is_not_followed(serve: Serve, make_client: MakeClient) -> None:
    recorder = _Recorder((307, {"Location": "/api/ai/models/elsewhere"}))
    with serve(recorder.app()) as url:
        answer = make_client(url).retrieve("gpt-4.1-mini")
    assert answer.status == 307 and answer.headers["location"] == "/api/ai/models/elsewhere"
    assert len(recorder.seen) == 1


def _hanging() -> Starlette:
    async def hang(request: Request) -> Response:
        await asyncio.sleep(3)
        return JSONResponse({})

    return Starlette(routes=[Route("/{path:path}", hang)])


def test_a_request_without_an_answer_in_time_is_a_timeout_failure_of_its_operation(
    serve: Serve, make_client: MakeClient
) -> None:
    with serve(_hanging()) as url:
        client = make_client(url, timeout=0.3)
        with pytest.raises(HubTimeout) as first:
            client.retrieve("gpt-4.1-mini")
        # The operation stalled once: its next request fails at once instead of waiting again.
        with pytest.raises(HubTimeout, match="already got no answer"):
            client.retrieve("gpt-4.1-mini")
    failure = first.value
    assert isinstance(failure, ContractFailure)
    assert [finding.clause for finding in failure.findings] == ["rule:answers-in-time"]
    assert (failure.exchange.operation, failure.exchange.model_id, failure.exchange.status) == (
        "retrieveModel",
        "gpt-4.1-mini",
        0,
    )
    assert client.guard.stalled == {"retrieveModel"}


def _refusing_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_hub_that_cannot_be_reached_is_unavailable_not_a_contract_failure(make_client: MakeClient) -> None:
    client = make_client(_refusing_port())
    with pytest.raises(HubUnavailable) as unavailable:
        client.list()
    assert not isinstance(unavailable.value, AssertionError)
    assert (client.probe() or "").startswith("GET ")


def test_the_probe_is_quiet_when_the_hub_answers(hub: str, make_client: MakeClient) -> None:
    assert make_client(hub).probe() is None


def test_a_key_the_hub_refuses_is_told_without_the_key(serve: Serve, make_client: MakeClient) -> None:
    app = create_app({"somebody-else-s-key": "alice"}, deterministic=True)
    try:
        with serve(app) as url:
            refused = make_client(url).not_ready()
    finally:
        app.state.store.close()
    assert refused is not None and "answered 401" in refused
    assert SECRET not in refused


def test_cleanup_and_probes_spend_budgets_of_their_own(hub: str, make_client: MakeClient) -> None:
    client = make_client(hub, budget=1)
    client.list()
    with pytest.raises(RequestsSpent, match="--max-requests 1 reached"):
        client.list()
    assert client.for_cleanup().list().status == 200
    assert client.for_probes().probe() is None


def test_a_url_that_is_not_the_hub_s_root_is_told_by_the_list_s_404(hub: str, make_client: MakeClient) -> None:
    said = make_client(hub + "/api/ai").not_ready()
    assert said is not None and "answered 404" in said and "must be the hub's root" in said
