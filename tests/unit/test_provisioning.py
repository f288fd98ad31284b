"""provisioning.py: only proved ids become deletable; no status closes a deploy unseen; when unsure, nothing is deleted.

The fake hub keeps a clock that moves one second per request and sends it as ``Date``, as a real hub does; a model a
deploy makes is registered at that clock's time. Each test sets one lure of issue 18 and checks what was deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from oxen_contract.checks import Verifier
from oxen_contract.client import Credential, HubClient
from oxen_contract.config import FineTune, Mode
from oxen_contract.contracts import load_contract
from oxen_contract.failures import ContractFailure, ProvisioningError, ProvisionsExhausted
from oxen_contract.ledger import Ledger
from oxen_contract.provisioning import Provisioner
from oxen_contract.transport import ApiKey, RequestGuard, UnsafeRequest
from tests.configs import run_config

HUB = "http://hub.test"
START = 1_767_225_600
MONTH = 30 * 86400
BASE = {"id": "gpt-4.1-mini", "object": "model", "created": 1, "owned_by": "oxen", "model_type": "base"}
PROD = {"id": "alice:sandbox/ft-1-prod", "object": "model", "created": START - MONTH, "owned_by": "alice"}
OLD = {**PROD, "id": "alice:sandbox/ft-1-old", "model_type": "custom"}


@dataclass(frozen=True)
class Deploy:
    """What one deploy POST does: its status, the id it answers (None: the model it made), whether it makes one."""

    status: int = 200
    answered: str | None = None
    creates: bool = True
    retry_after: str | None = None
    # A colleague's model that appears in the namespace while the deploy is under way, with this `created`.
    colleague_created: Any = None


@dataclass
class FakeHub:
    """Enough of a hub for provisioning: a clock, a model table, deploys that can lure, a DELETE that can refuse."""

    models: dict[str, dict[str, Any]] = field(default_factory=lambda: {m["id"]: dict(m) for m in (BASE, PROD)})
    # Models the list does not show (a list of active deployments only): retrieve still answers them.
    hidden: dict[str, dict[str, Any]] = field(default_factory=dict)
    deploys: list[Deploy] = field(default_factory=list)
    delete_status: int = 200
    deploy_posts: int = 0
    deletes: list[str] = field(default_factory=list)
    serial: int = 0
    now: int = START
    send_date: bool = True

    def _answer(self, status: int, body: Any, **headers: str) -> httpx.Response:
        if self.send_date:
            headers["Date"] = formatdate(self.now, usegmt=True)
        return httpx.Response(status, json=body, headers=headers)

    def make(self, model_id: str | None = None, owner: str = "alice") -> str:
        self.serial += 1
        made = {**PROD, "id": model_id or f"{owner}:sandbox/ft-1-{self.serial}", "owned_by": owner, "created": self.now}
        self.models[made["id"]] = made
        return str(made["id"])

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        path = request.url.raw_path.decode().split("?")[0]
        if request.method == "POST" and path.endswith("/deploy"):
            self.deploy_posts += 1
            deploy = self.deploys.pop(0)
            made = self.make() if deploy.creates else None
            if deploy.colleague_created is not None:
                colleague = self.make("alice:sandbox/colleague")
                self.models[colleague]["created"] = deploy.colleague_created
            answered = deploy.answered or made
            body = {"deployment": {"model_slug": answered}} if deploy.status == 200 else {"error": {"message": "x"}}
            extra = {"Retry-After": deploy.retry_after} if deploy.retry_after else {}
            return self._answer(deploy.status, body, **extra)
        if path == "/api/ai/models":
            return self._answer(200, {"object": "list", "data": list(self.models.values())})
        model_id = unquote(path.removeprefix("/api/ai/models/"))
        every = {**self.models, **self.hidden}
        if request.method == "DELETE":
            self.deletes.append(model_id)
            if self.delete_status == 200 and model_id in every:
                self.hidden.pop(model_id, None)
                return self._answer(200, self.models.pop(model_id, None) or every[model_id])
            return self._answer(self.delete_status, {"error": {"message": "no"}})
        if model_id in every:
            return self._answer(200, every[model_id])
        return self._answer(404, {"error": {"message": f"Model not found: {model_id}"}})


def _provisioner(
    hub: FakeHub, *, max_provisions: int = 2, ledger: Ledger | None = None, disposable: tuple[str, ...] = ()
) -> Provisioner:
    guard = RequestGuard(HUB, max_deploys=max_provisions, timeout=5)
    client = HubClient(HUB, {Credential.KEY: ApiKey("k", Credential.KEY)}, guard=guard, sleep=lambda _: None)
    client._http = httpx.Client(transport=httpx.MockTransport(hub.handle))
    config = run_config(
        HUB,
        "k",
        mode=Mode.LIVE,
        fine_tunes=(FineTune("alice", "sandbox", "ft-1"),),
        disposable_models=disposable,
        max_provisions=max_provisions,
        ledger_path=ledger.path if ledger else None,
    )
    return Provisioner(client, config, ledger, log=lambda _: None, sleep=lambda _: None, clock=lambda: hub.now)


def test_a_deploy_that_answers_a_month_old_model_the_list_hid_is_refused_and_nothing_is_deleted() -> None:
    # The list shows live deployments only; the idempotent deploy answers last month's deactivated model.
    hub = FakeHub(hidden={OLD["id"]: dict(OLD)}, deploys=[Deploy(answered=OLD["id"], creates=False)])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError, match="before the deploy was sent") as refused:
        provisioner.fresh_model()
    assert "Nothing was deleted" in str(refused.value)
    provisioner.sweep_leaks()
    assert provisioner.owns == frozenset() and hub.deletes == []
    assert OLD["id"] in hub.hidden
    # Named, with the evidence that failed, for a person to check.
    [unsettled] = provisioner.unsettled
    assert OLD["id"] in unsettled.line() and "before the deploy was sent" in unsettled.line()


@pytest.mark.parametrize(
    ("answered", "says"),
    [
        (PROD["id"], "already listed before the deploy"),
        (BASE["id"], "already listed before the deploy"),
        (".", "not one path segment"),
        ("alice%3Asandbox%2Fft-1-prod", "holds a character outside"),
        ("alice:sandbox/never-made", "retrieving it answered 404"),
    ],
    ids=["existing-model", "base-model", "dot", "encoded-spelling", "unknown"],
)
def test_a_deploy_answer_naming_what_the_run_did_not_make_is_refused_and_nothing_is_deletable(
    answered: str, says: str
) -> None:
    hub = FakeHub(deploys=[Deploy(answered=answered, creates=False)])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError, match=says):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert provisioner.owns == frozenset()
    assert hub.deletes == []


@pytest.mark.parametrize("status", [409, 408, 400, 429, 500, 502, 503])
def test_a_deploy_that_answers_an_error_after_the_upstream_made_its_model_is_reconciled_and_the_model_deleted(
    status: int,
) -> None:
    hub = FakeHub(deploys=[Deploy(status=status, creates=True)])
    provisioner = _provisioner(hub, max_provisions=2)
    with pytest.raises(ProvisioningError, match="it made 'alice:sandbox/ft-1-1', which the run deletes at cleanup"):
        provisioner.fresh_model()
    assert hub.deploy_posts == 1  # neither retried nor taken to have made nothing
    provisioner.sweep_leaks()
    assert hub.deletes == ["alice:sandbox/ft-1-1"]
    assert PROD["id"] in hub.models


def _checked(provisioner: Provisioner) -> Provisioner:
    # As the suite's fixture wires it: every deploy answer is held to the contract before it is used or settled.
    provisioner.check_answer = Verifier(load_contract(), strict=False).deploy_answer
    return provisioner


def test_a_deploy_that_answers_500_is_rule_no_server_error_and_the_model_it_made_is_still_deleted() -> None:
    hub = FakeHub(deploys=[Deploy(status=500, creates=True)])
    provisioner = _checked(_provisioner(hub))
    with pytest.raises(ContractFailure) as failed:
        provisioner.fresh_model()
    assert [finding.clause for finding in failed.value.findings] == ["rule:no-server-error"]
    provisioner.sweep_leaks()
    assert hub.deletes == ["alice:sandbox/ft-1-1"]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_deploy_that_answers_an_availability_status_keeps_today_s_rules(status: int) -> None:
    # 502, 503 and 504 are sorted by a health probe (outcome.triage), not failed as a violation here.
    provisioner = _checked(_provisioner(FakeHub(deploys=[Deploy(status=status, creates=False)])))
    with pytest.raises(ProvisioningError, match=f"answered {status}"):
        provisioner.fresh_model()


def test_a_deploy_refused_with_a_body_off_the_error_contract_is_a_contract_failure() -> None:
    hub = FakeHub(deploys=[Deploy(status=404, creates=False)])
    provisioner = _checked(_provisioner(hub))
    real = hub.handle

    def bare(request: httpx.Request) -> httpx.Response:
        answer = real(request)
        return httpx.Response(404, json={"detail": "gone"}) if request.method == "POST" else answer

    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(bare))
    with pytest.raises(ContractFailure) as failed:
        provisioner.fresh_model()
    assert "error.schema.json#/required" in {finding.clause for finding in failed.value.findings}


def test_a_deploy_probe_counts_against_the_cap_is_ledgered_and_settled_when_it_makes_nothing(tmp_path: Path) -> None:
    hub = FakeHub(deploys=[Deploy(status=404, creates=False)])
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB)
    ledger.acquire()
    provisioner = _provisioner(hub, max_provisions=1, ledger=ledger)
    answer, made = provisioner.probe_deploy(FineTune("alice", "sandbox", "no-such-fine-tune"))
    assert (answer.status, made, hub.deploy_posts, provisioner.deploys) == (404, None, 1, 1)
    events = [json.loads(line)["event"] for line in ledger.path.read_text().splitlines()]
    assert events == ["intent", "closed"]
    with pytest.raises(ProvisionsExhausted):
        provisioner.probe_deploy(FineTune("alice", "sandbox", "no-such-fine-tune"))
    assert hub.deploy_posts == 1


@pytest.mark.parametrize("status", [200, 404])
def test_a_model_a_deploy_probe_makes_anyway_is_the_run_s_and_deleted_at_cleanup(status: int) -> None:
    # A hub that deploys a fine-tune that does not exist (answering it, or answering 404 all the same).
    hub = FakeHub(deploys=[Deploy(status=status, creates=True)])
    provisioner = _provisioner(hub)
    answer, made = provisioner.probe_deploy(FineTune("alice", "sandbox", "no-such-fine-tune"))
    assert (answer.status, made) == (status, "alice:sandbox/ft-1-1")
    provisioner.sweep_leaks()
    assert hub.deletes == ["alice:sandbox/ft-1-1"]


def test_a_failed_deploy_that_made_nothing_never_adopts_a_colleague_s_model_made_later_in_the_run() -> None:
    hub = FakeHub(deploys=[Deploy(status=502, creates=False)])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError, match="answered 502"):
        provisioner.fresh_model()
    assert any("taken to have made nothing" in note for note in provisioner.notes)
    colleague = hub.make()  # a colleague deploys into the shared namespace while the run goes on
    provisioner.sweep_leaks()
    assert hub.deletes == [] and colleague in hub.models


def test_a_429_with_retry_after_that_made_nothing_is_retried_and_counts_against_the_cap() -> None:
    hub = FakeHub(deploys=[Deploy(status=429, creates=False, retry_after="0"), Deploy()])
    provisioner = _provisioner(hub, max_provisions=2)
    model_id = provisioner.fresh_model()
    assert hub.deploy_posts == 2 and provisioner.deploys == 2
    assert provisioner.owns == {model_id}


def test_a_429_with_retry_after_that_made_a_model_is_not_retried_into_another_deploy() -> None:
    hub = FakeHub(deploys=[Deploy(status=429, creates=True, retry_after="0"), Deploy()])
    provisioner = _provisioner(hub, max_provisions=2)
    with pytest.raises(ProvisioningError, match="it made 'alice:sandbox/ft-1-1'"):
        provisioner.fresh_model()
    assert hub.deploy_posts == 1


def test_two_new_models_in_the_deploy_s_window_are_named_for_a_person_and_neither_is_deleted(tmp_path: Path) -> None:
    hub = FakeHub(deploys=[Deploy(status=504, creates=True, colleague_created=START + 3)])
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB)
    provisioner = _provisioner(hub, ledger=ledger)
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert hub.deletes == []
    [unsettled] = provisioner.unsettled
    assert {c.model_id for c in unsettled.candidates} == {"alice:sandbox/colleague", "alice:sandbox/ft-1-1"}
    assert "UNSETTLED deploy attempt 1" in unsettled.line() and "nothing was deleted" in unsettled.line()
    assert ledger.outstanding(include_own=True).intents == []  # settled: named once, not by every later run


def test_a_new_model_whose_created_cannot_be_placed_in_time_is_named_not_adopted() -> None:
    hub = FakeHub(deploys=[Deploy(status=502, creates=True, colleague_created="yesterday")])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert hub.deletes == []
    [unsettled] = provisioner.unsettled
    assert "'alice:sandbox/colleague' (created 'yesterday')" in unsettled.line()


def test_without_a_date_header_the_run_s_clock_dates_the_deploy() -> None:
    hub = FakeHub(deploys=[Deploy()], send_date=False)
    provisioner = _provisioner(hub)
    assert provisioner.fresh_model() == "alice:sandbox/ft-1-1"


def test_a_refused_cleanup_delete_is_a_leak_with_a_curl_line_not_done(tmp_path: Path) -> None:
    hub = FakeHub(deploys=[Deploy()], delete_status=403)
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
    owed = [left.model_id for left in ledger.outstanding(include_own=True).models]
    assert model_id in owed  # still owed: the next run tries again


def test_a_delete_the_guard_refuses_at_cleanup_is_a_leak_line_never_a_silent_stop() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    model_id = provisioner.fresh_model()

    def refuse(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            raise UnsafeRequest(f"refusing to send DELETE {request.url.path}")
        return hub.handle(request)

    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(refuse))
    provisioner.sweep_leaks()
    [leak] = provisioner.leaks
    assert leak.model_id == model_id and not leak.deleted and "refusing to send DELETE" in leak.detail


def test_cleanup_deletes_nothing_when_another_model_now_has_the_id() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    model_id = provisioner.fresh_model()
    hub.models[model_id]["created"] += 3600  # deleted by someone, and a new model made under the same id
    provisioner.sweep_leaks()
    assert hub.deletes == []
    [leak] = provisioner.leaks
    assert "another model now has that id" in leak.detail


def _crashed_run(hub: FakeHub, path: Path) -> tuple[Ledger, str]:
    crashed = _provisioner(hub, ledger=Ledger(path, HUB, run_id="crashed"))
    first = crashed.fresh_model()
    # The second deploy was sent, then the run was killed before it read the answer.
    assert crashed.ledger is not None
    crashed.ledger.record(
        "intent",
        attempt=2,
        fine_tune="alice/sandbox/ft-1",
        snapshot=sorted(hub.models),
        hub_before=hub.now,
        hub_clock=True,
        timeout=5.0,
    )
    return crashed.ledger, first


def test_the_next_run_deletes_a_crashed_run_s_proved_model_and_reconciles_its_unsettled_deploy(
    tmp_path: Path,
) -> None:
    hub = FakeHub(deploys=[Deploy()])
    _, first = _crashed_run(hub, tmp_path / "ledger.jsonl")
    second = hub.make()
    hub.now += 3600
    colleague = hub.make()  # an hour later: outside the crashed deploy's window
    nxt = _provisioner(hub, ledger=Ledger(tmp_path / "ledger.jsonl", HUB, run_id="next"))
    assert nxt.sweep_leftovers() == [first]
    nxt.sweep_leaks()
    assert sorted(hub.deletes) == sorted([first, second])
    assert colleague in hub.models and PROD["id"] in hub.models and BASE["id"] in hub.models
    assert json.loads((tmp_path / "ledger.jsonl").read_text().splitlines()[-1])["run"] == "next"


def test_ledger_lines_from_before_hub_times_were_recorded_still_read_and_delete_nothing(tmp_path: Path) -> None:
    hub = FakeHub()
    leftover = hub.make()
    path = tmp_path / "ledger.jsonl"
    old = Ledger(path, HUB, run_id="old")
    old.record("provisioned", attempt=1, id=leftover)
    # As an older version wrote it: the runner's time, no hub time.
    old.record("intent", attempt=2, fine_tune="alice/sandbox/ft-1", snapshot=sorted(hub.models), at=hub.now)
    made_then = hub.make()
    nxt = _provisioner(hub, ledger=Ledger(path, HUB, run_id="next"))
    assert nxt.sweep_leftovers() == [leftover]
    assert hub.deletes == []
    assert "predates the `created`" in nxt.leaks[0].detail
    assert [c.model_id for u in nxt.unsettled for c in u.candidates] == [made_then]
    # Released and settled: the run after names neither again.
    after = _provisioner(hub, ledger=Ledger(path, HUB, run_id="after"))
    assert after.sweep_leftovers() == [] and after.unsettled == []


def test_a_ledger_line_of_the_wrong_shape_is_named_with_its_line_number_and_the_run_goes_on(tmp_path: Path) -> None:
    hub = FakeHub(deploys=[Deploy()])
    path = tmp_path / "ledger.jsonl"
    path.write_text(json.dumps({"hub": HUB, "run": "x", "event": "provisioned", "at": None, "id": 7}) + "\n")
    provisioner = _provisioner(hub, ledger=Ledger(path, HUB))
    assert provisioner.sweep_leftovers() == []
    [unsettled] = provisioner.unsettled
    assert f"{path}:1 is not a ledger entry" in unsettled.detail
    assert provisioner.fresh_model() == "alice:sandbox/ft-1-1"
    assert path.read_text().splitlines()[0].endswith('"id": 7}')  # kept as it was


def test_a_given_disposable_model_is_used_once_proved_the_namespace_s_custom_model() -> None:
    hub = FakeHub()
    mine = hub.make()
    provisioner = _provisioner(hub, disposable=(mine,))
    assert provisioner.fresh_model() == mine
    refused = _provisioner(hub, disposable=(BASE["id"],))
    with pytest.raises(ProvisioningError, match="owned by 'oxen'"):
        refused.fresh_model()
