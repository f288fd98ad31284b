"""The delete lifecycle as a hypothesis state machine, against a model of what the hub should hold.

Rules provision, retrieve, activate, deactivate, delete, list and search in any order the machine draws; the model
of the hub (which ids are live, each one's last retrieved body) says what every answer must be.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

from oxen_contract.checking.contract_failure import ContractFailure
from oxen_contract.checking.failures import ProvisionsExhausted
from oxen_contract.checking.skips import skip_by_settings

pytestmark = [pytest.mark.vcr, pytest.mark.contract, pytest.mark.destructive]

# Fields that identify the model: the delete answer must repeat them as last retrieved (only deployment status may
# change between a retrieve and the delete).
IDENTITY = ("id", "created", "owned_by", "source_model")
MAX_LIFECYCLES = 2
CUSTOM_AND_YOURS = "rule:deleted-model-is-custom-and-yours"
AS_LAST_RETRIEVED = "rule:delete-answers-model-as-last-retrieved"


def _stops_at_first_failure(step: Callable[..., Any]) -> Callable[..., Any]:
    """Record a broken clause and let the run end quietly.

    Raised inside the machine, a failure would make Hypothesis run the failing steps again to report them, and
    against a live hub every rerun deploys another model. The test raises what was recorded once the run is over.
    """

    @functools.wraps(step)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.failures:
            return None
        try:
            return step(self, *args, **kwargs)
        except ContractFailure as failure:
            self.failures.append(failure)
            return None

    return guarded


class _DeleteLifecycle(RuleBasedStateMachine):
    """The machine; ``_machine`` binds it to the run's hub client, verifier, provisioner and namespace."""

    hub: Any
    verifier: Any
    provisioner: Any
    namespace: str | None
    # Where the broken clauses are recorded, for the test to raise once the run is over.
    run_failures: list[Any]
    models = Bundle("models")

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.failures = self.run_failures

    def _provision(self) -> str:
        model_id = str(self.provisioner.fresh_model())
        self.live[model_id] = self._retrieved(model_id)
        # Every lifecycle deactivates and reactivates its live model once, whatever the machine draws later.
        for action in ("deactivate", "activate"):
            self._switched(model_id, action)
        return model_id

    def _switched(self, model_id: str, action: str) -> None:
        exchange = getattr(self.hub, action)(model_id)
        body = self.verifier.answer(exchange, clause="rule:activate-answers-the-model")
        self.verifier.same(exchange, "rule:activate-answers-the-model", "/id", model_id, body["id"])
        # What the action does, not only what it answers: in its answer, and in the model as retrieved after.
        self.verifier.switched(exchange, action, body)
        later = self.hub.retrieve(model_id)
        self.verifier.switched(
            later, action, self.verifier.answer(later, clause="rule:retrieve-answers-the-requested-model")
        )

    def _retrieved(self, model_id: str) -> dict[str, Any]:
        exchange = self.hub.retrieve(model_id)
        body = self.verifier.answer(exchange, clause="rule:retrieve-answers-the-requested-model")
        self.verifier.same(exchange, "rule:retrieve-answers-the-requested-model", "/id", model_id, body["id"])
        return dict(body)

    @initialize(target=models)
    @_stops_at_first_failure
    def first_model(self) -> str:
        return self._provision()

    @rule(model_id=models)
    @_stops_at_first_failure
    def retrieve(self, model_id: str) -> None:
        if model_id in self.deleted:
            self.verifier.not_found(self.hub.retrieve(model_id))
        else:
            self.live[model_id] = self._retrieved(model_id)

    @rule(model_id=models, action=st.sampled_from(["activate", "deactivate"]))
    @_stops_at_first_failure
    def switch(self, model_id: str, action: str) -> None:
        if model_id in self.deleted:
            self.verifier.not_found(getattr(self.hub, action)(model_id))
        else:
            self._switched(model_id, action)

    @rule(model_id=models)
    @_stops_at_first_failure
    def delete(self, model_id: str) -> None:
        if model_id in self.deleted:
            self.verifier.not_found(self.hub.delete(model_id))
        else:
            self._delete_and_prove_gone(model_id)

    def _delete_and_prove_gone(self, model_id: str) -> None:
        exchange = self.hub.delete(model_id)
        body = self.verifier.answer(exchange, clause="rule:delete-answers-the-deleted-model")
        self.provisioner.forget(model_id)
        self.deleted.add(model_id)
        last = self.live.pop(model_id)
        self.verifier.same(exchange, "rule:delete-returns-requested-id", "/id", model_id, body.get("id"))
        # model_type is optional: when the answer names it, it must be custom.
        if "model_type" in body:
            self.verifier.same(exchange, CUSTOM_AND_YOURS, "/model_type", "custom", body["model_type"])
        if self.namespace is not None:
            self.verifier.same(exchange, CUSTOM_AND_YOURS, "/owned_by", self.namespace, body.get("owned_by"))
        for field in IDENTITY:
            self.verifier.same(exchange, AS_LAST_RETRIEVED, f"/{field}", last.get(field), body.get(field))
        # Gone means gone for every operation, right away: not left to the order the machine draws.
        for operation in ("retrieve", "delete", "activate", "deactivate"):
            self.verifier.not_found(getattr(self.hub, operation)(model_id))
        self.list_no_longer_shows_deleted()

    @precondition(lambda self: bool(self.deleted))
    @rule()
    @_stops_at_first_failure
    def list_no_longer_shows_deleted(self) -> None:
        exchange = self.hub.list()
        listed = {model.get("id") for model in self.verifier.answer(exchange)["data"]}
        for model_id in sorted(self.deleted & listed):
            self.verifier.same(exchange, "rule:deleted-model-is-gone", "/data/*/id", f"no {model_id!r}", model_id)

    @precondition(lambda self: bool(self.deleted))
    @rule(model_id=models)
    @_stops_at_first_failure
    def search_no_longer_shows_deleted(self, model_id: str) -> None:
        exchange = self.hub.search(model_id)
        found = {model.get("id") for model in self.verifier.answer(exchange)["data"]}
        if model_id in self.deleted and model_id in found:
            self.verifier.same(exchange, "rule:deleted-model-is-gone", "/data/*/id", f"no {model_id!r}", model_id)

    def teardown(self) -> None:
        # Every lifecycle ends with its models deleted, through the same checks as the delete rule.
        for model_id in list(self.live):
            if self.failures:
                self.provisioner.dispose(model_id)
            else:
                _stops_at_first_failure(type(self)._delete_and_prove_gone)(self, model_id=model_id)


def _machine(hub: Any, verifier: Any, provisioner: Any, namespace: str | None, failures: list[Any]) -> type:
    bound = {"hub": hub, "verifier": verifier, "provisioner": provisioner, "namespace": namespace}
    return type("DeleteLifecycle", (_DeleteLifecycle,), {**bound, "run_failures": failures})


# Deploys the lifecycles leave, beyond the later tests' own models (``deploys_needed_later``): the deploy probe of
# test_errors.py and the OpenAI SDK's delete, which each run only with a deploy to spare.
_SPARES = 2


def test_delete_lifecycle_keeps_the_documented_promises(
    hub: Any, verifier: Any, provisioner: Any, live_config: Any, deploys_needed_later: int
) -> None:
    reason = provisioner.unavailable_reason()
    if reason:
        skip_by_settings(reason)
    # Each lifecycle starts from a fresh model, so the deploy budget bounds how many run; one runs at least.
    given = len(provisioner.config.disposable_models)
    budget = given or max(1, live_config.max_provisions - provisioner.deploys - deploys_needed_later - _SPARES)
    failures: list[ContractFailure] = []
    machine = _machine(hub, verifier, provisioner, live_config.namespace, failures)
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=min(MAX_LIFECYCLES, budget),
                # No shrinking: against a live hub every replay of a failing run would deploy another model.
                phases=[Phase.explicit, Phase.generate],
                stateful_step_count=16,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    except ProvisionsExhausted as exhausted:
        skip_by_settings(str(exhausted))
    if failures:
        raise failures[0]
