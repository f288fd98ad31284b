"""provisioning.py: only verified ids become deletable; no deploy is retried into spending; a refused DELETE leaks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from oxen_contract.client import Credential, HubClient
from oxen_contract.config import FineTune, Mode
from oxen_contract.ledger import Ledger
from oxen_contract.provisioning import Provisioner, ProvisioningError, unusable_id
from oxen_contract.transport import ApiKey, RequestGuard
from tests.configs import run_config

HUB = "http://hub.test"
BASE = {"id": "gpt-4.1-mini", "object": "model", "created": 1, "owned_by": "oxen", "model_type": "base"}
PROD = {"id": "alice:sandbox/ft-1-prod", "object": "model", "created": 1, "owned_by": "alice", "model_type": "custom"}


@dataclass
class FakeHub:
    """Just enough of a hub for provisioning: a model table, a deploy that can misbehave, a DELETE that can refuse."""

    models: dict[str, dict[str, Any]] = field(default_factory=lambda: {m["id"]: m for m in (BASE, PROD)})
    deploy_answers: list[tuple[int, str | None, bool]] = field(default_factory=list)  # status, id answered, creates
    delete_status: int = 200
    deploy_posts: int = 0
    deletes: list[str] = field(default_factory=list)
    serial: int = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?")[0]
        if request.method == "POST" and path.endswith("/deploy"):
            self.deploy_posts += 1
            status, answered, creates = self.deploy_answers.pop(0)
            if creates:
                self.serial += 1
                made = {**PROD, "id": f"alice:sandbox/ft-1-{self.serial}", "created": 2}
                self.models[made["id"]] = made
                answered = answered or made["id"]
            body = {"deployment": {"model_slug": answered}} if answered is not None else {"error": {"message": "x"}}
            return httpx.Response(status, json=body)
        if path == "/api/ai/models":
            return httpx.Response(200, json={"object": "list", "data": list(self.models.values())})
        model_id = unquote(path.removeprefix("/api/ai/models/"))
        if request.method == "DELETE":
            self.deletes.append(model_id)
            if self.delete_status == 200 and model_id in self.models:
                return httpx.Response(200, json=self.models.pop(model_id))
            return httpx.Response(self.delete_status, json={"error": {"message": "no"}})
        if model_id in self.models:
            return httpx.Response(200, json=self.models[model_id])
        return httpx.Response(404, json={"error": {"message": f"Model not found: {model_id}"}})


def _provisioner(hub: FakeHub, *, max_provisions: int = 2, ledger: Ledger | None = None) -> Provisioner:
    guard = RequestGuard(HUB, max_deploys=max_provisions, timeout=5)
    client = HubClient(HUB, {Credential.KEY: ApiKey("k", Credential.KEY)}, guard=guard, sleep=lambda _: None)
    client._http = httpx.Client(transport=httpx.MockTransport(hub.handle))
    config = run_config(
        HUB,
        "k",
        mode=Mode.LIVE,
        fine_tunes=(FineTune("alice", "sandbox", "ft-1"),),
        max_provisions=max_provisions,
        ledger_path=ledger.path if ledger else None,
    )
    return Provisioner(client, config, ledger, log=lambda _: None, sleep=lambda _: None)


@pytest.mark.parametrize(
    ("model_id", "unusable"),
    [(".", True), ("..", True), ("search", True), (" a:b/c", True), ("a\nb", True), ("", True), ("a:b/c-1", False)],
)
def test_an_id_that_cannot_name_one_model_is_unusable(model_id: str, unusable: bool) -> None:
    assert (unusable_id(model_id) is not None) == unusable


@pytest.mark.parametrize(
    ("answered", "says"),
    [
        (PROD["id"], "already listed before the deploy"),
        (BASE["id"], "already listed before the deploy"),
        (".", "not one path segment"),
        ("alice:sandbox/never-made", "retrieving it answered 404"),
    ],
    ids=["existing-model", "base-model", "dot", "unknown"],
)
def test_a_deploy_answer_naming_what_the_run_did_not_make_is_refused_and_nothing_is_deletable(
    answered: str, says: str
) -> None:
    hub = FakeHub(deploy_answers=[(200, answered, False)])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError, match=says):
        provisioner.fresh_model()
    assert provisioner.owns == frozenset()
    assert hub.deletes == []


def test_a_deploy_that_answers_503_is_not_retried_and_the_model_it_made_is_found_and_deleted() -> None:
    hub = FakeHub(deploy_answers=[(503, None, True)])
    provisioner = _provisioner(hub, max_provisions=2)
    with pytest.raises(ProvisioningError, match="it made 'alice:sandbox/ft-1-1', which the run deletes at cleanup"):
        provisioner.fresh_model()
    assert hub.deploy_posts == 1
    provisioner.sweep_leaks()
    assert hub.deletes == ["alice:sandbox/ft-1-1"]
    assert PROD["id"] in hub.models


def test_a_429_with_retry_after_is_retried_and_counts_against_the_cap() -> None:
    hub = FakeHub(deploy_answers=[(429, None, False), (429, None, False)])
    provisioner = _provisioner(hub, max_provisions=2)

    def handle(request: httpx.Request) -> httpx.Response:
        answer = hub.handle(request)
        return httpx.Response(429, headers={"Retry-After": "0"}) if answer.status_code == 429 else answer

    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(handle))
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    assert hub.deploy_posts == 2
    assert provisioner.deploys == 2


def test_a_refused_cleanup_delete_is_a_leak_with_a_curl_line_not_done(tmp_path: Path) -> None:
    hub = FakeHub(deploy_answers=[(200, None, True)], delete_status=403)
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB)
    provisioner = _provisioner(hub, ledger=ledger)
    model_id = provisioner.fresh_model()
    assert provisioner.owns == {model_id}
    provisioner.sweep_leaks()
    [leak] = provisioner.leaks
    assert not leak.deleted and "answered 403" in leak.detail
    assert leak.curl == (
        'curl -X DELETE http://hub.test/api/ai/models/alice%3Asandbox%2Fft-1-1 -H "Authorization: Bearer $OXEN_API_KEY"'
    )
    assert model_id in ledger.outstanding(include_own=True).models  # still owed: the next run tries again


def test_the_next_run_deletes_a_crashed_run_s_verified_model_and_reconciles_its_unsettled_deploy(
    tmp_path: Path,
) -> None:
    hub = FakeHub(deploy_answers=[(200, None, True), (200, None, True)])
    crashed = _provisioner(hub, ledger=Ledger(tmp_path / "ledger.jsonl", HUB, run_id="crashed"))
    first = crashed.fresh_model()
    # The second deploy was sent, then the run was killed before it read the answer.
    crashed.ledger.record("intent", attempt=2, fine_tune="alice/sandbox/ft-1", snapshot=sorted(hub.models))  # type: ignore[union-attr]
    hub.serial += 1
    second = f"alice:sandbox/ft-1-{hub.serial}"
    import time

    hub.models[second] = {**PROD, "id": second, "created": int(time.time())}

    nxt = _provisioner(hub, ledger=Ledger(tmp_path / "ledger.jsonl", HUB, run_id="next"))
    assert nxt.sweep_leftovers() == [first]
    nxt.sweep_leaks()
    assert sorted(hub.deletes) == sorted([first, second])
    assert PROD["id"] in hub.models and BASE["id"] in hub.models
    assert json.loads((tmp_path / "ledger.jsonl").read_text().splitlines()[-1])["run"] == "next"
