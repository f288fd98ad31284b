"""Error answers: 404 naming the id for an unknown id, 401 for a bad key, 404 for a deploy of a missing fine-tune."""

from __future__ import annotations

from typing import Any

import pytest

from oxen_contract.checking.exchange import Credential
from oxen_contract.checking.skips import skip_by_settings
from oxen_contract.settings.config import FineTune

pytestmark = [pytest.mark.vcr, pytest.mark.contract]

BAD_CREDENTIALS = (Credential.NONE, Credential.INVALID, Credential.NOT_BEARER)
# The fine-tune the deploy probe names: beside the run's own, in its namespace and repo, under an id no hub holds.
MISSING_FINE_TUNE = "oxen-contract-no-such-fine-tune"


def _unknown_id(namespace: str | None) -> str:
    # Under the caller's own namespace, so that even a hub that had such a model would only ever show the caller's.
    return f"{namespace or 'oxen-contract'}:oxen-contract/never-deployed-model"


@pytest.mark.parametrize("operation", ["retrieve", "activate", "deactivate"])
def test_unknown_id_answers_404_with_an_error_body_naming_it(
    hub: Any, verifier: Any, live_config: Any, operation: str
) -> None:
    verifier.not_found(getattr(hub, operation)(_unknown_id(live_config.namespace)), "rule:not-found-names-the-id")


@pytest.mark.parametrize("credential", BAD_CREDENTIALS)
@pytest.mark.parametrize("operation", ["list", "search", "retrieve", "activate", "deactivate"])
def test_operation_without_a_valid_key_answers_401(
    hub: Any, verifier: Any, shared_model: str, operation: str, credential: str
) -> None:
    call = {
        "list": lambda: hub.list(credential=credential),
        "search": lambda: hub.search("model", credential=credential),
        "retrieve": lambda: hub.retrieve(shared_model, credential=credential),
        "activate": lambda: hub.activate(shared_model, credential=credential),
        "deactivate": lambda: hub.deactivate(shared_model, credential=credential),
    }[operation]
    verifier.unauthenticated(call())  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("credential", BAD_CREDENTIALS)
def test_delete_without_a_valid_key_answers_401_and_deletes_nothing(
    hub: Any, verifier: Any, shared_model: str, credential: str
) -> None:
    verifier.unauthenticated(hub.delete(shared_model, credential=credential))
    still_there = hub.retrieve(shared_model)
    verifier.answer(still_there, clause="rule:delete-without-token-deletes-nothing")


def test_a_deploy_of_a_fine_tune_that_does_not_exist_answers_404_and_makes_no_model(
    hub: Any, verifier: Any, provisioner: Any, live_config: Any, deploys_needed_later: int
) -> None:
    # [S]: 404 "Fine-tune not found" (openapi.yaml documents it on both deploy routes). A deploy costs money on a real
    # hub, so the probe goes only where it can harm no one (the run's own namespace, beside its own fine-tune) and only
    # with a deploy to spare once every later test has the models it needs.
    clause = "rule:deploy-of-a-missing-fine-tune-is-404"
    if not live_config.fine_tunes:
        skip_by_settings("deploy probe: no --fine-tune, so no repo of the run's own to name a missing fine-tune in")
    source = live_config.deploy_source(shared=True)
    if source.owner != live_config.namespace:
        skip_by_settings(
            f"deploy probe: --fine-tune {source} is not in the run's namespace {live_config.namespace!r}, and the "
            "probe never deploys into another namespace"
        )
    if provisioner.refused(source):
        # The run is a setup error already: a probe would spend a deploy to learn what the refusal has said.
        skip_by_settings(f"deploy probe: --fine-tune {source} could not be deployed, so the run is a setup error")
    spare = provisioner.deploys_left(deploys_needed_later)
    if spare < 1:
        skip_by_settings(
            f"deploy probe: --max-provisions {live_config.max_provisions} leaves no deploy once the run's "
            f"{deploys_needed_later} later model(s) are made; raise it to {live_config.max_provisions + 1 - spare} to "
            "send it"
        )
    exchange, made = provisioner.probe_deploy(FineTune(source.owner, source.repo, MISSING_FINE_TUNE, source.step))
    verifier.error(exchange, (404,), clause)
    if made is not None:
        verifier.same(exchange, clause, "", "no model made", f"made {made!r} (deleted at cleanup)")
