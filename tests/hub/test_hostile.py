"""Each hostile fault sets the lure its catalog line names, and the audit shows whether a client took it."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from oxen_contract.hub import FAULTS, LocalHub, create_app
from oxen_contract.hub.audit import Audit
from oxen_contract.hub.catalog import SANDBOX_BASE_MODEL
from oxen_contract.hub.clock import EPOCH
from oxen_contract.hub.faults import FAULTS_BY_NAME, Fault, Switch

from ._helpers import (
    ALICE,
    BOB,
    DEPLOY,
    DEPLOY_CHECKPOINT,
    MODELS,
    TOKENS,
    HubClient,
    asgi_body_messages,
    deploy,
    model_path,
)
from .conftest import MakeClient

HOSTILE = [fault for fault in FAULTS if fault.hostile]
PROD, OLD = "alice:sandbox/ft-1-prod", "alice:sandbox/ft-1-old"
VICTIM_PATH = "/api/ai/models/alice%3Asandbox%2Fft-1-prod"
DEPLOY_SLUGS = [
    ("hostile-deploy-existing-slug", OLD),
    ("hostile-deploy-base-slug", SANDBOX_BASE_MODEL),
    ("hostile-deploy-dot-slug", "."),
    ("hostile-deploy-dotdot-slug", ".."),
]


def _audit(client: HubClient) -> Audit:
    audit: Audit = client.app.state.audit
    return audit


def _customs(client: HubClient, headers: dict[str, str] = ALICE) -> list[str]:
    return [m["id"] for m in client.get(MODELS, headers=headers).json()["data"] if m["model_type"] == "custom"]


def test_the_catalog_holds_every_hostile_fault_marked_as_such() -> None:
    assert {fault.name for fault in HOSTILE} == {
        "hostile-delete-redirect",
        "hostile-delete-redirect-absolute",
        "hostile-deploy-existing-slug",
        "hostile-deploy-base-slug",
        "hostile-deploy-dot-slug",
        "hostile-deploy-dotdot-slug",
        "hostile-deploy-503-after-create",
        "hostile-drip-retrieve",
        "hostile-deploy-hidden-old-slug",
        "hostile-deploy-502-then-colleague",
        "hostile-deploy-encoded-slug",
        "hostile-deploy-409-after-create",
        "hostile-deploy-408-after-create",
        "hostile-deploy-429-after-create",
        "hostile-drip-headers",
        "hostile-gzip-bomb",
        "hostile-echo-key",
    }
    assert all(fault.kind == "hostile" and not fault.benign for fault in HOSTILE)
    assert FAULTS_BY_NAME["benign-crowded-namespaces"].kind == "benign"
    assert FAULTS_BY_NAME["delete-missing-id"].kind == "fault"


@pytest.mark.parametrize("fault", HOSTILE, ids=lambda fault: fault.name)
def test_a_hostile_line_says_hostile_and_names_its_lure(fault: Fault) -> None:
    assert fault.line().split(None, 1)[1].startswith(f"hostile: {fault.clause} (")


@pytest.mark.parametrize("fault", HOSTILE, ids=lambda fault: fault.name)
def test_every_hostile_hub_seeds_victims_the_suite_did_not_create(make_client: MakeClient, fault: Fault) -> None:
    # Retrieve answers drip, or decode to a bomb: quickly and small here.
    client = make_client(fault.name, bomb_bytes=1024, drip_seconds=1e-5)
    for model_id in (PROD, OLD):
        model = client.get(model_path(model_id), headers=ALICE).json()
        assert (model["id"], model["owned_by"], model["model_type"]) == (model_id, "alice", "custom")
    # A hub that lists only active deployments hides the -old model, which it seeds deactivated.
    assert _customs(client) == ([PROD] if Switch.LIST_ONLY_ACTIVE in fault.switches else [PROD, OLD])
    assert {PROD, OLD} <= set(_audit(client).preexisting_ids())


# Crowded namespaces ------------------------------------------------------------------------------------------------


def test_crowded_namespaces_show_each_owner_only_its_own_preseeded_models(make_client: MakeClient) -> None:
    client = make_client("benign-crowded-namespaces")
    assert _customs(client) == [PROD, OLD]
    assert _customs(client, BOB) == ["bob:sandbox/ft-1-prod", "bob:sandbox/ft-1-old"]
    assert client.get(model_path(PROD), headers=BOB).status_code == 404


def test_preseeded_models_were_deployed_last_month_from_the_sandbox_fine_tune(make_client: MakeClient) -> None:
    client = make_client("benign-crowded-namespaces")
    for model_id in (PROD, OLD):
        model = client.get(model_path(model_id), headers=ALICE).json()
        assert model["created"] < EPOCH
        assert (model["owned_by"], model["source_model"]) == ("alice", SANDBOX_BASE_MODEL)
        assert model["deployments"] == [{"status": "active"}]


def test_a_correct_run_in_a_crowded_namespace_deletes_only_what_it_deployed(make_client: MakeClient) -> None:
    client = make_client("benign-crowded-namespaces")
    mine = deploy(client)
    assert mine == "alice:sandbox/ft-1-1"
    assert client.delete(model_path(mine), headers=ALICE).status_code == 200
    assert _customs(client) == [PROD, OLD]
    assert _audit(client).deletes_reaching_others() == ()


def test_preseeding_a_db_file_twice_keeps_what_happened_in_between(tmp_path: Path) -> None:
    db = str(tmp_path / "hub.sqlite")
    first = create_app(TOKENS, ["benign-crowded-namespaces"], deterministic=True, db_path=db)
    client = HubClient(first)
    assert client.delete(model_path(PROD), headers=ALICE).status_code == 200
    first.state.store.close()
    again = create_app(TOKENS, ["hostile-deploy-existing-slug"], deterministic=True, db_path=db)
    client = HubClient(again)
    assert _customs(client) == [OLD]
    assert client.get(model_path(PROD), headers=ALICE).status_code == 404
    assert PROD not in _audit(client).preexisting_ids()
    again.state.store.close()


# Redirected deletes ------------------------------------------------------------------------------------------------


def test_a_redirected_delete_answers_307_to_the_victim_and_deletes_nothing(make_client: MakeClient) -> None:
    client = make_client("hostile-delete-redirect")
    mine = deploy(client)
    response = client.delete(model_path(mine), headers=ALICE)
    assert response.status_code == 307
    assert response.headers["location"] == VICTIM_PATH
    assert response.content == b""
    assert _customs(client) == [PROD, OLD, mine]
    assert _audit(client).deletes_reaching_existing() == (mine,)
    assert _audit(client).deleted_ids() == ()


def test_following_the_redirect_by_hand_deletes_the_victim_and_the_audit_names_it(make_client: MakeClient) -> None:
    client = make_client("hostile-delete-redirect")
    mine = deploy(client)
    location = client.delete(model_path(mine), headers=ALICE).headers["location"]
    followed = client.delete(location, headers=ALICE)
    assert followed.status_code == 200
    assert followed.json()["id"] == PROD
    assert _customs(client) == [OLD, mine]
    assert _audit(client).deletes_reaching_existing() == (mine, PROD)
    assert _audit(client).deleted_ids() == (PROD,)
    assert _audit(client).deletes_reaching_others() == (PROD,)


@pytest.mark.parametrize(
    ("model_id", "headers", "status"), [("gpt-4o", ALICE, 400), ("nope", ALICE, 404), ("mine", BOB, 404)]
)
def test_deletes_the_caller_may_not_make_answer_as_usual(
    make_client: MakeClient, model_id: str, headers: dict[str, str], status: int
) -> None:
    client = make_client("hostile-delete-redirect")
    target = deploy(client) if model_id == "mine" else model_id
    response = client.delete(model_path(target), headers=headers)
    assert response.status_code == status
    assert "location" not in response.headers


def test_an_absolute_redirect_names_the_same_host_and_a_following_client_deletes_the_victim() -> None:
    with LocalHub(TOKENS, ["hostile-delete-redirect-absolute"]) as hub, httpx.Client(base_url=hub.url) as client:
        mine = client.post(DEPLOY.format(owner="alice"), headers=ALICE).json()["deployment"]["model_slug"]
        plain = client.delete(model_path(mine), headers=ALICE)
        assert (plain.status_code, plain.headers["location"]) == (307, hub.url + VICTIM_PATH)
        # What the lure is for: a client that follows redirects deletes a model it never made.
        followed = client.delete(model_path(mine), headers=ALICE, follow_redirects=True)
        assert followed.status_code == 200 and followed.json()["id"] == PROD
        audit: Audit = hub.app.state.audit
        assert audit.deleted_ids() == (PROD,)
        assert client.get(model_path(mine), headers=ALICE).status_code == 200


# Deploys that answer a model they did not create -------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "model_id"), DEPLOY_SLUGS)
def test_a_deploy_answers_a_model_it_did_not_create(make_client: MakeClient, fault: str, model_id: str) -> None:
    client = make_client(fault)
    response = client.post(DEPLOY.format(owner="alice"), headers=ALICE)
    assert response.status_code == 200
    assert response.json() == {
        "deployment": {
            "model_slug": model_id,
            "status": "deploying",
            "endpoint": "http://hub.test/api/ai/chat/completions",
        }
    }
    checkpoint = client.post(DEPLOY_CHECKPOINT.format(owner="alice"), headers=ALICE)
    assert checkpoint.status_code == 200
    answer = checkpoint.json()
    assert set(answer) == {"deployment_id", "fine_tune", "model", "status", "status_message"}
    assert answer["model"]["id"] == model_id
    assert _customs(client) == [PROD, OLD]
    assert _audit(client).created_ids() == ()
    assert _audit(client).deploy_posts() == 2


def test_the_existing_slug_answers_last_months_model_as_it_stands(make_client: MakeClient) -> None:
    client = make_client("hostile-deploy-existing-slug")
    client.post(model_path(OLD, "deactivate"), headers=ALICE)
    model = client.post(DEPLOY_CHECKPOINT.format(owner="alice"), headers=ALICE).json()["model"]
    assert model == client.get(model_path(OLD), headers=ALICE).json()
    assert model["deployments"] == [{"status": "inactive"}] and model["created"] < EPOCH


def test_the_base_slug_answers_the_base_model_itself(make_client: MakeClient) -> None:
    client = make_client("hostile-deploy-base-slug")
    model = client.post(DEPLOY_CHECKPOINT.format(owner="alice"), headers=ALICE).json()["model"]
    assert model == client.get(model_path(SANDBOX_BASE_MODEL), headers=ALICE).json()


@pytest.mark.parametrize("fault", [name for name, _ in DEPLOY_SLUGS])
def test_a_hostile_deploy_still_refuses_what_a_deploy_refuses(make_client: MakeClient, fault: str) -> None:
    client = make_client(fault)
    assert client.post(DEPLOY.format(owner="bob"), headers=ALICE).status_code == 404
    assert client.post(DEPLOY.format(owner="alice")).status_code == 401


# Deploys that fail after creating ----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", [DEPLOY, DEPLOY_CHECKPOINT])
def test_a_503_after_create_still_created_the_model(make_client: MakeClient, route: str) -> None:
    client = make_client("hostile-deploy-503-after-create")
    response = client.post(route.format(owner="alice"), headers=ALICE)
    assert response.status_code == 503
    assert "retry-after" not in response.headers
    body = response.json()
    assert body["error"]["type"] == "unknown_error" and body["error"]["detail"] == "upstream timed out"
    assert _customs(client) == [PROD, OLD, "alice:sandbox/ft-1-1"]
    assert _audit(client).created_ids() == ("alice:sandbox/ft-1-1",)
    assert [record.status for record in _audit(client).deploys()] == [503]


# Dripping answers --------------------------------------------------------------------------------------------------


def test_a_dripping_retrieve_sends_the_usual_body_one_byte_at_a_time(make_client: MakeClient) -> None:
    expected = make_client().get(model_path("gpt-4o"), headers=ALICE).content
    dripping = make_client("hostile-drip-retrieve", drip_seconds=0.001)
    started = time.monotonic()
    bodies = asgi_body_messages(dripping.app, b"/api/ai/models/gpt-4o", [(b"authorization", b"Bearer tok-alice")])
    elapsed = time.monotonic() - started
    assert b"".join(bodies) == expected
    assert [body for body in bodies if body] == [bytes([byte]) for byte in expected]
    # Loose: each byte waits at least its pause, whatever else the machine is doing.
    assert elapsed >= 0.8 * len(expected) * 0.001


def test_a_dripping_answer_has_no_content_length(make_client: MakeClient) -> None:
    dripping = make_client("hostile-drip-retrieve", drip_seconds=0.0001)
    response = dripping.get(model_path("gpt-4o"), headers=ALICE)
    assert response.status_code == 200
    assert "content-length" not in response.headers
    assert response.headers["content-type"] == "application/json"


def test_the_list_and_retrieve_errors_do_not_drip(make_client: MakeClient) -> None:
    # A long pause: anything that dripped would take minutes.
    client = make_client("hostile-drip-retrieve", drip_seconds=60)
    started = time.monotonic()
    assert client.get(MODELS, headers=ALICE).status_code == 200
    assert client.get(model_path("nope"), headers=ALICE).status_code == 404
    assert client.get(f"{MODELS}/search?search=gpt", headers=ALICE).status_code == 200
    assert time.monotonic() - started < 30


def test_over_the_wire_a_retrieve_trickles_at_the_default_pace_while_the_list_answers() -> None:
    with LocalHub(TOKENS, ["hostile-drip-retrieve"]) as hub, httpx.Client(base_url=hub.url) as client:
        started = time.monotonic()
        received = b""
        with client.stream("GET", model_path("gpt-4o"), headers=ALICE) as response:
            assert response.status_code == 200
            for chunk in response.iter_raw():
                received += chunk
                if len(received) >= 3:
                    break
        elapsed = time.monotonic() - started
        assert received[:3] == b'{"c'
        # Three bytes at 0.4 s each; loose on the upper side, for slow machines.
        assert 3 * 0.4 * 0.8 <= elapsed < 3 * 0.4 + 5
        listed = time.monotonic()
        assert client.get(MODELS, headers=ALICE).status_code == 200
        assert time.monotonic() - listed < 1.0


@pytest.mark.parametrize(("status", "retry_after"), [(409, None), (408, None), (429, "1")])
@pytest.mark.parametrize("route", [DEPLOY, DEPLOY_CHECKPOINT])
def test_a_4xx_after_create_still_created_the_model(
    make_client: MakeClient, route: str, status: int, retry_after: str | None
) -> None:
    client = make_client(f"hostile-deploy-{status}-after-create")
    response = client.post(route.format(owner="alice"), headers=ALICE)
    assert response.status_code == status
    assert response.headers.get("retry-after") == retry_after
    assert set(response.json()) == {"error", "status", "status_message"}
    assert _customs(client) == [PROD, OLD, "alice:sandbox/ft-1-1"]
    assert _audit(client).created_ids() == ("alice:sandbox/ft-1-1",)
    assert [record.status for record in _audit(client).deploys()] == [status]


def test_each_deploy_retried_after_a_429_makes_another_model(make_client: MakeClient) -> None:
    client = make_client("hostile-deploy-429-after-create")
    for _ in range(3):
        assert client.post(DEPLOY.format(owner="alice"), headers=ALICE).status_code == 429
    made = ("alice:sandbox/ft-1-1", "alice:sandbox/ft-1-2", "alice:sandbox/ft-1-3")
    assert _audit(client).created_ids() == made
    assert _customs(client) == [PROD, OLD, *made]


# A deploy answering a model the list hides --------------------------------------------------------------------------


def test_the_hidden_old_model_is_deactivated_and_left_out_of_list_and_search(make_client: MakeClient) -> None:
    client = make_client("hostile-deploy-hidden-old-slug")
    old = client.get(model_path(OLD), headers=ALICE).json()
    assert old["deployments"] == [{"status": "inactive"}] and old["created"] < EPOCH
    searched = client.get(f"{MODELS}/search?search=sandbox", headers=ALICE).json()["data"]
    assert [model["id"] for model in searched] == [PROD]
    listed = [model["id"] for model in client.get(MODELS, headers=ALICE).json()["data"]]
    # Base models are always active: the list still shows them.
    assert SANDBOX_BASE_MODEL in listed and OLD not in listed


@pytest.mark.parametrize("route", [DEPLOY, DEPLOY_CHECKPOINT])
def test_the_hidden_old_slug_deploy_answers_the_unlisted_model_and_creates_nothing(
    make_client: MakeClient, route: str
) -> None:
    client = make_client("hostile-deploy-hidden-old-slug")
    body = client.post(route.format(owner="alice"), headers=ALICE).json()
    assert (body["deployment"]["model_slug"] if "deployment" in body else body["model"]["id"]) == OLD
    assert _audit(client).created_ids() == ()
    # What a suite that trusts the list and the retrieve then does: the audit names the harm.
    assert client.delete(model_path(OLD), headers=ALICE).status_code == 200
    assert (_audit(client).deletes_reaching_others(), _audit(client).deleted_others()) == ((OLD,), (OLD,))


def test_a_model_reactivated_by_its_owner_is_listed_again(make_client: MakeClient) -> None:
    client = make_client("hostile-deploy-hidden-old-slug")
    assert client.post(model_path(OLD, "activate"), headers=ALICE).status_code == 200
    assert _customs(client) == [PROD, OLD]


# A deploy that answers 502, then a colleague's model ---------------------------------------------------------------


def test_a_502_deploy_is_a_gateway_page_and_creates_nothing(make_client: MakeClient) -> None:
    client = make_client("hostile-deploy-502-then-colleague")
    for route in (DEPLOY, DEPLOY_CHECKPOINT):
        response = client.post(route.format(owner="alice"), headers=ALICE)
        assert response.status_code == 502
        assert response.headers["content-type"].startswith("text/html")
        assert b"502 Bad Gateway" in response.content
    assert _audit(client).created_ids() == ()
    assert [record.status for record in _audit(client).deploys()] == [502, 502]


def test_a_colleagues_model_turns_up_on_the_tenth_request_after_the_first_deploy(make_client: MakeClient) -> None:
    client = make_client("hostile-deploy-502-then-colleague")
    client.get(MODELS, headers=BOB)
    client.post(DEPLOY.format(owner="alice"), headers=ALICE)
    client.post(DEPLOY.format(owner="alice"), headers=ALICE)
    for _ in range(8):
        assert _customs(client) == [PROD, OLD]
    answer = client.get(MODELS, headers=ALICE)
    colleague = answer.json()["data"][-1]
    assert (colleague["id"], colleague["owned_by"], colleague["model_type"]) == (
        "alice:sandbox/ft-1-1",
        "alice",
        "custom",
    )
    # Registered at the hub's time then: after every deploy answer of the run, made by none of them.
    assert colleague["created"] == EPOCH + 11 == int(parsedate_to_datetime(answer.headers["date"]).timestamp())
    assert _customs(client, BOB) == ["bob:sandbox/ft-1-prod", "bob:sandbox/ft-1-old"]
    audit = _audit(client)
    assert (audit.created_ids(), audit.appeared_ids()) == ((), ("alice:sandbox/ft-1-1",))
    assert audit.others_ids()[-1] == "alice:sandbox/ft-1-1" and audit.deploy_posts() == 2
    # Once only.
    for _ in range(12):
        client.get(MODELS, headers=ALICE)
    assert _audit(client).appeared_ids() == ("alice:sandbox/ft-1-1",)


def test_a_delete_of_the_colleagues_model_is_harm_the_audit_names(make_client: MakeClient) -> None:
    client = make_client("hostile-deploy-502-then-colleague")
    client.post(DEPLOY.format(owner="alice"), headers=ALICE)
    for _ in range(10):
        client.get(MODELS, headers=ALICE)
    assert client.delete(model_path("alice:sandbox/ft-1-1"), headers=ALICE).status_code == 200
    audit = _audit(client)
    assert audit.deletes_reaching_others() == audit.deleted_others() == ("alice:sandbox/ft-1-1",)


def test_without_a_deploy_no_colleague_turns_up(make_client: MakeClient) -> None:
    client = make_client("hostile-deploy-502-then-colleague")
    for _ in range(15):
        client.get(MODELS, headers=ALICE)
    assert _customs(client) == [PROD, OLD] and _audit(client).appeared_ids() == ()


# A deploy answering an encoded id, behind a path decoded twice -----------------------------------------------------

ENCODED_PROD = "alice%3Asandbox%2Fft-1-prod"


@pytest.mark.parametrize("route", [DEPLOY, DEPLOY_CHECKPOINT])
def test_the_encoded_slug_deploy_answers_the_victim_percent_encoded(make_client: MakeClient, route: str) -> None:
    client = make_client("hostile-deploy-encoded-slug")
    body = client.post(route.format(owner="alice"), headers=ALICE).json()
    assert (body["deployment"]["model_slug"] if "deployment" in body else body["model"]["id"]) == ENCODED_PROD
    assert ENCODED_PROD not in [model["id"] for model in client.get(MODELS, headers=ALICE).json()["data"]]
    assert _audit(client).created_ids() == ()


def test_the_encoded_spelling_retrieves_and_deletes_the_victim_under_the_id_asked_for(
    make_client: MakeClient,
) -> None:
    client = make_client("hostile-deploy-encoded-slug")
    path = model_path(ENCODED_PROD)
    assert path == "/api/ai/models/alice%253Asandbox%252Fft-1-prod"
    retrieved = client.get(path, headers=ALICE).json()
    assert (retrieved["id"], retrieved["owned_by"], retrieved["model_type"]) == (ENCODED_PROD, "alice", "custom")
    assert retrieved["created"] < EPOCH
    deleted = client.delete(path, headers=ALICE)
    assert (deleted.status_code, deleted.json()["id"]) == (200, ENCODED_PROD)
    assert _customs(client) == [OLD]
    (record,) = _audit(client).deletes()
    # The path as it arrived; the model it reached.
    assert (record.path, record.model_id, record.deleted) == (path, PROD, True)
    assert _audit(client).deletes_reaching_others() == (PROD,)


def test_behind_the_double_decoding_a_plainly_encoded_id_still_names_its_model(make_client: MakeClient) -> None:
    client = make_client("hostile-deploy-encoded-slug")
    for model_id in (PROD, "black-forest-labs/flux.1-dev"):
        assert client.get(model_path(model_id), headers=ALICE).json()["id"] == model_id
    assert client.post(model_path(OLD, "deactivate"), headers=ALICE).json()["deployments"] == [{"status": "inactive"}]
