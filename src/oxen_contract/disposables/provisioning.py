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

This module sends deploys and proves what their answers name; what no answer settled (reconciliation, cleanup, the
deploys ended runs left open) is ``settling.py``'s, the base class of ``Provisioner``; the records of a deploy and
the lines the end of the run prints are ``deploys.py``'s.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..checking.contract_failure import HubTimeout
from ..checking.exchange import Exchange, curl_line, id_problem
from ..checking.failures import ProvisioningError, ProvisionsExhausted
from ..checking.text import excerpt, first_line
from ..clients.client import HubClient
from ..http.retries import HubUnavailable, retry_delay
from ..settings.config import FineTune, RunConfig
from .deploys import Leak, Listing, OpenDeploy, Unsettled
from .ledger import Ledger
from .provenance import (
    Candidate,
    DeployEvidence,
    HubTime,
    created_of,
    deployed_id,
    listed_models,
    why_not_disposable,
    why_not_the_deploys,
)
from .settling import Settling

__all__ = ["Provisioner"]

# A fresh deploy may need a moment before retrieve finds it.
_READY_POLLS = 10
_READY_PAUSE = 1.0


@dataclass(slots=True)
class Provisioner(Settling):
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
    _open: dict[int, OpenDeploy] = field(default_factory=dict)
    # Fine-tunes whose deploy answered 403 or 404 ("Fine-tune not found"): the run's setup, never tried again.
    _refused: dict[str, str] = field(default_factory=dict)
    # How a model the run did not get from a usable deploy answer came to be its own, for its LEAK line.
    _origin: dict[str, str] = field(default_factory=dict)
    # The id each deploy of this run answered: another deploy's reconciliation never takes it for its own.
    _answered: dict[int, str] = field(default_factory=dict)
    # Deploys taken to have made nothing (an error answer, nothing new by then): looked at once more at the end.
    _made_nothing: list[OpenDeploy] = field(default_factory=list)

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

    def _list_now(self, client: HubClient) -> tuple[Listing, list[Any]] | None:
        """What the list answers now, with the hub's time of the answer; None when it answers no list."""
        answer = client.list()
        models = listed_models(answer)
        if models is None:
            return None
        ids = frozenset(m["id"] for m in models if isinstance(m, dict) and isinstance(m.get("id"), str))
        return Listing(ids, HubTime.of(answer, self.clock), self.monotonic()), models

    def _listed_before(self) -> Listing:
        answer = self.client.list()
        models = listed_models(answer)
        if models is None:
            raise ProvisioningError(
                f"cannot provision a disposable model: the list read before deploying answered {answer.status}, not "
                f"a list of models, so a deploy answer could not be told from an existing model\n"
                f"  body: {excerpt(answer.text)}"
            )
        ids = frozenset(m["id"] for m in models if isinstance(m, dict) and isinstance(m.get("id"), str))
        return Listing(ids, HubTime.of(answer, self.clock), self.monotonic())

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

    def _dated(self, deploy: OpenDeploy, answer: Exchange | None) -> None:
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

    def _intend(self, fine_tune: FineTune, before: Listing) -> OpenDeploy:
        """Count a deploy about to be sent; write its intent to the ledger first, so that a crash leaves a trace."""
        self.deploys += 1
        deploy = OpenDeploy(self.deploys, before)
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

    def _use(self, deploy: OpenDeploy, answer: Exchange) -> str:
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

    def _why_not(self, model_id: str, retrieved: Exchange, deploy: OpenDeploy) -> str | None:
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


def _adopted(model_id: str | None) -> str:
    return f"; it made {model_id!r}, which the run deletes at cleanup" if model_id else ""
