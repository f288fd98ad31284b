"""One clock dates every answer (its Date header) and every model a request creates, and it only moves forward."""

from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from oxen_contract.hub import LocalHub, create_app
from oxen_contract.hub.clock import EPOCH, http_date
from oxen_contract.hub.faults import Fault

from ._helpers import ALICE, BOB, DEPLOY, DEPLOY_CHECKPOINT, MODELS, TOKENS, HubClient, deploy, model_path
from .conftest import MakeClient

# RFC 9110's IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
IMF_FIXDATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")


def _seconds(date: str) -> int:
    return int(parsedate_to_datetime(date).timestamp())


def test_the_clock_writes_imf_fixdates() -> None:
    assert http_date(EPOCH) == "Thu, 01 Jan 2026 00:00:00 GMT"
    assert http_date(EPOCH + 86400 + 3661) == "Fri, 02 Jan 2026 01:01:01 GMT"


def test_every_answer_is_dated_one_second_after_the_answer_before(client: HubClient) -> None:
    answers = [
        client.get(MODELS, headers=ALICE),
        client.get(model_path("nope"), headers=ALICE),
        client.get(MODELS),
        client.get("/no/such/route", headers=ALICE),
        client.post(DEPLOY.format(owner="alice"), headers=ALICE),
        client.request("PUT", model_path("gpt-4o"), headers=ALICE),
    ]
    dates = [answer.headers["date"] for answer in answers]
    assert all(IMF_FIXDATE.match(date) for date in dates)
    assert [_seconds(date) for date in dates] == [EPOCH + n for n in range(len(answers))]


@pytest.mark.parametrize("route", [DEPLOY, DEPLOY_CHECKPOINT])
def test_a_deployed_model_is_registered_at_the_time_its_deploy_answer_states(client: HubClient, route: str) -> None:
    before = client.get(MODELS, headers=ALICE)
    answer = client.post(route.format(owner="alice"), headers=ALICE)
    body = answer.json()
    model_id = body["deployment"]["model_slug"] if "deployment" in body else body["model"]["id"]
    created = client.get(model_path(model_id), headers=ALICE).json()["created"]
    assert created == _seconds(answer.headers["date"]) == _seconds(before.headers["date"]) + 1


def test_models_deployed_later_are_registered_later_whoever_asks_in_between(client: HubClient) -> None:
    first = deploy(client)
    client.get(MODELS, headers=BOB)
    client.get(MODELS, headers=ALICE)
    second = deploy(client)
    created = [client.get(model_path(model_id), headers=ALICE).json()["created"] for model_id in (first, second)]
    assert created == [EPOCH, EPOCH + 3]


def test_preseeded_models_keep_their_past_whatever_the_clock_says(make_client: MakeClient) -> None:
    client = make_client("benign-crowded-namespaces")
    for _ in range(3):
        client.get(MODELS, headers=ALICE)
    prod = client.get(model_path("alice:sandbox/ft-1-prod"), headers=ALICE)
    assert prod.json()["created"] < EPOCH < _seconds(prod.headers["date"])


def test_a_hub_reopened_on_its_db_file_carries_on_its_clock(tmp_path: Path) -> None:
    db = str(tmp_path / "hub.sqlite")
    first = create_app(TOKENS, deterministic=True, db_path=db)
    made = deploy(HubClient(first))
    first.state.store.close()
    again = create_app(TOKENS, deterministic=True, db_path=db)
    try:
        client = HubClient(again)
        answer = client.get(model_path(made), headers=ALICE)
        assert answer.json()["created"] == EPOCH
        # Not back to the start: the reopened hub's first answer comes after everything the file holds.
        assert _seconds(answer.headers["date"]) == EPOCH + 1
        assert client.get(model_path(deploy(client)), headers=ALICE).json()["created"] == EPOCH + 2
    finally:
        again.state.store.close()


def test_without_deterministic_mode_the_date_and_created_are_the_wall_clock(make_client: MakeClient) -> None:
    client = make_client(deterministic=False)
    started = int(time.time())
    answer = client.post(DEPLOY.format(owner="alice"), headers=ALICE)
    created = client.get(model_path(answer.json()["deployment"]["model_slug"]), headers=ALICE).json()["created"]
    assert created == _seconds(answer.headers["date"])
    assert started <= created <= time.time()


def test_the_same_requests_give_the_same_dates_run_to_run(make_client: MakeClient) -> None:
    def dates(client: HubClient) -> list[str]:
        deploy(client)
        return [client.get(MODELS, headers=ALICE).headers["date"] for _ in range(3)]

    assert dates(make_client()) == dates(make_client())


def test_the_last_line_of_defence_dates_its_answer_too() -> None:
    def crash(model: dict[str, object]) -> dict[str, object]:
        raise RuntimeError("a bend that breaks")

    broken = Fault("crashes", "none", "retrieve raises", ops=frozenset({"retrieve"}), model=crash)
    # Over the wire: the server answers what the app's error handler sent, and keeps the exception to itself.
    with LocalHub(TOKENS, [broken], deterministic=True) as hub, httpx.Client(base_url=hub.url) as client:
        client.get(MODELS, headers=ALICE)
        answer = client.get(model_path("gpt-4o"), headers=ALICE)
    assert answer.status_code == 500 and answer.json()["error"]["type"] == "unknown_error"
    assert _seconds(answer.headers["date"]) == EPOCH + 1
