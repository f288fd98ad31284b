"""provisioning.py: only proved ids become deletable; no status closes a deploy unseen; when unsure, nothing is deleted.

The fake hub keeps a clock that moves one second per request and sends it as ``Date``, as a real hub does; a model a
deploy makes is registered at that clock's time. Each test sets one lure of issue 18 and checks what was deleted.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from oxen_contract.checking.checks import Verifier
from oxen_contract.checking.contract_failure import ContractFailure, HubTimeout
from oxen_contract.checking.contracts import load_contract
from oxen_contract.checking.exchange import Credential
from oxen_contract.checking.failures import ProvisioningError, ProvisionsExhausted
from oxen_contract.clients.client import HubClient
from oxen_contract.disposables.deploys import Leak, Unsettled
from oxen_contract.disposables.ledger import Ledger
from oxen_contract.disposables.provenance import Candidate
from oxen_contract.disposables.provisioning import Provisioner
from oxen_contract.http.guard import RequestGuard, UnsafeRequest
from oxen_contract.http.redaction import ApiKey
from oxen_contract.settings.config import FineTune, Mode
from oxen_contract.settings.table import DEFAULT_CLOCK_SKEW as SKEW
from tests.configs import run_config

HUB = "http://hub.test"
KEY = ApiKey("k", Credential.KEY)
START = 1_767_225_600
MONTH = 30 * 86400
BASE = {"id": "gpt-4.1-mini", "object": "model", "created": 1, "owned_by": "oxen", "model_type": "base"}
PROD = {"id": "alice:sandbox/ft-1-prod", "object": "model", "created": START - MONTH, "owned_by": "alice"}
OLD = {**PROD, "id": "alice:sandbox/ft-1-old", "model_type": "custom"}
DEPLOY_PATH = "/api/repos/alice/sandbox/fine_tunes/ft-1/deploy"


@dataclass(frozen=True)
class Deploy:
    """What one deploy POST does: its status, the id it answers (None: the model it made), whether it makes one."""

    status: int = 200
    answered: str | None = None
    creates: bool = True
    retry_after: str | None = None
    # A colleague's model that appears in the namespace while the deploy is under way, with this `created`.
    colleague_created: Any = None
    # A colleague's model that appears just after the deploy answered (on the hub's next request).
    colleague_after: bool = False
    # The id and the `created` of the model it makes, when not the hub's next slug and clock.
    makes: str | None = None
    created: Any = None
    # A list that lagged catches up while this deploy runs: every model it hid shows again.
    list_catches_up: bool = False


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
    colleague_next: bool = False
    # Seconds added to the Date of list answers: a cached list, or a host whose clock lags, dates them wrong.
    list_date_offset: int = 0
    # The Date of deploy answers when set ("" for none): a gateway that drops it, or writes something else.
    deploy_date: str | None = None

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
        if self.colleague_next:
            self.colleague_next = False
            self.make("alice:sandbox/colleague")
        path = request.url.raw_path.decode().split("?")[0]
        if request.method == "POST" and path.endswith("/deploy"):
            self.deploy_posts += 1
            deploy = self.deploys.pop(0)
            made = self.make(deploy.makes) if deploy.creates else None
            if made is not None and deploy.created is not None:
                self.models[made]["created"] = deploy.created
            if deploy.list_catches_up:
                self.models.update(self.hidden)
                self.hidden.clear()
            self.colleague_next = deploy.colleague_after
            if deploy.colleague_created is not None:
                colleague = self.make("alice:sandbox/colleague")
                self.models[colleague]["created"] = deploy.colleague_created
            answered = deploy.answered or made
            body: Any = {"deployment": {"model_slug": answered}}
            if "/checkpoints/" in path:  # [S]'s checkpoint answer names the model it made
                body = {"fine_tune": {}, "model": self.models.get(str(answered), {"id": answered})}
            if deploy.status != 200:
                body = {"error": {"message": "x"}}
            extra = {"Retry-After": deploy.retry_after} if deploy.retry_after else {}
            answer = self._answer(deploy.status, body, **extra)
            if self.deploy_date is not None:
                del answer.headers["Date"]
                if self.deploy_date:
                    answer.headers["Date"] = self.deploy_date
            return answer
        if path == "/api/ai/models":
            answer = self._answer(200, {"object": "list", "data": list(self.models.values())})
            if self.list_date_offset and self.send_date:
                answer.headers["Date"] = formatdate(self.now + self.list_date_offset, usegmt=True)
            return answer
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
    hub: FakeHub,
    *,
    max_provisions: int = 2,
    ledger: Ledger | None = None,
    disposable: tuple[str, ...] = (),
    clock_skew: float = 180.0,
    log: Callable[[str], Any] = lambda _: None,
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
        clock_skew=clock_skew,
    )
    provisioner = Provisioner(client, config, ledger, log=log, sleep=lambda _: None, clock=lambda: hub.now)
    # The run's time passes at the hub's pace (a second a request): a deploy's exchange ends, by the hub's clock, when
    # the run stopped waiting for it, as with a real hub whose clock and the runner's both run in real time.
    provisioner.monotonic = lambda: float(hub.now)
    return provisioner


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


def test_a_stale_date_on_the_list_does_not_let_an_old_model_pass_for_the_deploy_s() -> None:
    # The outsider attack on issue 18 (finding 2): the list's Date is 400 days old, so a model created a month ago
    # would look newer than "the deploy"; the deploy's own answer dates the deploy, and the latest date wins.
    hub = FakeHub(
        hidden={OLD["id"]: dict(OLD)},
        deploys=[Deploy(answered=OLD["id"], creates=False)],
        list_date_offset=-400 * 86400,
    )
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError, match="before the deploy was sent"):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert hub.deletes == [] and provisioner.owns == frozenset()


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
    # A hub that deploys a fine-tune that does not exist (answering it, or answering 404 all the same). One clock and
    # no skew, as the local hub: the probe's answer dates the end of its exchange, its model made then is its.
    hub = FakeHub(deploys=[Deploy(status=status, creates=True)])
    provisioner = _provisioner(hub, clock_skew=0)
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


@pytest.mark.parametrize(
    ("outcome", "send_date"),
    [("answered 502", False), ("timed out", True), ("timed out", False)],
    ids=["a-502-without-a-date", "a-timeout", "a-timeout-without-a-date"],
)
def test_a_deploy_whose_reconciliation_waits_for_the_end_of_the_run_never_adopts_a_colleague_s_model_made_meanwhile(
    outcome: str, send_date: bool
) -> None:
    # The list read to reconcile at once fails, so the deploy is reconciled at the end of the run, an hour later. Its
    # window ends when its exchange ended (the answer's Date; without one, or without an answer, the hub's time it
    # was sent plus the time the run waited), not at that last list: the colleague's model is late, never adopted.
    status = 502 if outcome == "answered 502" else 200
    hub = FakeHub(deploys=[Deploy(status=status, creates=False)], send_date=send_date)
    provisioner = _provisioner(hub)
    lists = {"n": 0}

    def fails(request: httpx.Request) -> bool:
        if request.method == "GET" and request.url.path == "/api/ai/models":
            lists["n"] += 1
            return lists["n"] == 2
        return request.method == "POST" and outcome == "timed out"

    provisioner.client._http = httpx.Client(transport=_failing(hub, fails))
    with pytest.raises(ProvisioningError if status == 502 else HubTimeout):
        provisioner.fresh_model()
    hub.now += 3600
    colleague = hub.make()
    provisioner.sweep_leaks()
    assert hub.deletes == [] and colleague in hub.models and provisioner.made == []
    [unsettled] = provisioner.unsettled
    assert [c.model_id for c in unsettled.candidates] == [colleague]
    assert "created after the deploy was answered" in unsettled.detail


@pytest.mark.parametrize("clock_skew", [0.0, 180.0])
def test_a_model_created_after_a_failed_deploy_answered_is_named_never_adopted(clock_skew: float) -> None:
    # The colleague's model is dated after the deploy's 502, before the list read to reconcile. It may be an upstream
    # that went on, or a colleague's: nothing tells which, however much clock skew is allowed.
    hub = FakeHub(deploys=[Deploy(status=502, creates=False, colleague_after=True)])
    provisioner = _provisioner(hub, clock_skew=clock_skew)
    with pytest.raises(ProvisioningError, match="answered 502"):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert hub.deletes == [] and "alice:sandbox/colleague" in hub.models
    [unsettled] = provisioner.unsettled
    assert "created after the deploy was answered" in unsettled.detail
    assert [c.model_id for c in unsettled.candidates] == ["alice:sandbox/colleague"]


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
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, key=KEY)
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
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, key=KEY)
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
    assert provisioner.sweep_leaks() == [model_id]  # still there
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
    crashed = _provisioner(hub, ledger=Ledger(path, HUB, run_id="crashed", key=KEY))
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
    nxt = _provisioner(hub, ledger=Ledger(tmp_path / "ledger.jsonl", HUB, run_id="next", key=KEY))
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
    nxt = _provisioner(hub, ledger=Ledger(path, HUB, run_id="next", key=KEY))
    assert nxt.sweep_leftovers() == [leftover]
    assert hub.deletes == []
    assert "not signed with this run's key" in nxt.leaks[0].detail
    assert [c.model_id for u in nxt.unsettled for c in u.candidates] == [made_then]
    # Released and settled: the run after names neither again.
    after = _provisioner(hub, ledger=Ledger(path, HUB, run_id="after", key=KEY))
    assert after.sweep_leftovers() == [] and after.unsettled == []


def test_a_ledger_line_of_the_wrong_shape_is_named_with_its_line_number_and_the_run_goes_on(tmp_path: Path) -> None:
    hub = FakeHub(deploys=[Deploy()])
    path = tmp_path / "ledger.jsonl"
    path.write_text(json.dumps({"hub": HUB, "run": "x", "event": "provisioned", "at": None, "id": 7}) + "\n")
    provisioner = _provisioner(hub, ledger=Ledger(path, HUB, key=KEY))
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


_UNSIGNED = (
    "since its ledger line is not signed with this run's key (written by another key, an older version or by hand): "
    "nothing shows a run of this key made it"
)


@pytest.mark.parametrize(
    ("forged", "why"),
    [
        ("unsigned", _UNSIGNED),
        ("another-key", _UNSIGNED),
        ("no-intent", "since the ledger holds no signed record of the deploy that made it"),
        ("listed-before", "since it was listed before the deploy that was to have made it"),
        ("older-than-the-deploy", "since its `created` is earlier than the deploy that was to have made it"),
        ("no-created", "since its ledger line predates the `created` this version records"),
    ],
    ids=["unsigned", "another-key", "no-intent", "listed-before", "older-than-the-deploy", "no-created"],
)
def test_a_ledger_line_naming_a_colleague_s_model_never_gets_it_deleted(tmp_path: Path, forged: str, why: str) -> None:
    # The outsider attack on issue 18: `created` is public (the list shows it), so a line that only names a model
    # and its created would pass the retrieve-and-compare check; only a signed chain of this key's run proves it.
    # The leak names the run that wrote the line and the link of the chain that is missing, for a person to check.
    hub = FakeHub()
    victim = str(PROD["id"])
    path = tmp_path / "ledger.jsonl"
    key = ApiKey("someone-else", Credential.KEY) if forged == "another-key" else KEY
    writer = Ledger(path, HUB, run_id="forger", key=None if forged == "unsigned" else key)
    if forged != "no-intent":
        snapshot = [victim] if forged == "listed-before" else []
        hub_before = float(PROD["created"]) + (3600 if forged == "older-than-the-deploy" else -5)
        writer.record("intent", attempt=1, fine_tune="alice/sandbox/ft-1", snapshot=snapshot, hub_before=hub_before)
    created = {} if forged == "no-created" else {"created": PROD["created"]}
    writer.record("provisioned", attempt=1, id=victim, **created)
    provisioner = _provisioner(hub, ledger=Ledger(path, HUB, run_id="next", key=KEY))
    provisioner.sweep_leftovers()
    assert hub.deletes == [] and victim in hub.models
    [leak] = provisioner.leaks
    assert (leak.model_id, leak.deleted, leak.detail) == (victim, False, f"left by run forger: not deleted, {why}")


def test_a_leftover_created_as_early_as_the_skew_allows_is_still_its_deploy_s(tmp_path: Path) -> None:
    # Rule 4's edge across runs, as within one: created exactly the skew before the deploy was sent is inside.
    hub = FakeHub()
    path = tmp_path / "ledger.jsonl"
    made = hub.make()
    ended = Ledger(path, HUB, run_id="ended", key=KEY)
    hub_before = float(hub.models[made]["created"]) + SKEW
    ended.record("intent", attempt=1, fine_tune="alice/sandbox/ft-1", snapshot=[], hub_before=hub_before)
    ended.record("provisioned", attempt=1, id=made, created=hub.models[made]["created"])
    provisioner = _provisioner(hub, ledger=Ledger(path, HUB, run_id="next", key=KEY))
    assert provisioner.sweep_leftovers() == [made]
    assert hub.deletes == [made]


def test_a_leftover_whose_id_another_model_took_since_is_released_to_a_person_not_deleted(tmp_path: Path) -> None:
    hub = FakeHub()
    path = tmp_path / "ledger.jsonl"
    made = hub.make()
    ended = Ledger(path, HUB, run_id="ended", key=KEY)
    ended.record("intent", attempt=1, fine_tune="alice/sandbox/ft-1", snapshot=[], hub_before=float(hub.now - 1))
    ended.record("provisioned", attempt=1, id=made, created=hub.models[made]["created"])
    hub.models[made]["created"] += 86400  # deleted by someone, and another model made under the same id since
    provisioner = _provisioner(hub, ledger=Ledger(path, HUB, run_id="next", key=KEY))
    assert provisioner.sweep_leftovers() == [made]
    assert hub.deletes == []
    [leak] = provisioner.leaks
    assert not leak.deleted and "another model now has that id" in leak.detail


def test_a_leftover_whose_id_no_delete_can_name_as_itself_is_never_deleted(tmp_path: Path) -> None:
    hub = FakeHub()
    path = tmp_path / "ledger.jsonl"
    ended = Ledger(path, HUB, run_id="ended", key=KEY)
    ended.record("intent", attempt=1, fine_tune="alice/sandbox/ft-1", snapshot=[], hub_before=float(hub.now))
    ended.record("provisioned", attempt=1, id=".", created=hub.now)
    provisioner = _provisioner(hub, ledger=Ledger(path, HUB, run_id="next", key=KEY))
    assert provisioner.sweep_leftovers() == []
    assert hub.deletes == [] and provisioner.owns == frozenset()


def test_a_signed_chain_of_an_ended_run_of_this_key_gets_its_model_deleted(tmp_path: Path) -> None:
    hub = FakeHub()
    path = tmp_path / "ledger.jsonl"
    made = hub.make()
    ended = Ledger(path, HUB, run_id="ended", key=KEY)
    ended.record("intent", attempt=1, fine_tune="alice/sandbox/ft-1", snapshot=[], hub_before=float(hub.now - 1))
    ended.record("provisioned", attempt=1, id=made, created=hub.models[made]["created"])
    provisioner = _provisioner(hub, ledger=Ledger(path, HUB, run_id="next", key=KEY))
    assert provisioner.sweep_leftovers() == [made]
    assert hub.deletes == [made]


# The ledger's story: what a later run reads to find what this one made (provenance.py's rule 2, and reconciliation
# across runs "with the hub times the ledger recorded"). Each line is checked whole, less the fields every line has.


def _story(ledger: Ledger) -> list[dict[str, Any]]:
    lines = ledger.path.read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k not in ("hub", "run", "at", "mac")} for line in lines]


def _intent(attempt: int, snapshot: list[str], hub_before: int, **more: Any) -> dict[str, Any]:
    fields = {"fine_tune": "alice/sandbox/ft-1", "snapshot": snapshot, "hub_before": hub_before, "hub_clock": True}
    return {"event": "intent", "attempt": attempt, **fields, "timeout": 5.0, **more}


def test_a_deploy_writes_its_intent_before_it_is_sent_then_its_answer_its_proof_and_its_delete(tmp_path: Path) -> None:
    hub = FakeHub(deploys=[Deploy()])
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, key=KEY)
    provisioner = _provisioner(hub, ledger=ledger)
    before = sorted(hub.models)
    model_id = provisioner.fresh_model()  # the list at START + 1, the deploy at + 2 (the model's created), retrieve + 3
    assert provisioner.dispose(model_id) is True
    assert _story(ledger) == [
        _intent(1, before, START + 1),
        {"event": "answered", "attempt": 1, "id": model_id},
        {"event": "provisioned", "attempt": 1, "id": model_id, "created": START + 2},
        {"event": "deleted", "id": model_id},
    ]
    assert provisioner.deleted == {model_id} and provisioner.leaks == []


def test_a_failed_deploy_s_model_found_by_reconciliation_is_recorded_and_named_with_how_it_came_to_be_the_run_s(
    tmp_path: Path,
) -> None:
    hub = FakeHub(deploys=[Deploy(status=504, creates=True)])
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, key=KEY)
    provisioner = _provisioner(hub, ledger=ledger)
    before = sorted(hub.models)
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    assert provisioner.sweep_leaks() == ["alice:sandbox/ft-1-1"]
    assert _story(ledger) == [
        _intent(1, before, START + 1),
        {"event": "provisioned", "attempt": 1, "id": "alice:sandbox/ft-1-1", "created": START + 2},
        {"event": "deleted", "id": "alice:sandbox/ft-1-1"},
    ]
    assert provisioner.leaks == [
        Leak(
            "alice:sandbox/ft-1-1",
            True,
            "made by deploy attempt 1, which answered 504; found by reconciliation",
            "",
        )
    ]


def test_a_failed_deploy_that_made_nothing_is_closed_with_nothing_adopted(tmp_path: Path) -> None:
    hub = FakeHub(deploys=[Deploy(status=502, creates=False)])
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, key=KEY)
    provisioner = _provisioner(hub, ledger=ledger)
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    assert _story(ledger)[1:] == [{"event": "closed", "attempt": 1, "adopted": None}]
    assert provisioner.sweep_leaks() == [] and provisioner.leaks == []


def test_a_deploy_with_two_candidates_is_closed_naming_both_and_adopting_none(tmp_path: Path) -> None:
    hub = FakeHub(deploys=[Deploy(status=504, creates=True, colleague_created=START + 3)])
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, key=KEY)
    provisioner = _provisioner(hub, ledger=ledger)
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    candidates = ["alice:sandbox/ft-1-1", "alice:sandbox/colleague"]
    assert _story(ledger)[1:] == [{"event": "closed", "attempt": 1, "adopted": None, "candidates": candidates}]
    [unsettled] = provisioner.unsettled
    assert unsettled.deploy == "deploy attempt 1"
    assert unsettled.detail == (
        "answered 504; more than one new custom model, one whose `created` cannot be placed in time, or one created "
        "after the deploy was answered (an upstream that went on, or a colleague: nothing tells which)"
    )
    assert [c.model_id for c in unsettled.candidates] == candidates


def test_a_deploy_answer_that_cannot_be_proved_is_named_with_the_model_it_named_when_nothing_else_is_found(
    tmp_path: Path,
) -> None:
    hub = FakeHub(hidden={OLD["id"]: dict(OLD)}, deploys=[Deploy(answered=OLD["id"], creates=False)])
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, key=KEY)
    provisioner = _provisioner(hub, ledger=ledger)
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    assert _story(ledger)[1:] == [
        {"event": "answered", "attempt": 1, "id": OLD["id"]},
        {"event": "closed", "attempt": 1, "adopted": None},
    ]
    [unsettled] = provisioner.unsettled
    assert unsettled.deploy == "deploy attempt 1"
    assert unsettled.detail.startswith(f"answered 200 naming {OLD['id']!r}, which is not proved the deploy's: ")
    assert [(c.model_id, c.created) for c in unsettled.candidates] == [(OLD["id"], OLD["created"])]


def _old_intent(hub: FakeHub, path: Path, **fields: Any) -> Ledger:
    old = Ledger(path, HUB, run_id="old", key=KEY)
    intent = {"fine_tune": "alice/sandbox/ft-1", "snapshot": sorted(hub.models), "hub_before": hub.now}
    old.record("intent", attempt=1, **{**intent, "hub_clock": True, "timeout": 5.0, **fields})
    return old


def test_the_next_run_adopts_the_one_model_a_crashed_deploy_made_in_its_window_and_settles_it_in_that_run_s_name(
    tmp_path: Path,
) -> None:
    hub = FakeHub()
    _old_intent(hub, tmp_path / "ledger.jsonl")
    hub.now += 5 + int(SKEW)  # the window's end: the deploy's timeout plus the skew
    made = hub.make()
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, run_id="next", key=KEY)
    nxt = _provisioner(hub, ledger=ledger)
    assert nxt.sweep_leftovers() == [] and nxt.made == [made]
    assert nxt.sweep_leaks() == [made]
    assert _story(ledger)[1:] == [
        {"event": "provisioned", "attempt": None, "id": made, "created": START + 5 + int(SKEW)},
        {"event": "closed", "attempt": 1, "run_of_intent": "old", "adopted": made, "candidates": [made]},
        {"event": "deleted", "id": made},
    ]
    assert nxt.leaks == [
        Leak(made, True, "made by deploy attempt 1 of run old, never settled; found by reconciliation", "")
    ]


def test_a_model_made_after_a_crashed_deploy_s_window_is_not_that_deploy_s(tmp_path: Path) -> None:
    hub = FakeHub()
    _old_intent(hub, tmp_path / "ledger.jsonl")
    hub.now += 5 + int(SKEW) + 1
    made = hub.make()
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, run_id="next", key=KEY)
    nxt = _provisioner(hub, ledger=ledger)
    nxt.sweep_leftovers()
    assert nxt.made == [] and nxt.unsettled == []
    nxt.sweep_leaks()
    assert hub.deletes == [] and made in hub.models
    assert _story(ledger)[1:] == [
        {"event": "closed", "attempt": 1, "run_of_intent": "old", "adopted": None, "candidates": []}
    ]


def test_a_crashed_deploy_s_one_candidate_that_fails_the_rule_is_named_not_adopted(tmp_path: Path) -> None:
    hub = FakeHub()
    _old_intent(hub, tmp_path / "ledger.jsonl")
    odd = hub.make("alice:sandbox/ft-1 copy")  # in the window, but no id a DELETE can name as itself
    nxt = _provisioner(hub, ledger=Ledger(tmp_path / "ledger.jsonl", HUB, run_id="next", key=KEY))
    nxt.sweep_leftovers()
    nxt.sweep_leaks()
    assert hub.deletes == [] and nxt.made == []
    [unsettled] = nxt.unsettled
    assert unsettled.deploy == "deploy attempt 1 of run old"
    assert unsettled.detail.startswith(
        "the one new model between 2025-12-31T23:57:00Z and 2026-01-01T00:03:05Z is not proved its: "
    )
    assert [c.model_id for c in unsettled.candidates] == [odd]


def test_a_crashed_run_s_legacy_intent_is_closed_naming_its_candidates_and_why_none_is_adopted(tmp_path: Path) -> None:
    hub = FakeHub()
    path = tmp_path / "ledger.jsonl"
    Ledger(path, HUB, run_id="old", key=KEY).record(
        "intent", attempt=2, fine_tune="f", snapshot=sorted(hub.models), at=hub.now
    )
    made = hub.make()
    ledger = Ledger(path, HUB, run_id="next", key=KEY)
    nxt = _provisioner(hub, ledger=ledger)
    nxt.sweep_leftovers()
    [unsettled] = nxt.unsettled
    assert unsettled.deploy == "deploy attempt 2 of run old"
    assert unsettled.detail == (
        "its ledger line predates the hub times this version records, or is not signed with this run's key, so no "
        "model can be proved its"
    )
    assert _story(ledger)[1:] == [
        {"event": "closed", "attempt": 2, "run_of_intent": "old", "adopted": None, "candidates": [made]}
    ]


@pytest.mark.parametrize("status", [403, 404])
def test_a_fine_tune_the_hub_refuses_is_never_deployed_again_in_the_run(status: int) -> None:
    hub = FakeHub(deploys=[Deploy(status=status, creates=False)])
    provisioner = _provisioner(hub, max_provisions=3)
    with pytest.raises(ProvisioningError, match=f"answered {status}"):
        provisioner.fresh_model()
    with pytest.raises(ProvisioningError) as again:
        provisioner.fresh_model()
    assert str(again.value) == (
        f"cannot provision a disposable model: the fine-tune alice/sandbox/ft-1 cannot be deployed (its deploy "
        f"answered {status}); check --fine-tune and that OXEN_API_KEY belongs to alice"
    )
    assert hub.deploy_posts == 1


@pytest.mark.parametrize(("status", "creates"), [(405, False), (409, False), (404, True)])
def test_a_refusal_that_is_not_the_fine_tune_s_or_that_made_a_model_leaves_the_fine_tune_to_try_again(
    status: int, creates: bool
) -> None:
    hub = FakeHub(deploys=[Deploy(status=status, creates=creates), Deploy()])
    provisioner = _provisioner(hub, max_provisions=3)
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    assert provisioner.fresh_model().startswith("alice:sandbox/ft-1-")
    assert hub.deploy_posts == 2


@pytest.mark.parametrize(("retry_after", "slept"), [("2", 2.0), ("45", 30.0)])
def test_a_429_is_retried_after_its_retry_after_capped_at_30_s(retry_after: str, slept: float) -> None:
    hub = FakeHub(deploys=[Deploy(status=429, creates=False, retry_after=retry_after), Deploy()])
    provisioner = _provisioner(hub, max_provisions=2)
    sleeps: list[float] = []
    provisioner.sleep = sleeps.append
    provisioner.fresh_model()
    assert sleeps == [slept]


def test_a_429_is_not_retried_past_the_cap() -> None:
    hub = FakeHub(deploys=[Deploy(status=429, creates=False, retry_after="0"), Deploy()])
    provisioner = _provisioner(hub, max_provisions=1)
    with pytest.raises(ProvisioningError, match="answered 429"):
        provisioner.fresh_model()
    assert hub.deploy_posts == 1
    assert provisioner.unavailable_reason() == "--max-provisions 1 reached: raise it to run this test too"


def _slow_to_show(hub: FakeHub, misses: int) -> httpx.MockTransport:
    """A hub whose retrieve answers 404 for a fresh model ``misses`` times before it finds it."""
    seen: dict[str, int] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        path = unquote(request.url.raw_path.decode().split("?")[0])
        model_id = path.removeprefix("/api/ai/models/")
        if request.method == "GET" and model_id.startswith("alice:sandbox/ft-1-"):
            seen[model_id] = seen.get(model_id, 0) + 1
            if seen[model_id] <= misses:
                return httpx.Response(404, json={"error": {"message": f"Model not found: {model_id}"}})
        return hub.handle(request)

    return httpx.MockTransport(handle)


def test_a_fresh_deploy_s_model_is_retrieved_again_each_second_until_it_shows() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    provisioner.client._http = httpx.Client(transport=_slow_to_show(hub, 2))
    sleeps: list[float] = []
    provisioner.sleep = sleeps.append
    assert provisioner.fresh_model() == "alice:sandbox/ft-1-1"
    assert sleeps == [1.0, 1.0]


def test_a_fresh_deploy_s_model_that_never_shows_is_retrieved_ten_times_and_not_the_run_s() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    provisioner.client._http = httpx.Client(transport=_slow_to_show(hub, 99))
    sleeps: list[float] = []
    provisioner.sleep = sleeps.append
    with pytest.raises(ProvisioningError, match="retrieving it answered 404"):
        provisioner.fresh_model()
    assert sleeps == [1.0] * 9


def test_cleanup_of_a_model_already_gone_is_recorded_as_deleted_without_a_delete(tmp_path: Path) -> None:
    hub = FakeHub(deploys=[Deploy()])
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, key=KEY)
    provisioner = _provisioner(hub, ledger=ledger)
    model_id = provisioner.fresh_model()
    del hub.models[model_id]
    assert provisioner.dispose(model_id) is False
    assert hub.deletes == [] and provisioner.deleted == {model_id}
    assert _story(ledger)[-1] == {"event": "deleted", "id": model_id}


@pytest.mark.parametrize(("status", "gone"), [(404, True), (405, False)])
def test_a_delete_answered_404_is_done_and_any_other_refusal_a_leak(status: int, gone: bool) -> None:
    hub = FakeHub(deploys=[Deploy()], delete_status=status)
    provisioner = _provisioner(hub)
    model_id = provisioner.fresh_model()
    assert provisioner.dispose(model_id) is True
    assert (model_id in provisioner.deleted) == gone
    assert [leak.detail for leak in provisioner.leaks] == ([] if gone else [f"its DELETE answered {status}"])


def test_a_model_whose_created_moved_is_released_to_a_person_and_owed_by_no_later_run(tmp_path: Path) -> None:
    hub = FakeHub(deploys=[Deploy()])
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, key=KEY)
    provisioner = _provisioner(hub, ledger=ledger)
    model_id = provisioner.fresh_model()
    hub.models[model_id]["created"] += 3600
    assert provisioner.dispose(model_id) is True
    [leak] = provisioner.leaks
    detail = (
        f"not deleted: its `created` is {START + 2 + 3600}, not {START + 2} as when the run proved it: another "
        "model now has that id"
    )
    assert (leak.model_id, leak.deleted, leak.detail) == (model_id, False, detail)
    assert _story(ledger)[-1] == {"event": "released", "id": model_id, "reason": detail}
    assert list(ledger.outstanding(include_own=True).models) == []


def test_a_given_disposable_model_s_delete_is_no_ledger_line_of_a_model_the_run_made(tmp_path: Path) -> None:
    hub = FakeHub()
    mine = hub.make()
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, key=KEY)
    provisioner = _provisioner(hub, ledger=ledger, disposable=(mine,))
    assert provisioner.fresh_model() == mine
    assert provisioner.dispose(mine) is True
    assert hub.deletes == [mine] and provisioner.deleted == {mine}
    assert not ledger.path.exists()


def test_at_the_end_every_model_the_run_made_and_still_there_is_deleted_and_named(tmp_path: Path) -> None:
    hub = FakeHub(deploys=[Deploy(), Deploy(), Deploy()])
    provisioner = _provisioner(hub, max_provisions=3)
    first, second, third = (provisioner.fresh_model() for _ in range(3))
    provisioner.dispose(second)  # a test deleted it
    assert provisioner.sweep_leaks() == [first, third]
    assert provisioner.leaks == [Leak(first, True, "a test left it", ""), Leak(third, True, "a test left it", "")]
    assert provisioner.cleanup_said() == "the run made 3 model(s) and deleted 3; left 0"


def test_the_deploy_cap_is_reached_at_exactly_max_provisions_and_given_models_come_first() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub, max_provisions=1)
    assert provisioner.unavailable_reason() is None
    provisioner.fresh_model()
    assert provisioner.unavailable_reason() == "--max-provisions 1 reached: raise it to run this test too"
    given = _provisioner(FakeHub(), max_provisions=1, disposable=("alice:sandbox/given",))
    given.deploys = 1
    assert given.unavailable_reason() is None


def test_the_shared_model_comes_from_the_first_fine_tune_and_every_other_from_the_last(tmp_path: Path) -> None:
    hub = FakeHub(deploys=[Deploy(), Deploy()])
    provisioner = _provisioner(hub, max_provisions=2)
    fine_tunes = (FineTune("alice", "sandbox", "ft-1"), FineTune("alice", "sandbox", "ft-2", 7))
    provisioner.config = dataclasses.replace(provisioner.config, fine_tunes=fine_tunes)
    paths: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        paths.append(f"{request.method} {request.url.path}")
        return hub.handle(request)

    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(record))
    provisioner.fresh_model(shared=True)
    provisioner.fresh_model()
    deploys = [path for path in paths if path.endswith("/deploy")]
    assert deploys == [
        "POST /api/repos/alice/sandbox/fine_tunes/ft-1/deploy",
        "POST /api/repos/alice/sandbox/fine_tunes/ft-2/checkpoints/7/deploy",
    ]


def _failing(hub: FakeHub, fails: Callable[[httpx.Request], bool]) -> httpx.MockTransport:
    """The hub, but the requests ``fails`` picks time out after the hub has handled them (its effects stay)."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = hub.handle(request)
        if fails(request):
            raise httpx.ReadTimeout("timed out", request=request)
        return answer

    return httpx.MockTransport(handle)


def test_a_deploy_that_times_out_after_the_hub_made_its_model_is_reconciled_and_the_model_deleted() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    provisioner.client._http = httpx.Client(transport=_failing(hub, lambda r: r.method == "POST"))
    # The run sees the timeout (rule:answers-in-time); the model the deploy made is the run's all the same.
    with pytest.raises(HubTimeout):
        provisioner.fresh_model()
    assert provisioner.made == ["alice:sandbox/ft-1-1"]
    assert provisioner.sweep_leaks() == ["alice:sandbox/ft-1-1"] and hub.deletes == ["alice:sandbox/ft-1-1"]


def test_a_probe_deploy_that_times_out_is_reconciled_too() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    provisioner.client._http = httpx.Client(transport=_failing(hub, lambda r: r.method == "POST"))
    with pytest.raises(HubTimeout):
        provisioner.probe_deploy(FineTune("alice", "sandbox", "no-such-fine-tune"))
    assert provisioner.made == ["alice:sandbox/ft-1-1"]


@pytest.mark.parametrize(
    "broken",
    [{"deployment": {"model_slug": ""}}, {"deployment": {"model_slug": 42, "status": 1}}],
    ids=["naming-no-model", "breaking-the-contract"],
)
def test_a_deploy_answer_that_names_no_usable_model_is_reconciled_and_its_model_deleted(broken: dict[str, Any]) -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _checked(_provisioner(hub))
    real = hub.handle

    def answer(request: httpx.Request) -> httpx.Response:
        answered = real(request)
        return httpx.Response(200, json=broken) if request.method == "POST" else answered

    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(answer))
    with pytest.raises((ProvisioningError, ContractFailure)):
        provisioner.fresh_model()
    assert provisioner.made == ["alice:sandbox/ft-1-1"]
    provisioner.sweep_leaks()
    assert hub.deletes == ["alice:sandbox/ft-1-1"]


def test_a_deploy_whose_retrieve_timed_out_stays_open_and_is_settled_at_the_end_of_the_run() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    retrieves = {"n": 0}

    def first_retrieve_fails(request: httpx.Request) -> bool:
        if request.method == "GET" and "ft-1-1" in request.url.path:
            retrieves["n"] += 1
            return retrieves["n"] == 1
        return False

    provisioner.client._http = httpx.Client(transport=_failing(hub, first_retrieve_fails))
    with pytest.raises(ProvisioningError, match="retrieving it failed"):
        provisioner.fresh_model()
    assert provisioner.made == []
    assert provisioner.sweep_leaks() == ["alice:sandbox/ft-1-1"]
    assert hub.deletes == ["alice:sandbox/ft-1-1"]
    [leak] = provisioner.leaks
    assert leak.detail == "made by deploy attempt 1, which was never settled during the run; found by reconciliation"


def test_cleanup_that_cannot_retrieve_the_model_deletes_nothing_and_names_it() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    model_id = provisioner.fresh_model()
    provisioner.client._http = httpx.Client(transport=_failing(hub, lambda r: r.method == "GET"))
    assert provisioner.dispose(model_id) is True
    assert hub.deletes == []
    [leak] = provisioner.leaks
    assert leak.model_id == model_id and not leak.deleted
    assert leak.detail.startswith("not deleted: retrieving it failed (")


def test_a_failed_reconciliation_list_is_noted_and_looked_at_again_at_the_end() -> None:
    hub = FakeHub(deploys=[Deploy(status=504, creates=True)])
    provisioner = _provisioner(hub)
    lists = {"n": 0}

    def second_list_fails(request: httpx.Request) -> bool:
        if request.method == "GET" and request.url.path == "/api/ai/models":
            lists["n"] += 1
            return lists["n"] == 2
        return False

    provisioner.client._http = httpx.Client(transport=_failing(hub, second_list_fails))
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    [note] = provisioner.notes
    assert note.startswith("deploy attempt 1 answered 504; the list read to reconcile it failed (")
    assert note.endswith("): looked at again at the end of the run")
    assert provisioner.sweep_leaks() == ["alice:sandbox/ft-1-1"]


def test_reconciliation_dates_the_deploy_by_the_hub_s_date_not_the_run_s_clock() -> None:
    hub = FakeHub(deploys=[Deploy(status=504, creates=True)])
    provisioner = _provisioner(hub)
    provisioner.clock = lambda: hub.now - 3600  # the runner's clock is an hour behind the hub's
    with pytest.raises(ProvisioningError, match="it made 'alice:sandbox/ft-1-1'"):
        provisioner.fresh_model()


def test_without_a_date_reconciliation_adopts_nothing_and_names_the_new_model() -> None:
    # The run's clock may be off the hub's by up to --clock-skew: a colleague's model made just after the deploy
    # would fall in a window read off it as well as the deploy's own. Named for a person, never deleted.
    hub = FakeHub(deploys=[Deploy(status=504, creates=True)], send_date=False)
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError, match="answered 504$|answered 504\n"):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert hub.deletes == [] and provisioner.made == []
    [unsettled] = provisioner.unsettled
    assert [c.model_id for c in unsettled.candidates] == ["alice:sandbox/ft-1-1"]
    assert unsettled.detail.endswith(
        "but the hub sent no Date to place the deploy in time by its clock (the run's may be off it)"
    )


def test_reconciliation_never_adopts_an_id_another_run_named(tmp_path: Path) -> None:
    # A colleague's run answered the colleague's model: rule 2 leaves one candidate, this deploy's own.
    hub = FakeHub(deploys=[Deploy(status=504, creates=True, colleague_created=START + 3)])
    path = tmp_path / "ledger.jsonl"
    Ledger(path, HUB, run_id="colleague", key=KEY).record("answered", attempt=1, id="alice:sandbox/colleague")
    provisioner = _provisioner(hub, ledger=Ledger(path, HUB, run_id="this", key=KEY))
    with pytest.raises(ProvisioningError, match="it made 'alice:sandbox/ft-1-1'"):
        provisioner.fresh_model()


def test_the_next_run_adopts_a_crashed_deploy_s_answered_model_but_never_a_third_run_s(tmp_path: Path) -> None:
    hub = FakeHub()
    path = tmp_path / "ledger.jsonl"
    old = _old_intent(hub, path)
    made = hub.make()
    old.record("answered", attempt=1, id=made)  # the crashed run saw the answer, and died before proving it
    third = hub.make("alice:sandbox/third")
    Ledger(path, HUB, run_id="third", key=KEY).record("answered", attempt=1, id=third)
    nxt = _provisioner(hub, ledger=Ledger(path, HUB, run_id="next", key=KEY))
    nxt.sweep_leftovers()
    assert nxt.made == [made] and nxt.unsettled == []


def test_a_deploy_s_unproved_answer_is_named_beside_the_candidates_reconciliation_cannot_tell_apart() -> None:
    hub = FakeHub(
        hidden={OLD["id"]: dict(OLD)},
        deploys=[Deploy(answered=OLD["id"], creates=True, colleague_created=START + 3)],
    )
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    assert [u.deploy for u in provisioner.unsettled] == ["deploy attempt 1", "deploy attempt 1"]
    named = provisioner.unsettled[1]
    assert named.detail.startswith(f"answered 200 naming {OLD['id']!r}, which is not proved the deploy's: ")
    assert [c.model_id for c in named.candidates] == [OLD["id"]]


def test_without_the_key_s_namespace_no_leftover_of_a_ledger_is_swept(tmp_path: Path) -> None:
    hub = FakeHub()
    path = tmp_path / "ledger.jsonl"
    _old_intent(hub, path)
    provisioner = _provisioner(hub, ledger=Ledger(path, HUB, run_id="next", key=KEY))
    provisioner.config = dataclasses.replace(provisioner.config, namespace=None)
    assert provisioner.sweep_leftovers() == []
    assert provisioner.notes == [
        "the ledger holds 0 model(s) and 1 unsettled deploy(s) of earlier runs; none swept: pass --namespace (or "
        "--fine-tune) to let the run verify them"
    ]


# What the run says: every deploy, proof, refusal and cleanup is named, in words a person can act on ---------------


def _answering(hub: FakeHub, pick: Callable[[httpx.Request], bool], status: int, body: Any) -> httpx.MockTransport:
    """The hub, but the requests ``pick`` selects get this answer (after the hub has handled them)."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = hub.handle(request)
        return hub._answer(status, body) if pick(request) else answer

    return httpx.MockTransport(handle)


# How a retrieve of the first model the fake hub makes that times out is named (the first line of its HubTimeout).
_RETRIEVE_FAILED = (
    "Contract violation in retrieveModel: GET /api/ai/models/alice%3Asandbox%2Fft-1-1, id 'alice:sandbox/ft-1-1'"
)


def _is_list(request: httpx.Request) -> bool:
    return request.method == "GET" and request.url.path == "/api/ai/models"


def test_the_run_says_each_deploy_it_sends_each_model_it_proves_or_reconciles_and_what_cleanup_did() -> None:
    said: list[str] = []
    hub = FakeHub(deploys=[Deploy(), Deploy(status=504, creates=True)], delete_status=403)
    provisioner = _provisioner(hub, max_provisions=3, log=said.append)
    first = provisioner.fresh_model()
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    hub.delete_status = 200
    provisioner.dispose(first)
    assert said == [
        "deploy 1/3 of alice/sandbox/ft-1 answered 200",
        "provisioned 'alice:sandbox/ft-1-1' (1/3)",
        "deploy 2/3 of alice/sandbox/ft-1 answered 504",
        "reconciled deploy attempt 2: it made 'alice:sandbox/ft-1-2', which the run deletes at cleanup",
        "cleanup: could not delete 'alice:sandbox/ft-1-1': its DELETE answered 403",
        "cleanup: could not delete 'alice:sandbox/ft-1-2': its DELETE answered 403",
        "cleanup: deleted 'alice:sandbox/ft-1-1' (answered 200)",
    ]


def test_the_run_says_each_deploy_probe_and_what_it_found_in_an_earlier_run_s_ledger(tmp_path: Path) -> None:
    said: list[str] = []
    hub = FakeHub(deploys=[Deploy(status=404, creates=False)])
    path = tmp_path / "ledger.jsonl"
    _old_intent(hub, path)
    made = hub.make()
    provisioner = _provisioner(hub, ledger=Ledger(path, HUB, run_id="next", key=KEY), log=said.append)
    provisioner.sweep_leftovers()
    provisioner.probe_deploy(FineTune("alice", "sandbox", "no-such-fine-tune"))
    assert said == [
        f"checking the ledger {path} for models an earlier run left behind",
        f"reconciled deploy attempt 1 of run old: it made {made!r}, which the run deletes",
        "deploy 1/2 (a probe) of alice/sandbox/no-such-fine-tune: 404",
    ]


def test_a_refused_deploy_is_named_with_its_answer_and_a_curl_line_to_send_it_again_and_claims_no_model() -> None:
    hub = FakeHub(deploys=[Deploy(status=502, creates=False)])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError) as refused:
        provisioner.fresh_model()
    assert str(refused.value) == (
        f"cannot provision a disposable model: POST {DEPLOY_PATH} answered 502\n"
        '  body: {"error":{"message":"x"}}\n'
        f'  reproduce with: curl -X POST {HUB}{DEPLOY_PATH} -H "Authorization: Bearer $OXEN_API_KEY"'
    )


def test_a_deploy_answer_that_cannot_be_proved_is_named_with_its_answer_a_curl_line_and_the_model_reconciled() -> None:
    # The deploy answers last month's model (an idempotent deploy), and made a new one too: that one is found.
    hub = FakeHub(hidden={OLD["id"]: dict(OLD)}, deploys=[Deploy(answered=OLD["id"], creates=True)])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError) as refused:
        provisioner.fresh_model()
    first, body, curl = str(refused.value).splitlines()
    assert first.startswith(f"cannot use the deploy answer: POST {DEPLOY_PATH} answered 200 naming {OLD['id']!r}: ")
    assert first.endswith(". Nothing was deleted; it made 'alice:sandbox/ft-1-1', which the run deletes at cleanup."), (
        first
    )
    assert body == f'  body: {{"deployment":{{"model_slug":"{OLD["id"]}"}}}}'
    assert curl == f'  reproduce with: curl -X POST {HUB}{DEPLOY_PATH} -H "Authorization: Bearer $OXEN_API_KEY"'
    assert provisioner.made == ["alice:sandbox/ft-1-1"]


def test_a_model_a_timed_out_deploy_made_is_named_with_how_it_came_to_be_the_run_s() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    provisioner.client._http = httpx.Client(transport=_failing(hub, lambda r: r.method == "POST"))
    with pytest.raises(HubTimeout):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert [leak.detail for leak in provisioner.leaks] == [
        "made by deploy attempt 1, which got no whole answer; found by reconciliation"
    ]


def test_a_probe_that_timed_out_names_the_model_it_made_with_the_error_it_got() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    provisioner.client._http = httpx.Client(transport=_failing(hub, lambda r: r.method == "POST"))
    with pytest.raises(HubTimeout) as timed_out:
        provisioner.probe_deploy(FineTune("alice", "sandbox", "no-such-fine-tune"))
    provisioner.sweep_leaks()
    error = str(timed_out.value).strip().splitlines()[0]
    assert [leak.detail for leak in provisioner.leaks] == [
        f"made by deploy attempt 1, which got no answer ({error}); found by reconciliation"
    ]


def test_a_probe_that_made_nothing_is_noted_with_what_it_answered() -> None:
    hub = FakeHub(deploys=[Deploy(status=404, creates=False)])
    provisioner = _provisioner(hub)
    provisioner.probe_deploy(FineTune("alice", "sandbox", "no-such-fine-tune"))
    [note] = provisioner.notes
    assert note.startswith("deploy attempt 1 answered 404; no new custom model of 'alice' was created between ")
    assert note.endswith("taken to have made nothing (if one shows up later, it may be this deploy's)")


def test_a_probe_answered_200_writes_the_id_it_answered_to_the_ledger_before_proving_it(tmp_path: Path) -> None:
    hub = FakeHub(deploys=[Deploy()])
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, key=KEY)
    provisioner = _provisioner(hub, ledger=ledger)
    provisioner.probe_deploy(FineTune("alice", "sandbox", "no-such-fine-tune"))
    story = _story(ledger)
    assert story[0]["fine_tune"] == "alice/sandbox/no-such-fine-tune"
    assert [line["event"] for line in story] == ["intent", "answered", "provisioned"]


def test_a_probe_past_the_cap_is_refused_naming_the_cap() -> None:
    provisioner = _provisioner(FakeHub(), max_provisions=1)
    provisioner.deploys = 1
    with pytest.raises(ProvisionsExhausted, match=r"^--max-provisions 1 reached$"):
        provisioner.probe_deploy(FineTune("alice", "sandbox", "no-such-fine-tune"))


def test_a_model_past_the_cap_or_without_a_fine_tune_is_refused_with_what_to_pass_and_nothing_is_sent() -> None:
    hub = FakeHub(deploys=[Deploy()])
    spent = _provisioner(hub, max_provisions=1)
    spent.deploys = 1
    with pytest.raises(ProvisionsExhausted) as exhausted:
        spent.fresh_model()
    assert str(exhausted.value) == "--max-provisions 1 reached: raise it to run this test too"
    bare = _provisioner(hub)
    bare.config = dataclasses.replace(bare.config, fine_tunes=())
    with pytest.raises(ProvisionsExhausted) as unavailable:
        bare.fresh_model()
    assert str(unavailable.value) == (
        "no disposable custom model: pass --fine-tune OWNER/REPO/FT_ID[@STEP] (env OXEN_CONTRACT_FINE_TUNE) to deploy "
        "one, or --disposable-model ID for one this run may delete"
    )
    assert hub.deploy_posts == 0


def test_the_deploys_left_once_models_are_handed_out_count_the_given_models_first() -> None:
    provisioner = _provisioner(FakeHub(), max_provisions=3, disposable=("alice:sandbox/given",))
    assert provisioner.deploys_left(0) == 3
    assert provisioner.deploys_left(1) == 3  # the given model serves it
    assert provisioner.deploys_left(3) == 1
    provisioner.deploys = 2
    assert provisioner.deploys_left(3) == -1


def test_a_refused_fine_tune_is_named_with_the_refusal_and_any_other_is_not() -> None:
    hub = FakeHub(deploys=[Deploy(status=404, creates=False)])
    provisioner = _provisioner(hub)
    ft = FineTune("alice", "sandbox", "ft-1")
    assert provisioner.refused(ft) is None
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    assert provisioner.refused(ft) == (
        "cannot provision a disposable model: the fine-tune alice/sandbox/ft-1 cannot be deployed (its deploy "
        "answered 404); check --fine-tune and that OXEN_API_KEY belongs to alice"
    )
    assert provisioner.refused(FineTune("alice", "sandbox", "ft-2")) is None


def test_an_unsettled_deploy_is_said_in_one_line_and_in_the_report_s_json_with_its_candidates() -> None:
    bare = Unsettled("deploy attempt 1", "answered 502; more than one")
    assert bare.line() == "UNSETTLED deploy attempt 1: answered 502; more than one; nothing was deleted (check by hand)"
    assert bare.to_json() == {"deploy": "deploy attempt 1", "detail": "answered 502; more than one", "candidates": []}
    named = Unsettled("deploy attempt 2", "why", (Candidate("a:s/1", START), Candidate("a:s/2", "yesterday")))
    assert named.line() == (
        "UNSETTLED deploy attempt 2: why; nothing was deleted; candidates: 'a:s/1' (created 2026-01-01T00:00:00Z), "
        "'a:s/2' (created 'yesterday') (check by hand)"
    )
    assert named.to_json()["candidates"] == [{"id": "a:s/1", "created": START}, {"id": "a:s/2", "created": "yesterday"}]


def test_what_cleanup_did_names_every_model_left_and_counts_the_unsettled_deploys() -> None:
    hub = FakeHub(deploys=[Deploy(), Deploy(), Deploy(status=504, creates=True, colleague_created=START + 4)])
    provisioner = _provisioner(hub, max_provisions=3)
    provisioner.fresh_model()
    provisioner.fresh_model()
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    hub.delete_status = 403
    provisioner.sweep_leaks()
    assert provisioner.cleanup_said() == (
        "the run made 2 model(s) and deleted 0; left 2 ('alice:sandbox/ft-1-1', 'alice:sandbox/ft-1-2'); "
        "1 unsettled deploy(s) named above"
    )


def test_the_list_read_before_a_deploy_answering_no_list_stops_the_deploy_before_it_is_sent() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    provisioner.client._http = httpx.Client(transport=_answering(hub, _is_list, 500, {"error": {"message": "down"}}))
    with pytest.raises(ProvisioningError) as refused:
        provisioner.fresh_model()
    assert str(refused.value) == (
        "cannot provision a disposable model: the list read before deploying answered 500, not a list of models, so "
        'a deploy answer could not be told from an existing model\n  body: {"error":{"message":"down"}}'
    )
    assert hub.deploy_posts == 0 and provisioner.deploys == 0


def test_a_list_holding_entries_that_are_no_models_is_read_for_the_models_it_holds() -> None:
    hub = FakeHub(deploys=[Deploy(), Deploy(status=504, creates=True)])
    real = hub.handle

    def junk(request: httpx.Request) -> httpx.Response:
        answer = real(request)
        if _is_list(request):
            body = json.loads(answer.content)
            body["data"] += [7, {"object": "model"}, {"id": 8}]
            return httpx.Response(200, json=body, headers={"Date": answer.headers["Date"]})
        return answer

    provisioner = _provisioner(hub)
    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(junk))
    assert provisioner.fresh_model() == "alice:sandbox/ft-1-1"
    with pytest.raises(ProvisioningError, match="it made 'alice:sandbox/ft-1-2'"):
        provisioner.fresh_model()


@pytest.mark.parametrize("fails", ["times-out", "answers-500"])
def test_a_failed_reconciliation_list_is_noted_with_its_error_or_with_what_it_answered(fails: str) -> None:
    hub = FakeHub(deploys=[Deploy(status=504, creates=False)])
    provisioner = _provisioner(hub)
    lists = {"n": 0}

    def second_list(request: httpx.Request) -> bool:
        if _is_list(request):
            lists["n"] += 1
            return lists["n"] == 2
        return False

    transport = _failing(hub, second_list) if fails == "times-out" else _answering(hub, second_list, 500, {})
    provisioner.client._http = httpx.Client(transport=transport)
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    failed = "failed (Contract violation in listModels: GET /api/ai/models)" if fails == "times-out" else ""
    assert provisioner.notes == [
        f"deploy attempt 1 answered 504; the list read to reconcile it {failed or 'answered no list'}: looked at again "
        "at the end of the run"
    ]


# Reconciliation within a run: what it excludes, and what it proves before it adopts ---------------------------------


@pytest.mark.parametrize("first", ["answered-unproved", "reconciled"])
def test_a_deploy_s_reconciliation_never_takes_a_model_an_earlier_deploy_of_the_run_made_or_answered(
    first: str,
) -> None:
    # A list that lags: the earlier deploy's model is missing from the list read before the second deploy, and shows
    # while it runs. It is not new to the run: the second deploy's own model is the one candidate, and is adopted.
    earlier = Deploy() if first == "answered-unproved" else Deploy(status=504, creates=True)
    hub = FakeHub(deploys=[earlier, Deploy(status=502, creates=True, list_catches_up=True)])
    provisioner = _provisioner(hub, max_provisions=2)
    if first == "answered-unproved":
        # Its retrieve times out: the model it answered is not proved, and the deploy stays open.
        provisioner.client._http = httpx.Client(transport=_failing(hub, lambda r: r.url.path.endswith("ft-1-1")))
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(hub.handle))
    hub.hidden["alice:sandbox/ft-1-1"] = hub.models.pop("alice:sandbox/ft-1-1")
    with pytest.raises(ProvisioningError, match="; it made 'alice:sandbox/ft-1-2', which the run deletes at cleanup"):
        provisioner.fresh_model()
    assert provisioner.unsettled == []


def test_reconciliation_s_one_candidate_that_cannot_be_retrieved_is_named_not_adopted() -> None:
    hub = FakeHub(deploys=[Deploy(status=504, creates=True)])
    provisioner = _provisioner(hub)
    provisioner.client._http = httpx.Client(transport=_failing(hub, lambda r: r.url.path.endswith("ft-1-1")))
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    assert provisioner.made == [] and provisioner.owns == frozenset()
    [unsettled] = provisioner.unsettled
    assert re.fullmatch(
        r"answered 504; the one new model between \S+Z and \S+Z is not proved its: retrieving it failed "
        rf"\({re.escape(_RETRIEVE_FAILED)}\)",
        unsettled.detail,
    ), unsettled.detail
    provisioner.sweep_leaks()
    assert hub.deletes == []


def test_reconciliation_s_one_candidate_that_breaks_the_provenance_rule_is_named_not_adopted() -> None:
    hub = FakeHub(deploys=[Deploy(status=504, creates=True, makes="alice:sandbox/ft-1 copy")])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert hub.deletes == [] and provisioner.made == []
    [unsettled] = provisioner.unsettled
    assert re.match(
        r"answered 504; the one new model between \S+Z and \S+Z is not proved its: 'alice:sandbox/ft-1 copy' holds a "
        "character outside",
        unsettled.detail,
    ), unsettled.detail
    assert [c.model_id for c in unsettled.candidates] == ["alice:sandbox/ft-1 copy"]


def test_a_deploy_answer_that_cannot_be_placed_in_time_is_named_once() -> None:
    hub = FakeHub(deploys=[Deploy(created="yesterday")])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError, match="not a Unix time"):
        provisioner.fresh_model()
    [unsettled] = provisioner.unsettled
    assert [(c.model_id, c.created) for c in unsettled.candidates] == [("alice:sandbox/ft-1-1", "yesterday")]


def test_a_deploy_s_unproved_answer_is_named_with_what_the_deploy_answered() -> None:
    hub = FakeHub(
        hidden={OLD["id"]: dict(OLD)},
        deploys=[Deploy(answered=OLD["id"], creates=True, colleague_created=START + 3)],
    )
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError):
        provisioner.fresh_model()
    assert provisioner.unsettled[0].detail.startswith(
        f"answered 200 naming {OLD['id']!r}, which is not proved its; more than one new custom model"
    )


def test_a_deploy_answer_s_id_that_no_request_can_name_as_itself_is_never_sent() -> None:
    # Not even retrieved: a proxy that decodes the path twice would answer another model.
    encoded = "alice%3Asandbox%2Fft-1-prod"
    hub = FakeHub(deploys=[Deploy(answered=encoded, creates=False)])
    provisioner = _provisioner(hub)
    sent: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(f"{request.method} {request.url.raw_path.decode()}")
        return hub.handle(request)

    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(record))
    with pytest.raises(ProvisioningError, match="holds a character outside"):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert sent == ["GET /api/ai/models", f"POST {DEPLOY_PATH}", "GET /api/ai/models"]


def test_a_deploy_whose_retrieve_failed_is_named_with_the_error_it_got() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    provisioner.client._http = httpx.Client(transport=_failing(hub, lambda r: r.url.path.endswith("ft-1-1")))
    with pytest.raises(ProvisioningError) as failed:
        provisioner.fresh_model()
    assert str(failed.value) == (
        f"cannot prove the deployed model 'alice:sandbox/ft-1-1' the run's: retrieving it failed ({_RETRIEVE_FAILED})"
    )


def test_without_a_verifier_a_200_naming_no_model_is_reconciled_and_its_model_named_in_the_error() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    real = hub.handle

    def nameless(request: httpx.Request) -> httpx.Response:
        answer = real(request)
        return httpx.Response(200, json={"deployment": {}}) if request.method == "POST" else answer

    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(nameless))
    with pytest.raises(ProvisioningError) as failed:
        provisioner.fresh_model()
    # Said on the first line: the curl line stays one a person can paste into a shell.
    assert str(failed.value) == (
        f"cannot provision a disposable model: POST {DEPLOY_PATH} answered without a model id at "
        "deployment.model_slug; it made 'alice:sandbox/ft-1-1', which the run deletes at cleanup\n"
        '  body: {"deployment":{}}\n'
        f'  reproduce with: curl -X POST {HUB}{DEPLOY_PATH} -H "Authorization: Bearer $OXEN_API_KEY"'
    )
    provisioner.sweep_leaks()
    assert hub.deletes == ["alice:sandbox/ft-1-1"]
    assert [leak.detail for leak in provisioner.leaks] == [
        "made by deploy attempt 1, which answered 200 naming no model; found by reconciliation"
    ]


def test_a_deploy_answer_that_breaks_the_contract_names_its_model_with_how_it_came_to_be_the_run_s() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _checked(_provisioner(hub))
    real = hub.handle

    def broken(request: httpx.Request) -> httpx.Response:
        answer = real(request)
        return httpx.Response(200, json={"deployment": {"model_slug": 42}}) if request.method == "POST" else answer

    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(broken))
    with pytest.raises(ContractFailure):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert [leak.detail for leak in provisioner.leaks] == [
        "made by deploy attempt 1, which answered 200 with an answer that breaks the contract; found by reconciliation"
    ]


# The hub's time: which answers date a deploy -------------------------------------------------------------------------


def test_with_no_skew_allowed_a_model_created_as_its_deploy_was_answered_is_the_deploy_s() -> None:
    # The deploy answer's own Date dates the deploy; the retrieve's, a second later, does not.
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub, clock_skew=0)
    assert provisioner.fresh_model() == "alice:sandbox/ft-1-1"


def test_a_stale_list_date_and_a_deploy_answer_without_one_do_not_let_an_old_model_pass_for_the_deploy_s() -> None:
    # With no Date on the deploy answer, the retrieve's Date (less the time since) dates the deploy: the latest wins.
    hub = FakeHub(
        hidden={OLD["id"]: dict(OLD)},
        deploys=[Deploy(answered=OLD["id"], creates=False)],
        list_date_offset=-400 * 86400,
        deploy_date="",
    )
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError, match="before the deploy was sent"):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert hub.deletes == [] and provisioner.owns == frozenset()


@pytest.mark.parametrize("answered", ["its-model", "a-month-old-model"])
def test_the_hub_s_time_a_deploy_was_sent_is_each_dated_answer_less_the_time_since(answered: str) -> None:
    # The run's monotonic clock keeps the hub's pace (_provisioner: a second a request): each dated answer says the
    # deploy was sent at the list's time, so its own model (made a second later) is its, a month-old one is not.
    old = answered == "a-month-old-model"
    hub = FakeHub(hidden={OLD["id"]: dict(OLD)}, deploys=[Deploy(answered=OLD["id"] if old else None, creates=not old)])
    provisioner = _provisioner(hub, clock_skew=0)
    if old:
        with pytest.raises(ProvisioningError, match="before the deploy was sent"):
            provisioner.fresh_model()
    else:
        assert provisioner.fresh_model() == "alice:sandbox/ft-1-1"


def test_a_deploy_answer_whose_date_is_no_date_is_dated_by_the_run_s_clock() -> None:
    # One clock, no skew: the colleague's model is created after the deploy answered (by the run's clock, as the
    # gateway's Date reads "yesterday"), so it is late, never adopted.
    hub = FakeHub(deploys=[Deploy(status=502, creates=False, colleague_after=True)], deploy_date="yesterday")
    provisioner = _provisioner(hub, clock_skew=0)
    with pytest.raises(ProvisioningError, match="answered 502"):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert hub.deletes == [] and provisioner.made == []
    [unsettled] = provisioner.unsettled
    assert [c.model_id for c in unsettled.candidates] == ["alice:sandbox/colleague"]


def test_a_model_created_after_a_failed_deploy_answered_is_late_by_the_hub_s_clock_whatever_the_runner_s() -> None:
    # As above, with the hub's Date throughout and the runner's clock an hour behind: the list read to reconcile is
    # dated by the hub, so the colleague's model, made before it, is late, not ignored.
    hub = FakeHub(deploys=[Deploy(status=502, creates=False, colleague_after=True)])
    provisioner = _provisioner(hub, clock_skew=0)
    provisioner.clock = lambda: hub.now - 3600
    with pytest.raises(ProvisioningError, match="answered 502"):
        provisioner.fresh_model()
    [unsettled] = provisioner.unsettled
    assert [c.model_id for c in unsettled.candidates] == ["alice:sandbox/colleague"]


def test_a_429_whose_retry_after_is_neither_seconds_nor_a_date_waits_the_first_backoff_step() -> None:
    hub = FakeHub(deploys=[Deploy(status=429, creates=False, retry_after="soon"), Deploy()])
    provisioner = _provisioner(hub, max_provisions=2)
    sleeps: list[float] = []
    provisioner.sleep = sleeps.append
    provisioner.fresh_model()
    assert sleeps == [0.5]


# Cleanup ---------------------------------------------------------------------------------------------------------


def test_a_model_the_run_did_not_prove_is_never_deleted_and_nothing_is_sent() -> None:
    hub = FakeHub()
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError) as refused:
        provisioner.dispose(str(PROD["id"]))
    assert str(refused.value) == (
        "refusing to delete 'alice:sandbox/ft-1-prod': this run did not provision and prove it"
    )
    assert hub.now == START and hub.deletes == []


def test_a_given_disposable_model_whose_id_another_model_took_is_not_deleted() -> None:
    hub = FakeHub()
    mine = hub.make()
    provisioner = _provisioner(hub, disposable=(mine,))
    assert provisioner.fresh_model() == mine
    hub.models[mine]["created"] += 3600
    assert provisioner.dispose(mine) is True
    assert hub.deletes == []
    [leak] = provisioner.leaks
    assert "another model now has that id" in leak.detail


def test_a_model_cleanup_may_not_delete_is_counted_as_still_there() -> None:
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    model_id = provisioner.fresh_model()
    hub.models[model_id]["created"] += 3600
    assert provisioner.sweep_leaks() == [model_id]
    assert hub.deletes == []


def test_cleanup_that_cannot_retrieve_or_delete_names_the_error_it_got_or_its_kind() -> None:
    hub = FakeHub(deploys=[Deploy(), Deploy()])
    provisioner = _provisioner(hub)
    first, second = provisioner.fresh_model(), provisioner.fresh_model()
    provisioner.client._http = httpx.Client(transport=_failing(hub, lambda r: r.method == "GET"))
    provisioner.dispose(first)

    def refuse(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            raise UnsafeRequest("  ")
        return hub.handle(request)

    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(refuse))
    provisioner.dispose(second)
    assert [leak.detail for leak in provisioner.leaks] == [
        f"not deleted: retrieving it failed ({_RETRIEVE_FAILED})",
        "its DELETE failed: UnsafeRequest",
    ]


def test_a_ledger_line_of_the_wrong_shape_is_named_once_for_a_person_with_no_candidates(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    line = json.dumps({"hub": HUB, "run": "x", "event": "provisioned", "at": None, "id": 7})
    path.write_text(line + "\n")
    provisioner = _provisioner(FakeHub(), ledger=Ledger(path, HUB, key=KEY))
    provisioner.sweep_leftovers()
    detail = (
        f"{path}:1 is not a ledger entry this version reads (kept as it is): {line}; if it names a model, it may be a "
        "leftover"
    )
    assert provisioner.unsettled == [Unsettled("a ledger line", detail, ())]
    assert provisioner.unsettled[0].line() == f"UNSETTLED a ledger line: {detail}; nothing was deleted (check by hand)"


# Reconciliation across runs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fails", ["times-out", "answers-500"])
def test_an_ended_run_s_deploy_whose_list_fails_is_noted_and_left_for_the_next_run(tmp_path: Path, fails: str) -> None:
    hub = FakeHub()
    path = tmp_path / "ledger.jsonl"
    _old_intent(hub, path)
    ledger = Ledger(path, HUB, run_id="next", key=KEY)
    provisioner = _provisioner(hub, ledger=ledger)
    transport = _failing(hub, _is_list) if fails == "times-out" else _answering(hub, _is_list, 500, {})
    provisioner.client._http = httpx.Client(transport=transport)
    provisioner.sweep_leftovers()
    failed = "failed (Contract violation in listModels: GET /api/ai/models)" if fails == "times-out" else ""
    assert provisioner.notes == [
        f"deploy attempt 1 of run old is unsettled; the list read to reconcile it {failed or 'answered no list'}"
    ]
    assert [(i.run, i.attempt) for i in ledger.outstanding().intents] == [("old", 1)]


def test_an_ended_run_s_one_candidate_that_cannot_be_retrieved_is_named_not_adopted(tmp_path: Path) -> None:
    hub = FakeHub()
    path = tmp_path / "ledger.jsonl"
    _old_intent(hub, path)
    made = hub.make()
    provisioner = _provisioner(hub, ledger=Ledger(path, HUB, run_id="next", key=KEY))
    provisioner.client._http = httpx.Client(transport=_failing(hub, lambda r: r.url.path.endswith(made)))
    provisioner.sweep_leftovers()
    assert provisioner.made == []
    [unsettled] = provisioner.unsettled
    assert made == "alice:sandbox/ft-1-1"
    assert unsettled.detail.endswith(f"is not proved its: retrieving it failed ({_RETRIEVE_FAILED})")


def test_an_ended_run_s_deploy_with_two_candidates_is_named_with_both_and_adopts_neither(tmp_path: Path) -> None:
    hub = FakeHub()
    path = tmp_path / "ledger.jsonl"
    _old_intent(hub, path)
    made = [hub.make(), hub.make()]
    provisioner = _provisioner(hub, ledger=Ledger(path, HUB, run_id="next", key=KEY))
    provisioner.sweep_leftovers()
    assert provisioner.made == []
    [unsettled] = provisioner.unsettled
    assert unsettled.detail == "more than one new custom model, or one whose `created` cannot be placed in time"
    assert [c.model_id for c in unsettled.candidates] == made


@pytest.mark.parametrize("made_by", ["the-deploy", "a-colleague-after"])
def test_a_timed_out_deploy_s_window_ends_when_the_run_stopped_waiting_for_it(made_by: str) -> None:
    # One clock, no skew, and the run's monotonic clock at the hub's pace (a second a request). The model the deploy
    # made while the run waited is its; one a colleague made after the run stopped waiting is late, never adopted.
    deploy = Deploy() if made_by == "the-deploy" else Deploy(creates=False, colleague_after=True)
    hub = FakeHub(deploys=[deploy])
    provisioner = _provisioner(hub, clock_skew=0)
    provisioner.client._http = httpx.Client(transport=_failing(hub, lambda r: r.method == "POST"))
    with pytest.raises(HubTimeout):
        provisioner.fresh_model()
    if made_by == "the-deploy":
        assert provisioner.made == ["alice:sandbox/ft-1-1"] and provisioner.unsettled == []
    else:
        assert provisioner.made == []
        [unsettled] = provisioner.unsettled
        assert [c.model_id for c in unsettled.candidates] == ["alice:sandbox/colleague"]


CHECKPOINT_PATH = "/api/repos/alice/sandbox/fine_tunes/ft-1/checkpoints/7/deploy"
CHECKPOINT_CURL = (
    f'curl -X POST {HUB}{CHECKPOINT_PATH} -H "Authorization: Bearer $OXEN_API_KEY" '
    "-H 'Content-Type: application/json' --data '{\"deployment_type\": \"normal\"}'"
)


def _checkpoint(provisioner: Provisioner) -> Provisioner:
    provisioner.config = dataclasses.replace(provisioner.config, fine_tunes=(FineTune("alice", "sandbox", "ft-1", 7),))
    return provisioner


def test_a_refused_checkpoint_deploy_s_curl_line_sends_its_body_again() -> None:
    provisioner = _checkpoint(_provisioner(FakeHub(deploys=[Deploy(status=502, creates=False)])))
    with pytest.raises(ProvisioningError) as refused:
        provisioner.fresh_model()
    assert str(refused.value).splitlines()[-1] == f"  reproduce with: {CHECKPOINT_CURL}"


def test_an_unproved_checkpoint_deploy_answer_s_curl_line_sends_its_body_again() -> None:
    hub = FakeHub(hidden={OLD["id"]: dict(OLD)}, deploys=[Deploy(answered=OLD["id"], creates=False)])
    provisioner = _checkpoint(_provisioner(hub))
    with pytest.raises(ProvisioningError, match="before the deploy was sent") as refused:
        provisioner.fresh_model()
    assert str(refused.value).splitlines()[-1] == f"  reproduce with: {CHECKPOINT_CURL}"


def test_a_model_that_shows_up_after_a_deploy_was_taken_to_have_made_nothing_is_named_at_the_end_never_deleted() -> (
    None
):
    # The gateway answered 502 and nothing new was listed then; the upstream's model (or a colleague's) shows up later.
    hub = FakeHub(deploys=[Deploy(status=502, creates=False)])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError, match="answered 502"):
        provisioner.fresh_model()
    late = hub.make()
    provisioner.sweep_leaks()
    assert late in hub.models and late not in hub.deletes
    [unsettled] = provisioner.unsettled
    assert "taken to have made nothing" in unsettled.detail and [c.model_id for c in unsettled.candidates] == [late]


# What the end of the run names, and by which evidence ---------------------------------------------------------------

_LATE = (
    "was taken to have made nothing, yet new custom model(s) showed up by the end of the run (the upstream's after "
    "all, or a colleague's: nothing tells which)"
)


def test_the_late_model_of_a_deploy_taken_to_have_made_nothing_is_named_in_so_many_words() -> None:
    hub = FakeHub(deploys=[Deploy(status=502, creates=False)])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError, match="answered 502"):
        provisioner.fresh_model()
    late = hub.make()
    provisioner.sweep_leaks()
    assert provisioner.unsettled == [Unsettled("deploy attempt 1", _LATE, (Candidate(late, hub.now - 1),))]


def test_models_the_run_made_or_was_answered_are_never_named_late_and_a_late_one_is_named_once() -> None:
    # Two deploys answer 502 and make nothing; a third makes the run's model. At the end the colleague's model is
    # named once (by the first deploy), and neither the run's own model nor the id a deploy answered is named at all.
    hub = FakeHub(deploys=[Deploy(status=502, creates=False), Deploy(status=502, creates=False), Deploy()])
    provisioner = _provisioner(hub, max_provisions=3)
    for _ in range(2):
        with pytest.raises(ProvisioningError, match="answered 502"):
            provisioner.fresh_model()
    mine = provisioner.fresh_model()
    colleague = hub.make("alice:sandbox/colleague")
    provisioner.sweep_leaks()
    assert [(u.deploy, [c.model_id for c in u.candidates]) for u in provisioner.unsettled] == [
        ("deploy attempt 1", [colleague])
    ]
    assert mine in hub.deletes and colleague not in hub.deletes


def test_a_model_another_run_s_ledger_names_is_never_named_late_by_this_run(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    hub = FakeHub(deploys=[Deploy(status=502, creates=False)])
    provisioner = _provisioner(hub, ledger=Ledger(path, HUB, run_id="this", key=KEY))
    with pytest.raises(ProvisioningError, match="answered 502"):
        provisioner.fresh_model()
    theirs = hub.make()
    Ledger(path, HUB, run_id="other", key=KEY).record("answered", attempt=1, id=theirs)  # another run's, meanwhile
    provisioner.sweep_leaks()
    assert provisioner.unsettled == [] and hub.deletes == []


def test_a_late_model_goes_unnamed_when_the_last_list_fails_and_the_run_still_ends() -> None:
    hub = FakeHub(deploys=[Deploy(status=502, creates=False)])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError, match="answered 502"):
        provisioner.fresh_model()
    hub.make()
    provisioner.client._http = httpx.Client(transport=_failing(hub, _is_list))
    assert provisioner.sweep_leaks() == []
    assert provisioner.unsettled == [] and hub.deletes == []


@pytest.mark.parametrize("answered", [True, False], ids=["answered-an-id", "got-no-answer"])
def test_a_deploy_no_list_could_settle_is_named_with_the_id_it_answered_and_nothing_is_deleted(answered: bool) -> None:
    # After the deploy, every GET times out: the retrieve that would prove the model, and every list that would
    # reconcile the deploy, to the end of the run. All a person can go on is the id the deploy answered, if any.
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    sent = {"deploy": False}

    def after_the_deploy(request: httpx.Request) -> bool:
        if request.method == "POST":
            sent["deploy"] = True
            return not answered
        return sent["deploy"]

    provisioner.client._http = httpx.Client(transport=_failing(hub, after_the_deploy))
    with pytest.raises((ProvisioningError, HubTimeout)):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    candidates = (Candidate("alice:sandbox/ft-1-1", None),) if answered else ()
    detail = "was never settled: the hub answered no list to reconcile it by, to the end of the run"
    assert provisioner.unsettled == [Unsettled("deploy attempt 1", detail, candidates)]
    assert hub.deletes == []


def test_a_deploy_answer_s_own_date_dates_the_deploy_not_the_later_retrieve_s() -> None:
    # The runner's clock stands still while the hub's moves a second a request: a later answer's Date, less the
    # (no) time since, would date the deploy after its model was made. With its own Date, the deploy answer dates it.
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub, clock_skew=0)
    provisioner.monotonic = lambda: 0.0
    assert provisioner.fresh_model() == "alice:sandbox/ft-1-1"


def test_a_probe_s_window_ends_at_its_answer_s_date() -> None:
    # A probe answered 404 and made a model anyway; the runner's clock stands still. Its answer's Date ends the
    # window, so the model (made a tick before that answer) is the probe's, and the run deletes it.
    hub = FakeHub(deploys=[Deploy(status=404, creates=True)])
    provisioner = _provisioner(hub, clock_skew=0)
    provisioner.monotonic = lambda: 0.0
    provisioner.probe_deploy(FineTune("alice", "sandbox", "no-such-fine-tune"))
    assert provisioner.made == ["alice:sandbox/ft-1-1"]


def test_a_model_reconciliation_adopted_is_never_named_late_for_an_earlier_deploy() -> None:
    # The first deploy answers 502 and makes nothing; the second answers 504 having made the run's model, which
    # reconciliation adopts (no deploy answered its id). It is new since the first deploy, but it is the run's.
    hub = FakeHub(deploys=[Deploy(status=502, creates=False), Deploy(status=504, creates=True)])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError, match="answered 502"):
        provisioner.fresh_model()
    with pytest.raises(ProvisioningError, match="answered 504; it made"):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert provisioner.unsettled == [] and hub.deletes == ["alice:sandbox/ft-1-1"]


# Dates the run cannot read, or that disagree with one clock ---------------------------------------------------------


def _redated(hub: FakeHub, pick: Callable[[httpx.Request], bool], date: Callable[[], str]) -> httpx.MockTransport:
    """The hub, but the answers to the requests ``pick`` selects carry the Date ``date`` gives."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = hub.handle(request)
        if pick(request):
            answer.headers["Date"] = date()
        return answer

    return httpx.MockTransport(handle)


def _is_deploy(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/deploy")


def test_a_date_whose_offset_overflows_is_read_as_no_date_and_cleanup_still_deletes_the_run_s_model() -> None:
    # "+99999999999999999999" overflows the parser: a Date the run cannot read on every retrieve and list, never a
    # crash of cleanup that would leave the run's models on the hub, unnamed.
    hub = FakeHub(deploys=[Deploy()])
    provisioner = _provisioner(hub)
    overflow = "Mon, 07 Dec 2026 15:00:00 +99999999999999999999"
    provisioner.client._http = httpx.Client(transport=_redated(hub, lambda r: r.method == "GET", lambda: overflow))
    made = provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert hub.deletes == [made]


def test_a_deploy_error_with_an_overflowing_date_adopts_no_colleague_s_model() -> None:
    hub = FakeHub(deploys=[Deploy(status=502, creates=False, colleague_after=True)])
    provisioner = _provisioner(hub)
    overflow = "Mon, 07 Dec 2026 15:00:00 +99999999999999999999"
    provisioner.client._http = httpx.Client(transport=_redated(hub, _is_deploy, lambda: overflow))
    with pytest.raises(ProvisioningError, match="answered 502"):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert hub.deletes == [] and [c.model_id for u in provisioner.unsettled for c in u.candidates] == [
        "alice:sandbox/colleague"
    ]


def test_a_deploy_error_dated_a_minute_ahead_of_the_list_adopts_no_colleague_s_model() -> None:
    # The 502 made nothing and carries a gateway's Date a minute ahead (within the skew allowed); a colleague deploys
    # just after. The Dates disagree with one clock, so no window is placed by them: named, never deleted.
    hub = FakeHub(deploys=[Deploy(status=502, creates=False, colleague_after=True)])
    provisioner = _provisioner(hub)
    ahead = lambda: formatdate(hub.now + 60, usegmt=True)  # noqa: E731 - read when the answer is made
    provisioner.client._http = httpx.Client(transport=_redated(hub, _is_deploy, ahead))
    with pytest.raises(ProvisioningError, match="answered 502"):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert hub.deletes == [] and provisioner.made == []
    assert [c.model_id for u in provisioner.unsettled for c in u.candidates] == ["alice:sandbox/colleague"]
    assert provisioner.unsettled[0].detail.endswith(
        "but the hub's Date headers disagree by 60 s about when the deploy was sent (a cached answer, a gateway with a "
        "clock of its own): it cannot be placed in time"
    )


def test_a_cached_list_with_its_old_date_adopts_no_model_made_before_the_deploy() -> None:
    # The list read before the deploy comes from a cache: a copy taken seconds ago, with that copy's Date, missing the
    # colleague's model made since. The deploy times out having made nothing; the list read to reconcile is fresh and
    # shows the colleague's model, "new" and inside a window dated by the copy. The Dates disagree: nothing adopted.
    hub = FakeHub(deploys=[Deploy(creates=False)])
    provisioner = _provisioner(hub, clock_skew=0)
    copy = hub.handle(httpx.Request("GET", f"{HUB}/api/ai/models"))
    colleague = hub.make("alice:sandbox/colleague")
    hub.now += 6
    served = {"copy": False}

    def handle(request: httpx.Request) -> httpx.Response:
        if _is_list(request) and not served["copy"]:
            served["copy"] = True
            hub.now += 1
            return httpx.Response(200, content=copy.content, headers={"Date": copy.headers["Date"]})
        answer = hub.handle(request)
        if _is_deploy(request):
            raise httpx.ReadTimeout("timed out", request=request)
        return answer

    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(handle))
    with pytest.raises(HubTimeout):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert hub.deletes == [] and provisioner.made == [] and colleague in hub.models


def _interrupted_at_the_deploy(hub: FakeHub) -> httpx.MockTransport:
    """The hub, but Ctrl-C (or SIGTERM, which the run turns into one) comes while the run waits for a deploy."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = hub.handle(request)
        if _is_deploy(request):
            raise KeyboardInterrupt
        return answer

    return httpx.MockTransport(handle)


def test_an_interrupted_deploy_s_window_ends_when_the_run_stopped_waiting() -> None:
    # Ctrl-C (or SIGTERM) while the deploy is under way; a colleague's model shows up after. Cleanup reconciles the
    # deploy with a window that ends at the interrupt: the colleague's model is late, named, never deleted.
    hub = FakeHub(deploys=[Deploy(creates=False)])
    provisioner = _provisioner(hub)
    provisioner.client._http = httpx.Client(transport=_interrupted_at_the_deploy(hub))
    with pytest.raises(KeyboardInterrupt):
        provisioner.fresh_model()
    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(hub.handle))
    hub.now += 5
    colleague = hub.make()
    provisioner.sweep_leaks()
    assert hub.deletes == [] and provisioner.made == [] and colleague in hub.models
    assert [c.model_id for u in provisioner.unsettled for c in u.candidates] == [colleague]


def test_a_deploy_error_dated_a_day_ahead_leaves_no_model_unnamed() -> None:
    # The 502's Date is a day ahead: its window, a day in the future, held nothing then and holds nothing at the end.
    # The upstream's model shows up a second later by the hub's clock: named at the end, never deleted.
    hub = FakeHub(deploys=[Deploy(status=502, creates=False)])
    provisioner = _provisioner(hub)
    ahead = lambda: formatdate(hub.now + 86400, usegmt=True)  # noqa: E731 - read when the answer is made
    provisioner.client._http = httpx.Client(transport=_redated(hub, _is_deploy, ahead))
    with pytest.raises(ProvisioningError, match="answered 502"):
        provisioner.fresh_model()
    upstream = hub.make()
    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(hub.handle))
    provisioner.sweep_leaks()
    assert hub.deletes == [] and [c.model_id for u in provisioner.unsettled for c in u.candidates] == [upstream]


def test_a_deploy_answer_whose_date_cannot_be_read_adopts_nothing() -> None:
    # The list before the deploy carried a Date; the deploy's 504 carries one nobody can read (a gateway's): the end
    # of its window would be the run's clock, which may be off the hub's. The model is named, not adopted.
    hub = FakeHub(deploys=[Deploy(status=504, creates=True)])
    provisioner = _provisioner(hub)
    provisioner.client._http = httpx.Client(transport=_redated(hub, _is_deploy, lambda: "not a date"))
    with pytest.raises(ProvisioningError, match="answered 504"):
        provisioner.fresh_model()
    provisioner.sweep_leaks()
    assert hub.deletes == [] and [c.model_id for u in provisioner.unsettled for c in u.candidates] == [
        "alice:sandbox/ft-1-1"
    ]


def test_a_model_created_before_a_placed_deploy_is_never_named_late_for_it() -> None:
    # The list before the deploy hid a model created a month ago; it shows at the end. The deploy's window, placed by
    # agreeing Dates, starts after it was created: not the deploy's, not named for it.
    hub = FakeHub(hidden={OLD["id"]: dict(OLD)}, deploys=[Deploy(status=502, creates=False)])
    provisioner = _provisioner(hub)
    with pytest.raises(ProvisioningError, match="answered 502"):
        provisioner.fresh_model()
    hub.models[OLD["id"]] = hub.hidden.pop(OLD["id"])
    provisioner.sweep_leaks()
    assert provisioner.unsettled == [] and hub.deletes == []


def test_an_interrupted_probe_s_window_ends_when_the_run_stopped_waiting() -> None:
    hub = FakeHub(deploys=[Deploy(creates=False)])
    provisioner = _provisioner(hub)
    provisioner.client._http = httpx.Client(transport=_interrupted_at_the_deploy(hub))
    with pytest.raises(KeyboardInterrupt):
        provisioner.probe_deploy(FineTune("alice", "sandbox", "no-such-fine-tune"))
    provisioner.client._http = httpx.Client(transport=httpx.MockTransport(hub.handle))
    hub.now += 5
    colleague = hub.make()
    provisioner.sweep_leaks()
    assert hub.deletes == [] and [c.model_id for u in provisioner.unsettled for c in u.candidates] == [colleague]
