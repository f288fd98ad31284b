"""Settling what deploys made, after the fact: reconciliation, cleanup, and the deploys earlier runs left open.

``Provisioner`` (``provisioning.py``) sends deploys and proves what their answers name; these are its methods for what
no answer settled. A deploy that answered no usable model is reconciled (``_settle``): the namespace is listed for the
one new model in its window, which is adopted once proved, else every candidate is named. At the start of a run,
``sweep_leftovers`` reads the ledger for models and deploys ended runs left behind, deletes the ones proved theirs and
names the rest. At the end, ``sweep_leaks`` settles the deploys still open, names the models that showed up after a
deploy was taken to have made nothing, and deletes every model the run made that is still there (``dispose``, which
proves each again first), or names it in a ``LEAK`` line with a curl line.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..checking.contract_failure import HubTimeout
from ..checking.exchange import Credential, Exchange, curl_line, id_problem, model_path
from ..checking.failures import ProvisioningError
from ..checking.text import first_line
from ..http.guard import UnsafeRequest
from ..http.retries import HubUnavailable
from .deploys import Leak, Listing, OpenDeploy, Unsettled
from .ledger import Intent, LeftModel
from .provenance import (
    Candidate,
    DeployEvidence,
    HubTime,
    Reconciled,
    created_of,
    not_ours,
    reconcile,
    why_not_the_deploys,
)

if TYPE_CHECKING:
    from typing import Any

    from ..clients.client import HubClient
    from ..settings.config import RunConfig
    from .ledger import Ledger

__all__ = ["NOT_SENT_OR_ANSWERED", "Settling"]

# What a failed request of cleanup or reconciliation raises: it is noted, and the run goes on to its verdict.
NOT_SENT_OR_ANSWERED = (HubTimeout, HubUnavailable, UnsafeRequest)


class Settling:
    """The methods of ``Provisioner`` that settle deploys after the fact (a base class: the class reads by job)."""

    __slots__ = ()

    if TYPE_CHECKING:  # what these methods read of the provisioner (its fields, and the methods it settles with)
        config: RunConfig
        ledger: Ledger | None
        log: Any
        made: list[str]
        deleted: set[str]
        leaks: list[Leak]
        unsettled: list[Unsettled]
        notes: list[str]
        _created: dict[str, int]
        _open: dict[int, OpenDeploy]
        _origin: dict[str, str]
        _answered: dict[int, str]
        _made_nothing: list[OpenDeploy]

        @property
        def owns(self) -> frozenset[str]: ...
        @property
        def cleanup(self) -> HubClient: ...
        @property
        def skew(self) -> float: ...
        def _list_now(self, client: HubClient) -> tuple[Listing, list[Any]] | None: ...
        def _prove(self, model_id: str, created: int | None) -> None: ...
        def _adopt(self, attempt: int | None, model_id: str, created: int | None, origin: str = "") -> None: ...
        def _close(self, attempt: int, run_of_intent: str | None = None, **settled: Any) -> None: ...
        def _foreign(self) -> frozenset[str]: ...
        def _why_not(self, model_id: str, retrieved: Exchange, deploy: OpenDeploy) -> str | None: ...

    def _settle(self, deploy: OpenDeploy, what: str, named: Unsettled | None = None) -> str | None:
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
        unplaceable = deploy.unplaceable()
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

    def _reconciled(self, deploy: OpenDeploy, label: str, what: str, client: HubClient) -> Reconciled | None:
        """The new custom models a list read now shows in the deploy's window; None (and a note) if none was read."""
        try:
            found = self._list_now(client)
        except NOT_SENT_OR_ANSWERED as error:
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

    def _adopt_if_proved(self, deploy: OpenDeploy, model_id: str, which: str, client: HubClient) -> str | None:
        """Adopt the one new model reconciliation found once its retrieve proves it the deploy's; else say why not.

        ``which``: the deploy and what it answered, as the model's origin says them.
        """
        try:
            retrieved = client.retrieve(model_id)
        except NOT_SENT_OR_ANSWERED as error:
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
        except NOT_SENT_OR_ANSWERED as error:
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
            except NOT_SENT_OR_ANSWERED as error:
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
        except NOT_SENT_OR_ANSWERED as error:
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
        except NOT_SENT_OR_ANSWERED as error:
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
        except NOT_SENT_OR_ANSWERED:
            found = None
        if found is None:
            return
        listing, models = found
        named = {c.model_id for unsettled in self.unsettled for c in unsettled.candidates}
        known = set(self.made) | set(self._answered.values()) | named | (self._foreign() if self.ledger else set())
        for deploy in self._made_nothing:
            # A deploy no clock places (no Date, Dates that disagree: a window a day ahead held nothing) proves
            # nothing by its window: every new model since its list is named, whenever it was created.
            start = deploy.sent_at if deploy.unplaceable() is None else HubTime(0.0, True)
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
