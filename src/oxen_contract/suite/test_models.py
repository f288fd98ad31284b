"""Every model object the hub answers, from list, search and retrieve, meets the model contract."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.vcr, pytest.mark.contract]


def test_list_answers_the_list_contract(hub: Any, verifier: Any) -> None:
    verifier.answer(hub.list())


@pytest.mark.parametrize(
    "query",
    [{"developer_name": "openai"}, {"action": "text_generation"}, {"provider_name": "x"}],
    ids=["developer_name", "action", "provider_name"],
)
def test_list_with_a_documented_filter_answers_the_list_contract(
    hub: Any, verifier: Any, query: dict[str, str]
) -> None:
    verifier.answer(hub.list(**query))


def test_every_listed_model_retrieves_as_itself(hub: Any, verifier: Any, listed_ids: list[str]) -> None:
    for model_id in listed_ids:
        exchange = hub.retrieve(model_id)
        body = verifier.answer(exchange, clause="rule:retrieve-answers-the-requested-model")
        verifier.same(exchange, "rule:retrieve-answers-the-requested-model", "/id", model_id, body.get("id"))


def test_retrieve_with_live_deployment_status_answers_the_model(hub: Any, verifier: Any, shared_model: str) -> None:
    exchange = hub.retrieve(shared_model, deployment_status="live")
    body = verifier.answer(exchange, clause="rule:retrieve-answers-the-requested-model")
    verifier.same(exchange, "rule:retrieve-answers-the-requested-model", "/id", shared_model, body.get("id"))


def test_search_answers_the_search_contract(hub: Any, verifier: Any, listed_ids: list[str]) -> None:
    for term in sorted({model_id.split("/")[-1].split("-")[0] for model_id in listed_ids})[:5] or ["model"]:
        verifier.answer(hub.search(term))


def test_own_custom_model_answers_as_custom_and_owned_by_the_caller(
    hub: Any, verifier: Any, shared_model: str, live_config: Any
) -> None:
    exchange = hub.retrieve(shared_model)
    body = verifier.answer(exchange)
    if "model_type" in body:  # optional; when named, it must be custom
        verifier.same(exchange, "rule:deleted-model-is-custom-and-yours", "/model_type", "custom", body["model_type"])
    if live_config.namespace is not None:
        verifier.same(
            exchange, "rule:deleted-model-is-custom-and-yours", "/owned_by", live_config.namespace, body.get("owned_by")
        )
