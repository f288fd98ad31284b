"""Disposable custom models: deployed within --max-provisions, proved the run's before use, recorded, cleaned up.

The suite is pointed at real hubs, where deploying costs money and deleting the wrong model loses someone's work. So:

- an id joins the deletable set only once proved the run's (``provenance.py``: the one rule). A deploy answer that
  names anything else (an existing model, a base model, a dot, an encoded spelling, a model older than the deploy)
  is a provisioning error that names the evidence that failed, and nothing is deleted;
- every deploy POST counts against --max-provisions, is never retried on 5xx or a timeout, and is written to the
  ledger before it is sent. No status code alone says a deploy made nothing (a gateway may answer 409 or 502 after
  the upstream deployed): whatever a deploy answers but a usable 200, the namespace is listed at once for the model
  it may have made. One candidate in the deploy's time window, proved, is adopted and deleted at cleanup; none
  settles the deploy; several, or one that cannot be placed in time, adopt nothing and are named for a person;
- ``dispose`` proves again before it deletes, and a DELETE that is refused, fails or is not sent is a leak with a
  curl line, never "deleted";
- at the end every model the run made that is still there is a ``LEAK``: deleted if it can be, else listed with a
  curl line to delete it by hand; every deploy the run could not settle is an ``UNSETTLED`` line.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..checking.contract_failure import HubTimeout
from ..checking.exchange import Credential, Exchange, curl_line, id_problem, model_path
from ..checking.failures import ProvisioningError, ProvisionsExhausted
from ..checking.text import excerpt, first_line
from ..clients.client import HubClient
from ..http.guard import UnsafeRequest
from ..http.retries import HubUnavailable, retry_delay
from ..settings.config import FineTune, RunConfig
from .ledger import Intent, Ledger, LeftModel
from .provenance import (
    Candidate,
    DeployEvidence,
    HubTime,
    Reconciled,
    created_of,
    deployed_id,
    listed_models,
    not_ours,
    reconcile,
    shown_candidates,
    why_not_disposable,
    why_not_the_deploys,
)

__all__ = ["Leak", "Provisioner", "Unsettled"]

# A fresh deploy may need a moment before retrieve finds it.
_READY_POLLS = 10
_READY_PAUSE = 1.0
# What a failed request of cleanup or reconciliation raises: it is noted, and the run goes on to its verdict.
_NOT_SENT_OR_ANSWERED = (HubTimeout, HubUnavailable, UnsafeRequest)


# How far apart the Dates of one deploy's answers may put its send and still be one clock's: each Date is a whole
# second (one), the hub's clock and the run's tick apart between answers (one more; the local reference hub's clock
# ticks a second a request, and a deploy's list, answer and reconciling list are two ticks apart).
_DATES_AGREE = 2.0


@dataclass(frozen=True, slots=True)
class Leak:
    """A model the run made that was still there at the end; ``deleted`` says whether cleanup removed it."""

    model_id: str
    deleted: bool
    detail: str
    curl: str

    def line(self) -> str:
        if self.deleted:
            return f"LEAK {self.model_id!r}: still there at the end of the run; deleted at cleanup ({self.detail})"
        return f"LEAK {self.model_id!r}: still on the hub ({self.detail}); delete it with: {self.curl}"


@dataclass(frozen=True, slots=True)
class Unsettled:
    """A deploy whose model the run could neither prove nor rule out: nothing was deleted; a person should look."""

    deploy: str
    detail: str
    candidates: tuple[Candidate, ...] = ()

    def line(self) -> str:
        named = f"; candidates: {shown_candidates(self.candidates)}" if self.candidates else ""
        return f"UNSETTLED {self.deploy}: {self.detail}; nothing was deleted{named} (check by hand)"

    def to_json(self) -> dict[str, Any]:
        return {
            "deploy": self.deploy,
            "detail": self.detail,
            "candidates": [{"id": c.model_id, "created": c.created} for c in self.candidates],
        }


@dataclass(frozen=True, slots=True)
class _Listing:
    """The ids a list answer held, the hub's time of that answer, and when it arrived (``time.monotonic``)."""

    ids: frozenset[str]
    time: HubTime
    arrived: float = 0.0


@dataclass(slots=True)
class _OpenDeploy:
    """A deploy this run sent whose outcome is not settled yet, and what each dated answer says of when it was sent."""

    attempt: int
    before: _Listing
    # When the deploy was sent (``time.monotonic``): each later dated answer, less the time since, dates it too.
    sent: float = 0.0
    # The hub's time when the deploy's exchange ended (``Provisioner._dated``): the model it made was registered by
    # then, and one created later is late. None only while the deploy is under way.
    answered: HubTime | None = None
    # What each dated answer (the list before, the deploy's own) says the hub's clock read when the deploy was sent.
    estimates: list[float] = field(default_factory=list)
    # The same, of the lists read to reconcile the deploy: held against the others only (``spread``).
    cross_checks: list[float] = field(default_factory=list)

    def observe(self, when: HubTime, arrived: float) -> None:
        """Note a dated answer that arrived at ``arrived`` (``time.monotonic``)."""
        if when.from_hub:
            self.estimates.append(when.at - (arrived - self.sent))

    def cross_check(self, when: HubTime, arrived: float) -> None:
        """Note what a list read to reconcile says of the send, without dating the deploy by it."""
        if when.from_hub:
            self.cross_checks.append(when.at - (arrived - self.sent))

    def spread(self) -> float:
        """How far apart the hub's times of the send are that the deploy's dated answers give (0 for one or none)."""
        every = [*self.estimates, *self.cross_checks]
        return max(every) - min(every) if every else 0.0

    @property
    def sent_at(self) -> HubTime:
        """The hub's time when the deploy was sent: the latest any of its dated answers gives.

        The latest, because a stale Date (a cached list, a host whose clock lags) dates the deploy too early, which
        would let an older model pass for the deploy's; a Date too late only keeps the run from proving its own.
        """
        if not self.estimates:
            return self.before.time
        return HubTime(max(self.estimates), True)


@dataclass(slots=True)
class Provisioner:
    """Hands out model ids the run may delete; never more deploy POSTs than --max-provisions."""

    client: HubClient
    config: RunConfig
    ledger: Ledger | None
    log: Callable[[str], Any] = print
    deploys: int = 0
    made: list[str] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    leaks: list[Leak] = field(default_factory=list)
    unsettled: list[Unsettled] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    # Checks a 200 deploy answer against the contract before it is used (Verifier.deploy_answer); raises if broken.
    check_answer: Callable[[Exchange], None] | None = None
    _verified: set[str] = field(default_factory=set)
    # What each proved model's `created` was when proved: cleanup deletes it only if the hub still answers the same.
    _created: dict[str, int] = field(default_factory=dict)
    _given: deque[str] = field(default_factory=deque)
    _open: dict[int, _OpenDeploy] = field(default_factory=dict)
    # Fine-tunes whose deploy answered 403 or 404 ("Fine-tune not found"): the run's setup, never tried again.
    _refused: dict[str, str] = field(default_factory=dict)
    # How a model the run did not get from a usable deploy answer came to be its own, for its LEAK line.
    _origin: dict[str, str] = field(default_factory=dict)
    # The id each deploy of this run answered: another deploy's reconciliation never takes it for its own.
    _answered: dict[int, str] = field(default_factory=dict)
    # Deploys taken to have made nothing (an error answer, nothing new by then): looked at once more at the end.
    _made_nothing: list[_OpenDeploy] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._given.extend(self.config.disposable_models)

    @property
    def owns(self) -> frozenset[str]:
        """Every id this run may delete: proved, and deployed by it or named with --disposable-model."""
        return frozenset(self._verified)

    @property
    def cleanup(self) -> HubClient:
        return self.client.for_cleanup()

    @property
    def skew(self) -> float:
        return self.config.clock_skew

    def unavailable_reason(self) -> str | None:
        if not self.config.can_provision:
            return (
                "no disposable custom model: pass --fine-tune OWNER/REPO/FT_ID[@STEP] (env OXEN_CONTRACT_FINE_TUNE) "
                "to deploy one, or --disposable-model ID for one this run may delete"
            )
        if not self._given and self.deploys >= self.config.max_provisions:
            return f"--max-provisions {self.config.max_provisions} reached: raise it to run this test too"
        return None

    # -- handing out -------------------------------------------------------------------------------------------

    def fresh_model(self, *, shared: bool = False) -> str:
        """A model id nobody else uses, proved the run's, that the caller may delete."""
        reason = self.unavailable_reason()
        if reason:
            raise ProvisionsExhausted(reason)
        if self._given:
            return self._take_given(self._given.popleft())
        return self._deploy(self.config.deploy_source(shared=shared))

    def _take_given(self, model_id: str) -> str:
        answer = self._retrieve_fresh(model_id, self.client)
        problem = why_not_disposable(model_id, answer, self.config.namespace)
        if problem:
            raise ProvisioningError(f"cannot use --disposable-model {model_id!r}: {problem}. Nothing was deleted.")
        self._prove(model_id, created_of(answer.json_or_none()))
        return model_id

    def _list_now(self, client: HubClient) -> tuple[_Listing, list[Any]] | None:
        """What the list answers now, with the hub's time of the answer; None when it answers no list."""
        answer = client.list()
        models = listed_models(answer)
        if models is None:
            return None
        ids = frozenset(m["id"] for m in models if isinstance(m, dict) and isinstance(m.get("id"), str))
        return _Listing(ids, HubTime.of(answer, self.clock), self.monotonic()), models

    def _listed_before(self) -> _Listing:
        answer = self.client.list()
        models = listed_models(answer)
        if models is None:
            raise ProvisioningError(
                f"cannot provision a disposable model: the list read before deploying answered {answer.status}, not "
                f"a list of models, so a deploy answer could not be told from an existing model\n"
                f"  body: {excerpt(answer.text)}"
            )
        ids = frozenset(m["id"] for m in models if isinstance(m, dict) and isinstance(m.get("id"), str))
        return _Listing(ids, HubTime.of(answer, self.clock), self.monotonic())

    def _deploy(self, fine_tune: FineTune) -> str:
        if str(fine_tune) in self._refused:
            raise ProvisioningError(self._refused[str(fine_tune)])
        before = self._listed_before()
        while True:
            if self.deploys >= self.config.max_provisions:
                raise ProvisionsExhausted(f"--max-provisions {self.config.max_provisions} reached")
            deploy = self._intend(fine_tune, before)
            try:
                answer = self._send_deploy(fine_tune)
            except KeyboardInterrupt:
                # Interrupted (Ctrl-C, SIGTERM) while waiting: the exchange ended now for the run, so cleanup's
                # reconciliation has a window that ends here, not at the end of the run.
                self._dated(deploy, None)
                raise
            except (HubTimeout, HubUnavailable):
                # Not retried: the hub may have deployed anyway. Reconciled, then the run sees what the deploy got:
                # a timeout fails rule:answers-in-time like any other request's, a dropped connection is sorted as
                # an outage or the route's failure (outcome.triage).
                self._dated(deploy, None)
                self._settle(deploy, "got no whole answer")
                raise
            self._dated(deploy, answer)
            self.log(f"deploy {deploy.attempt}/{self.config.max_provisions} of {fine_tune} answered {answer.status}")
            if answer.status == 200:
                return self._use(deploy, answer)
            # No status alone says the deploy made nothing: a gateway may answer 4xx or 5xx after the upstream acted.
            adopted = self._settle(deploy, f"answered {answer.status}")
            retry = answer.status == 429 and answer.headers.get("retry-after") and adopted is None
            if retry and self.deploys < self.config.max_provisions:
                # Refused, and nothing new in the namespace: one more attempt, counted like the first, measured
                # against the list read to reconcile (the freshest before-the-deploy there is).
                self.sleep(min(retry_delay(answer.headers, 0), 30.0))
                before = self._listed_before()
                continue
            if answer.status in (403, 404) and adopted is None:
                # The fine-tune does not exist or is not the key's: no later test may spend a deploy to learn it again.
                self._refused[str(fine_tune)] = (
                    f"cannot provision a disposable model: the fine-tune {fine_tune} cannot be deployed (its deploy "
                    f"answered {answer.status}); check --fine-tune and that OXEN_API_KEY belongs to {fine_tune.owner}"
                )
            if self.check_answer is not None:
                # The answer is held to the contract like any other (a 500 is rule:no-server-error, a 4xx has an error
                # body): a hub that breaks it fails the run, even though the run is also left without a model.
                self.check_answer(answer)
            raise ProvisioningError(
                f"cannot provision a disposable model: {answer.method} {answer.path} answered {answer.status}"
                f"{_adopted(adopted)}\n"
                f"  body: {excerpt(answer.text)}\n"
                f"  reproduce with: {curl_line(answer.method, answer.url, answer.credential, answer.request_body)}"
            )

    def refused(self, fine_tune: FineTune) -> str | None:
        """Why ``fine_tune`` cannot be deployed, once a deploy of it answered 403 or 404 and made nothing; else None."""
        return self._refused.get(str(fine_tune))

    def deploys_left(self, needed: int) -> int:
        """The deploys --max-provisions leaves once ``needed`` more models are handed out (--disposable-model first)."""
        return self.config.max_provisions - self.deploys - max(0, needed - len(self._given))

    def probe_deploy(self, fine_tune: FineTune) -> tuple[Exchange, str | None]:
        """Deploy ``fine_tune``, which should not exist: what the hub answered, and the model it made anyway, if any.

        A probe of the deploy route's own errors ([S]: 404 "Fine-tune not found"), sent like any deploy: counted
        against --max-provisions, written to the ledger before it is sent, and settled like any deploy, so that a model
        a hub makes anyway (whatever it answers) is proved and deleted at cleanup, or named for a person. The caller
        checks the answer.
        """
        if self.deploys >= self.config.max_provisions:
            raise ProvisionsExhausted(f"--max-provisions {self.config.max_provisions} reached")
        deploy = self._intend(fine_tune, self._listed_before())
        try:
            answer = self._send_deploy(fine_tune)
        except KeyboardInterrupt:
            self._dated(deploy, None)  # as in _deploy
            raise
        except (HubTimeout, HubUnavailable) as error:
            self._dated(deploy, None)
            self._settle(deploy, f"got no answer ({first_line(error)})")
            raise
        self._dated(deploy, answer)
        self.log(f"deploy {deploy.attempt}/{self.config.max_provisions} (a probe) of {fine_tune}: {answer.status}")
        if answer.status != 200:
            return answer, self._settle(deploy, f"answered {answer.status}")
        try:
            return answer, self._use(deploy, answer)
        except (ProvisioningError, AssertionError):
            # The caller fails the probe on the 200 itself; _use has settled the deploy either way, so a model the hub
            # made is proved and deleted at cleanup, or named for a person.
            return answer, None

    def _dated(self, deploy: _OpenDeploy, answer: Exchange | None) -> None:
        """Date the end of the deploy's exchange by the hub's clock, and note what its answer's Date says of the send.

        With a Date, that Date. Without one, or without a whole answer (a timeout, a dropped connection), the hub's
        time the deploy was sent plus the time the run waited. Never
        "whenever the namespace is listed next", which, when the list read to reconcile fails, is the end of the run,
        and would let a colleague's model made an hour later pass for the deploy's.
        """
        arrived = self.monotonic()
        if answer is not None and answer.headers.get("date"):
            deploy.answered = HubTime.of(answer, self.clock)
            deploy.observe(deploy.answered, arrived)
            return
        sent = deploy.sent_at
        # No slack for a Date's whole seconds or the runner's clock: a model the deploy made in the last of them is
        # named for a person (late), while a slack would let a colleague's model made just after pass for the
        # deploy's. When unsure, delete nothing.
        deploy.answered = HubTime(sent.at + (arrived - deploy.sent), sent.from_hub)

    def _intend(self, fine_tune: FineTune, before: _Listing) -> _OpenDeploy:
        """Count a deploy about to be sent; write its intent to the ledger first, so that a crash leaves a trace."""
        self.deploys += 1
        deploy = _OpenDeploy(self.deploys, before)
        self._open[deploy.attempt] = deploy
        if self.ledger:
            self.ledger.record(
                "intent",
                attempt=deploy.attempt,
                fine_tune=str(fine_tune),
                snapshot=sorted(before.ids),
                hub_before=before.time.at,
                hub_clock=before.time.from_hub,
                timeout=self.config.request_timeout,
            )
        deploy.sent = self.monotonic()
        deploy.observe(before.time, before.arrived)
        return deploy

    def _send_deploy(self, fine_tune: FineTune) -> Exchange:
        owner, repo, fine_tune_id, step = fine_tune.owner, fine_tune.repo, fine_tune.fine_tune_id, fine_tune.step
        if step is None:
            return self.client.deploy_fine_tune(owner, repo, fine_tune_id)
        return self.client.deploy_checkpoint(owner, repo, fine_tune_id, step)

    def _use(self, deploy: _OpenDeploy, answer: Exchange) -> str:
        """The model a 200 deploy answer names, once proved the deploy's; else settle the deploy and say why not."""
        if self.check_answer is not None:
            try:
                self.check_answer(answer)
            except AssertionError:
                # A broken answer may still have come with a model: find it, so that cleanup deletes it.
                self._settle(deploy, "answered 200 with an answer that breaks the contract")
                raise
        try:
            model_id = deployed_id(answer)
        except ProvisioningError as error:
            adopted = self._settle(deploy, "answered 200 naming no model")
            # On the first line, as every refusal says it: after the curl line, a shell would run it as a command.
            first, *rest = str(error).split("\n")
            raise ProvisioningError("\n".join([f"{first}{_adopted(adopted)}", *rest])) from None
        self._answered[deploy.attempt] = model_id
        if self.ledger:
            self.ledger.record("answered", attempt=deploy.attempt, id=model_id)
        try:
            retrieved = self._retrieve_fresh(model_id, self.client) if not id_problem(model_id) else None
            if retrieved is not None and not answer.headers.get("date"):
                # Only for a deploy answer with no Date: a later answer's Date, less the time since, dates the deploy
                # only where the hub's clock runs at the run's pace (the local hub's ticks once per request).
                deploy.observe(HubTime.of(retrieved, self.clock), self.monotonic())
        except (HubTimeout, HubUnavailable) as error:
            # Left open: the end of the run reconciles it, when the hub may answer again.
            raise ProvisioningError(
                f"cannot prove the deployed model {model_id!r} the run's: retrieving it failed ({first_line(error)})"
            ) from None
        problem = id_problem(model_id) if retrieved is None else self._why_not(model_id, retrieved, deploy)
        if problem is not None:
            named = Unsettled(
                f"deploy attempt {deploy.attempt}",
                f"answered 200 naming {model_id!r}, which is not proved the deploy's: {problem}",
                (Candidate(model_id, created_of(retrieved.json_or_none()) if retrieved else None),),
            )
            adopted = self._settle(deploy, f"answered 200 naming {model_id!r}, which is not proved its", named)
            raise ProvisioningError(
                f"cannot use the deploy answer: {answer.method} {answer.path} answered {answer.status} naming "
                f"{model_id!r}: {problem}. Nothing was deleted{_adopted(adopted)}.\n"
                f"  body: {excerpt(answer.text)}\n"
                f"  reproduce with: {curl_line(answer.method, answer.url, answer.credential, answer.request_body)}"
            )
        assert retrieved is not None
        self._adopt(deploy.attempt, model_id, created_of(retrieved.json_or_none()))
        self.log(f"provisioned {model_id!r} ({self.deploys}/{self.config.max_provisions})")
        return model_id

    def _why_not(self, model_id: str, retrieved: Exchange, deploy: _OpenDeploy) -> str | None:
        evidence = DeployEvidence(deploy.before.ids, deploy.sent_at, self._foreign(), self.skew)
        return why_not_the_deploys(model_id, retrieved, self.config.namespace, evidence)

    def _foreign(self) -> frozenset[str]:
        """Ids that other runs' ledger entries name: never this run's, whatever a deploy answers."""
        return frozenset(self.ledger.known_ids(exclude_run=self.ledger.run_id)) if self.ledger else frozenset()

    def _retrieve_fresh(self, model_id: str, client: HubClient) -> Exchange:
        """Retrieve ``model_id``, waiting a little for a fresh deploy to show."""
        for poll in range(_READY_POLLS):
            answer = client.retrieve(model_id)
            if answer.status != 404:
                break
            if poll + 1 < _READY_POLLS:
                self.sleep(_READY_PAUSE)
        return answer

    def _prove(self, model_id: str, created: int | None) -> None:
        self._verified.add(model_id)
        if created is not None:
            self._created[model_id] = created

    def _adopt(self, attempt: int | None, model_id: str, created: int | None, origin: str = "") -> None:
        self._prove(model_id, created)
        self.made.append(model_id)
        if origin:
            self._origin[model_id] = origin
        if self.ledger:
            self.ledger.record("provisioned", attempt=attempt, id=model_id, created=created)
        if attempt is not None:
            self._open.pop(attempt, None)

    def _close(self, attempt: int, run_of_intent: str | None = None, **settled: Any) -> None:
        """Settle a deploy: this run's (``run_of_intent`` None), or an ended run's in that run's name."""
        if run_of_intent is None:
            self._open.pop(attempt, None)
        if self.ledger:
            extra = {"run_of_intent": run_of_intent} if run_of_intent else {}
            self.ledger.record("closed", attempt=attempt, **extra, **settled)

    # -- reconciliation ----------------------------------------------------------------------------------------

    def _settle(self, deploy: _OpenDeploy, what: str, named: Unsettled | None = None) -> str | None:
        """Look for the model a deploy that ``what`` may have made: adopt it once proved, else settle or name it.

        ``named``: the model the deploy's answer named but the run could not prove the deploy's; unless another model
        is adopted, it is named for a person, since it may be the deploy's after all (a hub whose clock is off).
        """
        label = f"deploy attempt {deploy.attempt}"
        client = self.cleanup
        result = self._reconciled(deploy, label, what, client)
        if result is None:
            return None
        if result.nothing and named is not None:
            self._close(deploy.attempt, adopted=None)
            self._name_unsettled(named.deploy, named.detail, named.candidates)
            return None
        if result.nothing:
            self._close(deploy.attempt, adopted=None)
            self._made_nothing.append(deploy)
            self.notes.append(
                f"{label} {what}; no new custom model of {self.config.namespace!r} was created "
                f"{result.window_shown()} (the deploy, and the list read to reconcile it, less and plus "
                f"{self.skew:g} s): taken to have made nothing (if one shows up later, it may be this deploy's)"
            )
            return None
        one = result.one
        unplaceable = self._unplaceable(deploy)
        if one is not None and unplaceable is not None:
            detail = f"{what}; the one new model {result.window_shown()} may be its, but {unplaceable}"
        elif one is not None:
            problem = self._adopt_if_proved(deploy, one.model_id, f"{label}, which {what}", client)
            if problem is None:
                return one.model_id
            detail = f"{what}; the one new model {result.window_shown()} is not proved its: {problem}"
        else:
            detail = (
                f"{what}; more than one new custom model, one whose `created` cannot be placed in time, or one "
                "created after the deploy was answered (an upstream that went on, or a colleague: nothing tells which)"
            )
        self._name_unsettled(label, detail, result.candidates)
        candidates = {candidate.model_id for candidate in result.candidates}
        if named is not None and not candidates >= {candidate.model_id for candidate in named.candidates}:
            self._name_unsettled(named.deploy, named.detail, named.candidates)
        self._close(deploy.attempt, adopted=None, candidates=[c.model_id for c in result.candidates])
        return None

    def _unplaceable(self, deploy: _OpenDeploy) -> str | None:
        """Why no clock places the deploy's window for sure (then reconciliation adopts nothing), or None.

        A window read off the runner's clock is off the hub's by up to --clock-skew; Dates that disagree about when the
        deploy was sent (a cached list with its old Date, a gateway with a clock of its own) may put it anywhere. Either
        way a colleague's model made just before or after the deploy could fall in it: it is named for a person.
        """
        answered = deploy.answered
        if not deploy.sent_at.from_hub or (answered is not None and not answered.from_hub):
            return "the hub sent no Date to place the deploy in time by its clock (the run's may be off it)"
        spread = deploy.spread()
        if spread > _DATES_AGREE:
            return (
                f"the hub's Date headers disagree by {spread:.0f} s about when the deploy was sent (a cached answer, "
                "a gateway with a clock of its own): it cannot be placed in time"
            )
        return None

    def _reconciled(self, deploy: _OpenDeploy, label: str, what: str, client: HubClient) -> Reconciled | None:
        """The new custom models a list read now shows in the deploy's window; None (and a note) if none was read."""
        try:
            found = self._list_now(client)
        except _NOT_SENT_OR_ANSWERED as error:
            self.notes.append(
                f"{label} {what}; the list read to reconcile it failed ({first_line(error)}): looked at again at the "
                "end of the run"
            )
            return None
        if found is None:
            self.notes.append(
                f"{label} {what}; the list read to reconcile it answered no list: looked at again at the end of the run"
            )
            return None
        listing, models = found
        deploy.cross_check(listing.time, listing.arrived)
        # Every id this run made or another deploy answered, and every id other runs named; not this deploy's own
        # answer, which may be its model after all (a retrieve that timed out could not prove it).
        others = {model_id for attempt, model_id in self._answered.items() if attempt != deploy.attempt}
        known = set(self.made) | others | (self._foreign() if self.ledger else set())
        return reconcile(
            models,
            self.config.namespace,
            snapshot=deploy.before.ids,
            known=known,
            start=deploy.sent_at,
            end=listing.time,
            skew=self.skew,
            answered=deploy.answered,
        )

    def _adopt_if_proved(self, deploy: _OpenDeploy, model_id: str, which: str, client: HubClient) -> str | None:
        """Adopt the one new model reconciliation found once its retrieve proves it the deploy's; else say why not.

        ``which``: the deploy and what it answered, as the model's origin says them.
        """
        try:
            retrieved = client.retrieve(model_id)
        except _NOT_SENT_OR_ANSWERED as error:
            return f"retrieving it failed ({first_line(error)})"
        problem = self._why_not(model_id, retrieved, deploy)
        if problem is not None:
            return problem
        origin = f"made by {which}; found by reconciliation"
        self._adopt(deploy.attempt, model_id, created_of(retrieved.json_or_none()), origin)
        self.log(f"reconciled deploy attempt {deploy.attempt}: it made {model_id!r}, which the run deletes at cleanup")
        return None

    def _name_unsettled(self, label: str, detail: str, candidates: tuple[Candidate, ...]) -> None:
        # Said once, with the leaks, at the end of the run (the fixture's teardown prints every Unsettled line).
        self.unsettled.append(Unsettled(label, detail, candidates))

    def _settle_earlier(self, intent: Intent) -> None:
        """Reconcile a deploy an ended run never settled, by the hub times its ledger lines recorded."""
        label = f"deploy attempt {intent.attempt} of run {intent.run}"
        client = self.cleanup
        try:
            found = self._list_now(client)
        except _NOT_SENT_OR_ANSWERED as error:
            self.notes.append(f"{label} is unsettled; the list read to reconcile it failed ({first_line(error)})")
            return
        if found is None:
            self.notes.append(f"{label} is unsettled; the list read to reconcile it answered no list")
            return
        _, models = found
        # A line of an older version (no hub time) or one not signed with this run's key proves nothing.
        legacy = intent.hub_before is None or not intent.signed
        # The deploy's exchange ended within its run's --request-timeout: its model was made by then.
        start = HubTime(intent.at if legacy else float(intent.hub_before or 0), intent.hub_clock)
        end = HubTime(start.at + (intent.timeout or self.config.request_timeout), start.from_hub)
        known = set(self.made) | (self.ledger.known_ids(exclude_run=intent.run) if self.ledger else set())
        result = reconcile(
            models,
            self.config.namespace,
            snapshot=intent.snapshot,
            known=known,
            start=start,
            end=end,
            skew=self.skew,
        )
        adopted = None
        one = result.one
        if result.nothing:
            pass
        elif one is not None and not legacy:
            evidence = DeployEvidence(intent.snapshot, start, frozenset(known) - {one.model_id}, self.skew)
            try:
                retrieved = client.retrieve(one.model_id)
                problem = why_not_the_deploys(one.model_id, retrieved, self.config.namespace, evidence)
            except _NOT_SENT_OR_ANSWERED as error:
                problem = f"retrieving it failed ({first_line(error)})"
            if problem is None:
                origin = f"made by {label}, never settled; found by reconciliation"
                self._adopt(None, one.model_id, created_of(retrieved.json_or_none()), origin)
                adopted = one.model_id
                self.log(f"reconciled {label}: it made {one.model_id!r}, which the run deletes")
            else:
                self._name_unsettled(
                    label, f"the one new model {result.window_shown()} is not proved its: {problem}", result.placed
                )
        else:
            why = (
                "its ledger line predates the hub times this version records, or is not signed with this run's key, "
                "so no model can be proved its"
                if legacy
                else "more than one new custom model, or one whose `created` cannot be placed in time"
            )
            self._name_unsettled(label, why, result.candidates)
        if self.ledger:
            # Settled in the name of the run that wrote it, so that no later run looks again.
            candidates = [c.model_id for c in result.candidates]
            self._close(intent.attempt, run_of_intent=intent.run, adopted=adopted, candidates=candidates)

    # -- cleanup -------------------------------------------------------------------------------------------------

    def forget(self, model_id: str) -> None:
        """Record that ``model_id`` is gone (the hub answered 200 to its delete, or 404)."""
        self.deleted.add(model_id)
        if self.ledger and model_id in self.made:
            self.ledger.record("deleted", id=model_id)

    def dispose(self, model_id: str) -> bool:
        """Delete ``model_id`` if it is still there and still the run's; True when it was still there.

        Runs on the cleanup budget. A DELETE that is refused, fails or is not sent leaves a ``Leak`` with a curl line.
        """
        if model_id not in self.owns:
            raise ProvisioningError(f"refusing to delete {model_id!r}: this run did not provision and prove it")
        client = self.cleanup
        try:
            first = client.retrieve(model_id)
        except _NOT_SENT_OR_ANSWERED as error:
            self._leak(model_id, f"not deleted: retrieving it failed ({first_line(error)})", client)
            return True
        if first.status == 404:
            self.forget(model_id)
            return False
        problem = not_ours(first, model_id, self.config.namespace) or self._changed(model_id, first)
        if problem is not None:
            self._leak(model_id, f"not deleted: {problem}", client, final=True)
            return True
        try:
            answer = client.delete(model_id)
        except _NOT_SENT_OR_ANSWERED as error:
            self._leak(model_id, f"its DELETE failed: {first_line(error)}", client)
            return True
        if answer.status in (200, 404):
            self.forget(model_id)
            self.log(f"cleanup: deleted {model_id!r} (answered {answer.status})")
            return True
        self._leak(model_id, f"its DELETE answered {answer.status}", client)
        self.log(f"cleanup: could not delete {model_id!r}: its DELETE answered {answer.status}")
        return True

    def _changed(self, model_id: str, retrieved: Exchange) -> str | None:
        """Why the model under ``model_id`` is not the one the run proved (its `created` moved), or None."""
        proved = self._created.get(model_id)
        now = created_of(retrieved.json_or_none())
        if proved is None or now == proved:
            return None
        return f"its `created` is {now!r}, not {proved!r} as when the run proved it: another model now has that id"

    def _leak(self, model_id: str, detail: str, client: HubClient, *, final: bool = False) -> None:
        """Name a model the run made and could not delete.

        ``final``: no later run could prove it either, so the ledger releases it to a person instead of handing it to
        every later run again.
        """
        curl = curl_line("DELETE", client.base_url + model_path(model_id), Credential.KEY)
        self.leaks.append(Leak(model_id, False, detail, curl))
        if final and self.ledger:
            self.ledger.record("released", id=model_id, reason=detail)

    def sweep_leftovers(self) -> list[str]:
        """Delete what ended runs proved their own and never deleted; the ids that were still there."""
        if not self.ledger:
            return []
        self.log(f"checking the ledger {self.ledger.path} for models an earlier run left behind")
        outstanding = self.ledger.outstanding()
        for line in outstanding.unreadable:
            self._name_unsettled(
                "a ledger line", line.describe(self.ledger.path) + "; if it names a model, it may be a leftover", ()
            )
        if (outstanding.models or outstanding.intents) and not self.config.namespace:
            # Without the key's namespace no leftover can be shown to be the run's own: delete nothing.
            self.notes.append(
                f"the ledger holds {len(outstanding.models)} model(s) and {len(outstanding.intents)} unsettled "
                "deploy(s) of earlier runs; none swept: pass --namespace (or --fine-tune) to let the run verify them"
            )
            return []
        for intent in outstanding.intents:
            self._settle_earlier(intent)
        return [left.model_id for left in outstanding.models if self._sweep(left)]

    def _sweep(self, left: LeftModel) -> bool:
        if id_problem(left.model_id):
            return False
        problem = self._left_unproved(left)
        if problem is not None:
            self._leak(left.model_id, f"left by run {left.run}: not deleted, {problem}", self.cleanup, final=True)
            return True
        self._prove(left.model_id, left.created)
        self.made.append(left.model_id)
        return self.dispose(left.model_id)

    def _left_unproved(self, left: LeftModel) -> str | None:
        """Why an ended run's ledger does not prove ``left`` that run's model; None when the whole chain holds."""
        if not left.signed:
            return (
                "since its ledger line is not signed with this run's key (written by another key, an older version or "
                "by hand): nothing shows a run of this key made it"
            )
        intent = left.intent
        if intent is None:
            return "since the ledger holds no signed record of the deploy that made it"
        if left.model_id in intent.snapshot:
            return "since it was listed before the deploy that was to have made it"
        if left.created is None:
            return "since its ledger line predates the `created` this version records"
        if intent.hub_before is not None and left.created < math.floor(intent.hub_before - self.skew):
            return "since its `created` is earlier than the deploy that was to have made it"
        return None

    def sweep_leaks(self) -> list[str]:
        """At session end: settle open deploys, then delete every model this run made that is still there."""
        for deploy in list(self._open.values()):
            self._settle(deploy, "was never settled during the run")
        for deploy in list(self._open.values()):
            # Still open: the hub answered no list to settle it by. What its answer named is all a person can go on.
            named = self._answered.get(deploy.attempt)
            self._name_unsettled(
                f"deploy attempt {deploy.attempt}",
                "was never settled: the hub answered no list to reconcile it by, to the end of the run",
                (Candidate(named, None),) if named else (),
            )
        self._name_late_models()
        leaked = []
        for model_id in list(self.made):
            if model_id in self.deleted:
                continue
            before = len(self.leaks)
            if self.dispose(model_id):
                leaked.append(model_id)
                if len(self.leaks) == before:
                    self.leaks.append(Leak(model_id, True, self._origin.get(model_id, "a test left it"), ""))
        return leaked

    def _name_late_models(self) -> None:
        """Name, never delete, the new models that showed up after a deploy was taken to have made nothing.

        An upstream may go on after its gateway answered an error, and its model show up later; so may a colleague's.
        Nothing tells which, so the run deletes neither, but a person learns of each (and a paid model is not lost).
        """
        if not self._made_nothing:
            return
        try:
            found = self._list_now(self.cleanup)
        except _NOT_SENT_OR_ANSWERED:
            found = None
        if found is None:
            return
        listing, models = found
        named = {c.model_id for unsettled in self.unsettled for c in unsettled.candidates}
        known = set(self.made) | set(self._answered.values()) | named | (self._foreign() if self.ledger else set())
        for deploy in self._made_nothing:
            # A deploy no clock places (no Date, Dates that disagree: a window a day ahead held nothing) proves
            # nothing by its window: every new model since its list is named, whenever it was created.
            start = deploy.sent_at if self._unplaceable(deploy) is None else HubTime(0.0, True)
            result = reconcile(
                models,
                self.config.namespace,
                snapshot=deploy.before.ids,
                known=known,
                start=start,
                end=listing.time,
                skew=self.skew,
            )
            if result.candidates:
                self._name_unsettled(
                    f"deploy attempt {deploy.attempt}",
                    "was taken to have made nothing, yet new custom model(s) showed up by the end of the run (the "
                    "upstream's after all, or a colleague's: nothing tells which)",
                    result.candidates,
                )
                known |= {candidate.model_id for candidate in result.candidates}

    def cleanup_said(self) -> str:
        """What cleanup did, in words: how many of the models the run made are gone, and which are left."""
        left = [leak.model_id for leak in self.leaks if not leak.deleted]
        gone = sum(1 for model_id in self.made if model_id in self.deleted)
        said = f"the run made {len(self.made)} model(s) and deleted {gone}; left {len(left)}"
        said += f" ({', '.join(repr(model_id) for model_id in left)})" if left else ""
        return said + (f"; {len(self.unsettled)} unsettled deploy(s) named above" if self.unsettled else "")


def _adopted(model_id: str | None) -> str:
    return f"; it made {model_id!r}, which the run deletes at cleanup" if model_id else ""
