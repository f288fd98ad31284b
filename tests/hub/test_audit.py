"""The audit records what really reached the hub: every DELETE, every deploy POST, and what existed before."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx

from oxen_contract.hub import LocalHub
from oxen_contract.hub.audit import Audit, DeleteRecord, DeployRecord
from oxen_contract.hub.catalog import BASE_MODELS

from ._helpers import ALICE, BOB, DEPLOY, DEPLOY_CHECKPOINT, MODELS, TOKENS, HubClient, deploy, model_path
from .conftest import MakeClient

BASE_IDS = tuple(model.id for model in BASE_MODELS)
PROD, OLD = "alice:sandbox/ft-1-prod", "alice:sandbox/ft-1-old"


def _audit(client: HubClient) -> Audit:
    audit: Audit = client.app.state.audit
    return audit


def test_a_plain_hub_held_only_the_base_models_before_any_request(client: HubClient) -> None:
    assert _audit(client).preexisting_ids() == BASE_IDS
    assert (_audit(client).deletes(), _audit(client).deploys()) == ((), ())


def test_a_crowded_hub_held_each_namespaces_preseeded_models_before_any_request(make_client: MakeClient) -> None:
    client = make_client("benign-crowded-namespaces")
    bob = ("bob:sandbox/ft-1-prod", "bob:sandbox/ft-1-old")
    assert _audit(client).preexisting_ids() == (*BASE_IDS, PROD, OLD, *bob)


def test_every_deploy_post_is_recorded_with_the_model_it_created(client: HubClient) -> None:
    first = deploy(client)
    second = client.post(DEPLOY_CHECKPOINT.format(owner="alice"), headers=ALICE).json()["model"]["id"]
    assert client.post(DEPLOY.format(owner="bob"), headers=ALICE).status_code == 404
    assert client.post(DEPLOY.format(owner="alice")).status_code == 401
    assert _audit(client).deploys() == (
        DeployRecord("deploy", "alice", first, 200),
        DeployRecord("deploy_checkpoint", "alice", second, 200),
        DeployRecord("deploy", "alice", None, 404),
        DeployRecord("deploy", None, None, 401),
    )
    assert _audit(client).created_ids() == (first, second)
    assert _audit(client).deploy_posts() == 4


def test_a_get_on_a_deploy_route_is_no_deploy_post(client: HubClient) -> None:
    assert client.get(DEPLOY.format(owner="alice"), headers=ALICE).status_code == 405
    assert _audit(client).deploy_posts() == 0


def test_every_delete_is_recorded_with_what_its_id_named_then(client: HubClient) -> None:
    mine = deploy(client)
    path = model_path(mine)
    assert client.delete(path, headers=BOB).status_code == 404
    assert client.delete(path).status_code == 401
    assert client.delete(path, headers=ALICE).status_code == 200
    assert client.delete(path, headers=ALICE).status_code == 404
    assert client.delete(model_path("gpt-4o"), headers=ALICE).status_code == 400
    assert client.delete(model_path("nope"), headers=ALICE).status_code == 404
    assert _audit(client).deletes() == (
        DeleteRecord(path, mine, "bob", existed=True, owner="alice", base=False, deleted=False, status=404),
        DeleteRecord(path, mine, None, existed=True, owner="alice", base=False, deleted=False, status=401),
        DeleteRecord(path, mine, "alice", existed=True, owner="alice", base=False, deleted=True, status=200),
        DeleteRecord(path, mine, "alice", existed=False, owner="alice", base=False, deleted=False, status=404),
        DeleteRecord(model_path("gpt-4o"), "gpt-4o", "alice", True, "oxen", base=True, deleted=False, status=400),
        DeleteRecord(model_path("nope"), "nope", "alice", False, None, base=False, deleted=False, status=404),
    )
    assert _audit(client).deletes_reaching_existing() == (mine, "gpt-4o")
    assert _audit(client).deleted_ids() == (mine,)
    # Base models are left out: asking to delete one is how a suite checks the refusal.
    assert _audit(client).deletes_reaching_others() == ()


def test_a_delete_that_matches_no_model_route_is_recorded_by_its_path(client: HubClient) -> None:
    assert client.delete(MODELS, headers=ALICE).status_code == 405
    assert client.delete("/api/ai", headers=ALICE).status_code == 404
    assert [(r.path, r.model_id, r.existed, r.status) for r in _audit(client).deletes()] == [
        (MODELS, None, False, 405),
        ("/api/ai", None, False, 404),
    ]
    assert _audit(client).deletes_reaching_existing() == ()


def test_a_delete_of_a_model_no_deploy_created_is_named(make_client: MakeClient) -> None:
    client = make_client("benign-crowded-namespaces")
    mine = deploy(client)
    for model_id in (mine, PROD):
        assert client.delete(model_path(model_id), headers=ALICE).status_code == 200
    assert _audit(client).deleted_ids() == (mine, PROD)
    assert _audit(client).deletes_reaching_others() == (PROD,)


def test_a_delete_that_keeps_the_model_is_recorded_as_not_deleted(make_client: MakeClient) -> None:
    client = make_client("delete-does-not-delete")
    mine = deploy(client)
    assert client.delete(model_path(mine), headers=ALICE).status_code == 200
    assert _audit(client).deletes_reaching_existing() == (mine,)
    assert _audit(client).deleted_ids() == ()


def test_racing_deletes_over_the_wire_show_one_deletion_in_the_audit() -> None:
    with LocalHub(TOKENS) as hub, httpx.Client(base_url=hub.url) as client:
        model_id = client.post(DEPLOY.format(owner="alice"), headers=ALICE).json()["deployment"]["model_slug"]
        barrier = threading.Barrier(4)

        def delete() -> None:
            barrier.wait()
            httpx.delete(hub.url + model_path(model_id), headers=ALICE)

        threads = [threading.Thread(target=delete) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        audit: Audit = hub.app.state.audit
        records = audit.deletes()
    assert len(records) == 4
    assert sorted(record.status for record in records) == [200, 404, 404, 404]
    assert [record.deleted for record in records].count(True) == 1


def test_the_queries_answer_copies_that_later_requests_leave_alone(client: HubClient) -> None:
    before = _audit(client).deploys()
    deploy(client)
    assert before == ()
    assert len(_audit(client).deploys()) == 1


def test_an_app_with_an_audit_path_hands_over_the_same_records(make_client: MakeClient, tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    client = make_client("benign-crowded-namespaces", audit_path=str(path))
    mine = deploy(client)
    assert client.delete(model_path(mine), headers=ALICE).status_code == 200
    assert client.delete(model_path(PROD), headers=BOB).status_code == 404
    loaded = Audit.load(path)
    assert (loaded.preexisting_ids(), loaded.deletes(), loaded.deploys()) == (
        _audit(client).preexisting_ids(),
        _audit(client).deletes(),
        _audit(client).deploys(),
    )
    assert loaded.deletes_reaching_others() == (PROD,)
    assert Audit.from_json(json.loads(path.read_text(encoding="utf-8"))).to_json() == _audit(client).to_json()


def test_an_audit_with_a_path_rewrites_the_whole_file_after_each_record(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    audit = Audit(["gpt-4o"], path=path)
    assert Audit.load(path).preexisting_ids() == ("gpt-4o",)
    audit.record_deploy(DeployRecord("deploy", "alice", "alice:m-1", 200))
    audit.record_delete(
        DeleteRecord("/api/ai/models/alice%3Am-1", "alice:m-1", "alice", True, "alice", False, True, 200)
    )
    loaded = Audit.load(path)
    assert (loaded.deploys(), loaded.deletes()) == (audit.deploys(), audit.deletes())
    assert [p.name for p in tmp_path.iterdir()] == ["audit.json"]


def test_models_that_appeared_during_the_run_are_others_and_travel_in_the_json(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    audit = Audit(["gpt-4o", PROD], path=path)
    audit.record_deploy(DeployRecord("deploy", "alice", None, 502))
    audit.record_appearance("alice:sandbox/ft-1-1")
    audit.record_delete(DeleteRecord("/x", "alice:sandbox/ft-1-1", "alice", True, "alice", False, True, 200))
    loaded = Audit.load(path)
    assert loaded.appeared_ids() == ("alice:sandbox/ft-1-1",)
    assert loaded.others_ids() == ("gpt-4o", PROD, "alice:sandbox/ft-1-1")
    assert loaded.deletes_reaching_others() == loaded.deleted_others() == ("alice:sandbox/ft-1-1",)


def test_an_audit_written_before_appearances_were_recorded_loads_with_none() -> None:
    old = {"preexisting": ["gpt-4o"], "deletes": [], "deploys": []}
    assert Audit.from_json(old).appeared_ids() == ()
