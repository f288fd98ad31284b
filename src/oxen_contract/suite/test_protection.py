"""Protection probes: what must not be deletable is refused, and is still there afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from oxen_contract.checking.exchange import Credential

pytestmark = [pytest.mark.vcr, pytest.mark.contract, pytest.mark.protection_probe]


def _refused(verifier: Any, exchange: Any, clause: str) -> None:
    """A refused delete: a 4xx with an error body; a 404 says the model is not found, so it names it ([O])."""
    body = verifier.error(exchange, None, clause)
    if exchange.status == 404:
        verifier.names_the_id(exchange, body)


def _base_models(listed: list[Any]) -> list[str]:
    # Either documented mark of a base model: `model_type` "base", or `owned_by` "oxen" (models-api.md, Model object);
    # `model_type` is optional, so a hub that leaves it out still names its base models by their owner.
    return [model["id"] for model in listed if model.get("model_type") == "base" or model.get("owned_by") == "oxen"]


@pytest.mark.usefixtures("protection_probes")
def test_delete_of_a_base_model_is_refused_and_it_is_still_listed(hub: Any, verifier: Any) -> None:
    listed = verifier.answer(hub.list())["data"]
    base = _base_models(listed)
    if not base:
        pytest.skip("the list answer holds no base model to probe")
    target = sorted(base)[0]
    _refused(verifier, hub.probe_delete(target), "rule:base-model-not-deletable")
    after = hub.list()
    still = {model["id"] for model in verifier.answer(after)["data"]}
    verifier.same(after, "rule:base-model-not-deletable", "/data/*/id", target, target if target in still else None)


@pytest.mark.usefixtures("protection_probes")
def test_delete_with_another_namespace_s_key_is_refused_and_the_owner_still_has_it(
    hub: Any, verifier: Any, shared_model: str, other_namespace_key: str
) -> None:
    refused = hub.probe_delete(shared_model, credential=other_namespace_key)
    _refused(verifier, refused, "rule:other-namespace-cannot-delete")
    verifier.answer(hub.retrieve(shared_model, credential=Credential.KEY), clause="rule:other-namespace-cannot-delete")


def _answers_the_model_or_refuses(verifier: Any, exchange: Any, model_id: str) -> bool:
    """The model of that id (200), or a refusal (a 4xx error body; a 404 names the id); never a 5xx. True if 200.

    The docs say what activate and deactivate do to one's own custom model, not whether a base model or another
    namespace's model may be switched: either answer is allowed, a crash or a wrong model is not.
    """
    if exchange.status >= 500:
        verifier.same(exchange, "rule:no-server-error", "", "a status below 500", exchange.status)
    if exchange.status == 200:
        body = verifier.answer(exchange, clause="rule:activate-answers-the-model")
        verifier.same(exchange, "rule:activate-answers-the-model", "/id", model_id, body.get("id"))
        return True
    body = verifier.error(exchange, None, "rule:activate-answers-the-model")
    if exchange.status == 404:
        verifier.names_the_id(exchange, body)
    return False


@pytest.mark.usefixtures("protection_probes")
def test_activate_and_deactivate_of_a_base_model_answer_the_model_or_a_refusal(hub: Any, verifier: Any) -> None:
    # A probe: a hub that lets anyone deactivate a base model would stop it for everyone, so only with the flag.
    listed = verifier.answer(hub.list())["data"]
    base = _base_models(listed)
    if not base:
        pytest.skip("the list answer holds no base model to probe")
    target = sorted(base)[0]
    for action in ("deactivate", "activate"):
        _answers_the_model_or_refuses(verifier, getattr(hub, action)(target), target)


@pytest.mark.usefixtures("protection_probes")
def test_activate_and_deactivate_with_another_namespace_s_key_answer_the_model_or_a_refusal(
    hub: Any, verifier: Any, shared_model: str, other_namespace_key: str
) -> None:
    switched_off = False
    for action in ("deactivate", "activate"):
        exchange = getattr(hub, action)(shared_model, credential=other_namespace_key)
        accepted = _answers_the_model_or_refuses(verifier, exchange, shared_model)
        switched_off = accepted if action == "deactivate" else switched_off and not accepted
    if switched_off:
        # The other key stopped the run's model and could not start it again: the tests that follow need it active.
        verifier.answer(hub.activate(shared_model), clause="rule:activate-answers-the-model")
