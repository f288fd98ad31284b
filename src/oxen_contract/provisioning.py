"""Disposable custom models: deployed within --max-provisions, verified before use, recorded, always cleaned up.

The suite is pointed at real hubs, where deploying costs money and deleting the wrong model loses someone's work. So:

- an id joins the deletable set only once verified: one path segment once encoded (never ``.``, ``..`` or a route
  name), absent from the list read just before the deploy, and retrieved as a custom model the run's namespace
  owns. A deploy answer that names anything else (an existing model, a base model, a dot) is a provisioning error
  that names what the hub answered, and nothing is deleted;
- every deploy POST counts against --max-provisions, is never retried on 5xx or a timeout, and is written to the
  ledger before it is sent; one that fails is reconciled by listing the namespace for the model it made;
- ``dispose`` verifies again before it deletes, and a DELETE that is refused or fails is a leak, not "deleted";
- at the end every model the run made that is still there is a ``LEAK``: deleted if it can be, else listed with a
  curl line to delete it by hand.

Which ids pass is ``ownership.py``'s judgement; this module keeps the books: deploys, intents, what was verified and
what is still owed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .client import Exchange, HubClient, HubTimeout, HubUnavailable, retry_delay
from .config import FineTune, RunConfig
from .exchange import Credential, curl_line, model_path
from .failures import ProvisioningError, ProvisionsExhausted
from .ledger import Intent, Ledger
from .ownership import deployed_id, listed_ids, namespace_models, not_ours, retrieved_as_ours, unusable_id
from .text import excerpt

__all__ = ["Leak", "Ledger", "Provisioner", "ProvisioningError", "ProvisionsExhausted", "unusable_id"]

# A model a crashed run's deploy made was registered about when the intent was written (hub and runner clocks
# may disagree a little); a model registered far from it is someone else's.
_RECONCILE_BEFORE = 120.0
_RECONCILE_AFTER = 900.0


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
    notes: list[str] = field(default_factory=list)
    sleep: Callable[[float], None] = time.sleep
    # Checks a 200 deploy answer against the contract before it is used (Verifier.deploy_answer); raises if broken.
    check_answer: Callable[[Exchange], None] | None = None
    _verified: set[str] = field(default_factory=set)
    # Verified in this run (deployed, reconciled or given): deletable even when cleanup cannot retrieve them.
    _made_here: set[str] = field(default_factory=set)
    _given: deque[str] = field(default_factory=deque)
    _open_intents: dict[int, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._given.extend(self.config.disposable_models)

    @property
    def owns(self) -> frozenset[str]:
        """Every id this run may delete: verified, and deployed by it or named with --disposable-model."""
        return frozenset(self._verified)

    @property
    def cleanup(self) -> HubClient:
        return self.client.for_cleanup()

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
        """A model id nobody else uses, verified, that the caller may delete."""
        reason = self.unavailable_reason()
        if reason:
            raise ProvisionsExhausted(reason)
        if self._given:
            model_id = self._given.popleft()
            self._verify(model_id, self.client, listed_before=frozenset(), what="--disposable-model")
            return model_id
        return self._deploy(self.config.deploy_source(shared=shared))

    def _deploy(self, fine_tune: FineTune) -> str:
        listed_before = listed_ids(self.client)
        while True:
            if self.deploys >= self.config.max_provisions:
                raise ProvisionsExhausted(f"--max-provisions {self.config.max_provisions} reached")
            self.deploys += 1
            attempt = self.deploys
            snapshot = listed_before
            self._open_intents[attempt] = snapshot
            if self.ledger:
                self.ledger.record("intent", attempt=attempt, fine_tune=str(fine_tune), snapshot=sorted(snapshot))
            try:
                answer = (
                    self.client.deploy_fine_tune(fine_tune.owner, fine_tune.repo, fine_tune.fine_tune_id)
                    if fine_tune.step is None
                    else self.client.deploy_checkpoint(
                        fine_tune.owner, fine_tune.repo, fine_tune.fine_tune_id, fine_tune.step
                    )
                )
            except HubTimeout as timeout:
                adopted = self._reconcile(attempt, snapshot)
                raise ProvisioningError(
                    f"cannot provision a disposable model: the deploy {timeout.reason}; it is not retried, since "
                    f"the hub may have deployed anyway{_adopted(adopted)}"
                ) from None
            if answer.status == 429 and answer.headers.get("retry-after") and self.deploys < self.config.max_provisions:
                # Refused before anything was made: one more attempt, counted like the first.
                self._close(attempt)
                self.sleep(min(retry_delay(answer.headers, 0), 30.0))
                continue
            break
        self.log(f"deploy {attempt}/{self.config.max_provisions} of {fine_tune} answered {answer.status}")
        if answer.status == 200 and self.check_answer is not None:
            try:
                self.check_answer(answer)
            except AssertionError:
                # A broken answer may still have come with a model: find it, so that cleanup deletes it.
                self._reconcile(attempt, snapshot)
                raise
        try:
            model_id = deployed_id(answer, ("deployment", "model_slug") if fine_tune.step is None else ("model", "id"))
            if self.ledger:
                self.ledger.record("answered", attempt=attempt, id=model_id)
            try:
                self._verify(
                    model_id, self.client, listed_before=listed_before, what="the deploy answer", answer=answer
                )
            except (HubTimeout, HubUnavailable) as error:
                raise ProvisioningError(
                    f"cannot verify the deployed model {model_id!r}: retrieving it failed ({_first_line(error)})"
                ) from None
        except ProvisioningError as error:
            if 400 <= answer.status < 500:
                self._close(attempt)  # refused: a 4xx made nothing
                raise
            adopted = self._reconcile(attempt, snapshot)
            raise ProvisioningError(f"{error}{_adopted(adopted)}") from None
        self._adopt(attempt, model_id)
        self.log(f"provisioned {model_id!r} from fine-tune {fine_tune} ({self.deploys}/{self.config.max_provisions})")
        return model_id

    def _adopt(self, attempt: int | None, model_id: str) -> None:
        self._verified.add(model_id)
        self._made_here.add(model_id)
        self.made.append(model_id)
        if self.ledger:
            self.ledger.record("provisioned", attempt=attempt, id=model_id)
        if attempt is not None:
            self._open_intents.pop(attempt, None)

    def _close(self, attempt: int) -> None:
        self._open_intents.pop(attempt, None)
        if self.ledger:
            self.ledger.record("closed", attempt=attempt)

    # -- verification ------------------------------------------------------------------------------------------

    def _verify(
        self,
        model_id: str,
        client: HubClient,
        *,
        listed_before: frozenset[str],
        what: str,
        answer: Exchange | None = None,
    ) -> None:
        """Raise ProvisioningError unless ``model_id`` is a custom model of the run's namespace that was not there."""
        problem = unusable_id(model_id)
        if problem is None and model_id in listed_before:
            problem = "a model that was already listed before the deploy (the run did not make it)"
        if problem is None:
            problem = retrieved_as_ours(client, model_id, self.config.namespace, self.sleep)
        if problem is None:
            self._verified.add(model_id)
            self._made_here.add(model_id)
            return
        shown = f"{answer.method} {answer.path} answered {answer.status}" if answer else f"{model_id!r}"
        raise ProvisioningError(
            f"cannot use {what}: {shown} naming {model_id!r}: {problem}. Nothing was deleted.\n"
            + (f"  body: {excerpt(answer.text)}\n" if answer else "")
            + (f"  reproduce with: {curl_line(answer.method, answer.url, answer.credential)}" if answer else "")
        )

    # -- reconciliation ----------------------------------------------------------------------------------------

    def _reconcile(
        self, attempt: int | None, snapshot: frozenset[str], *, window: tuple[float, float] | None = None
    ) -> str | None:
        """Find the model a deploy made though its answer did not say: the one new custom model of the namespace."""
        client = self.cleanup
        # Ids other runs recorded are theirs to settle (the leftover sweep does); this run's own answered ids are not.
        known = set(self.made) | (self.ledger.known_ids(exclude_run=self.ledger.run_id) if self.ledger else set())
        candidates = []
        for model in namespace_models(client, self.config.namespace):
            created = model.get("created")
            if model["id"] in snapshot or model["id"] in known:
                continue
            if window and not (isinstance(created, int) and window[0] <= created <= window[1]):
                continue
            candidates.append(model["id"])
        if len(candidates) > 1:
            self.notes.append(
                f"deploy attempt {attempt} may have made one of {candidates}: not deleted, since the run cannot tell "
                "which (if one is yours, delete it by hand)"
            )
            if attempt is not None:
                self._close(attempt)
            return None
        if not candidates:
            return None  # stays open: the next run (or the end of this one) looks again
        # The listing already showed it as a custom model of the namespace (namespace_models), new since the deploy.
        model_id = str(candidates[0])
        if unusable_id(model_id):
            if attempt is not None:
                self._close(attempt)
            return None
        self._adopt(attempt, model_id)
        self.log(f"reconciled deploy attempt {attempt}: it made {model_id!r}, which the run will delete")
        return model_id

    # -- cleanup -------------------------------------------------------------------------------------------------

    def forget(self, model_id: str) -> None:
        """Record that ``model_id`` is gone (the hub answered 200 to its delete, or 404)."""
        self.deleted.add(model_id)
        if self.ledger and model_id in self.made:
            self.ledger.record("deleted", id=model_id)

    def dispose(self, model_id: str) -> bool:
        """Delete ``model_id`` if it is still there and still ours; True when it was still there.

        Runs on the cleanup budget. A DELETE that is refused or fails leaves a ``Leak`` with a curl line.
        """
        if model_id not in self.owns:
            raise ProvisioningError(f"refusing to delete {model_id!r}: this run did not provision and verify it")
        client = self.cleanup
        try:
            first: Exchange | None = client.retrieve(model_id)
        except (HubTimeout, HubUnavailable) as error:
            first = None
            if model_id not in self._made_here:
                # A leftover of an earlier run is deleted only once shown to be the namespace's custom model still.
                self._leak(model_id, False, f"not deleted: retrieving it failed ({_first_line(error)})", client)
                return True
        if first is not None and first.status == 404:
            self.forget(model_id)
            return False
        problem = not_ours(first, model_id, self.config.namespace) if first is not None else None
        if problem is not None:
            self._leak(model_id, False, f"not deleted: {problem}", client)
            return True
        try:
            answer = client.delete(model_id)
        except (HubTimeout, HubUnavailable) as error:
            self._leak(model_id, False, f"its DELETE failed: {_first_line(error)}", client)
            return True
        if answer.status in (200, 404):
            self.forget(model_id)
            self.log(f"cleanup: deleted {model_id!r} (answered {answer.status})")
            return True
        self._leak(model_id, False, f"its DELETE answered {answer.status}", client)
        self.log(f"cleanup: could not delete {model_id!r}: its DELETE answered {answer.status}")
        return True

    def _leak(self, model_id: str, deleted: bool, detail: str, client: HubClient) -> None:
        curl = curl_line("DELETE", client.base_url + model_path(model_id), Credential.KEY)
        self.leaks.append(Leak(model_id, deleted, detail, curl))

    def sweep_leftovers(self) -> list[str]:
        """Delete what ended runs provisioned on this hub and never deleted; the ids that were still there."""
        if not self.ledger:
            return []
        self.log(f"checking the ledger {self.ledger.path} for models an earlier run left behind")
        outstanding = self.ledger.outstanding()
        if (outstanding.models or outstanding.intents) and not self.config.namespace:
            # Without the key's namespace no leftover can be shown to be the run's own: delete nothing.
            self.notes.append(
                f"the ledger holds {len(outstanding.models)} model(s) and {len(outstanding.intents)} unsettled "
                "deploy(s) of earlier runs; none swept: pass --namespace (or --fine-tune) to let the run verify them"
            )
            return []
        for intent in outstanding.intents:
            self._reconcile_earlier(intent)
        found = []
        for model_id in outstanding.models:
            if unusable_id(model_id):
                continue
            self._verified.add(model_id)
            self.made.append(model_id)
            if self.dispose(model_id):
                found.append(model_id)
        return found

    def _reconcile_earlier(self, intent: Intent) -> None:
        window = (intent.at - _RECONCILE_BEFORE, intent.at + _RECONCILE_AFTER)
        adopted = self._reconcile(None, intent.snapshot, window=window)
        if self.ledger:
            # Settled in the name of the run that wrote it, so that no later run looks again.
            self.ledger.record("closed", attempt=intent.attempt, run_of_intent=intent.run, adopted=adopted)

    def sweep_leaks(self) -> list[str]:
        """At session end: settle open deploys, then delete every model this run made that is still there."""
        for attempt, snapshot in list(self._open_intents.items()):
            try:
                self._reconcile(attempt, snapshot)
            except (HubTimeout, HubUnavailable) as error:
                self.notes.append(f"deploy attempt {attempt} could not be reconciled: {_first_line(error)}")
        leaked = []
        for model_id in list(self.made):
            if model_id in self.deleted:
                continue
            before = len(self.leaks)
            if self.dispose(model_id):
                leaked.append(model_id)
                if len(self.leaks) == before:
                    self.leaks.append(Leak(model_id, True, "a test left it", ""))
        return leaked


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _adopted(model_id: str | None) -> str:
    return f"; it made {model_id!r}, which the run deletes at cleanup" if model_id else ""
