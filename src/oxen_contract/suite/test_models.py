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


def test_retrieve_with_live_deployment_status_answers_the_model(hub: Any, verifier: Any, shared_model: str) -> None:
    exchange = hub.retrieve(shared_model, deployment_status="live")
    body = verifier.answer(exchange, clause="rule:retrieve-answers-the-requested-model")
    verifier.same(exchange, "rule:retrieve-answers-the-requested-model", "/id", shared_model, body.get("id"))


def test_search_answers_the_search_contract(
    hub: Any, verifier: Any, listed_ids: list[str], concurrent_reads: Any
) -> None:
    terms = sorted({model_id.split("/")[-1].split("-")[0] for model_id in listed_ids})[:5] or ["model"]
    for exchange in concurrent_reads(hub.search, terms):
        verifier.answer(exchange)


def test_own_custom_model_answers_as_custom_and_owned_by_the_caller(
    hub: Any, verifier: Any, shared_model: str, live_config: Any
) -> None:
    exchange = hub.retrieve(shared_model)
    body = verifier.answer(exchange)
    if "model_type" in body:  # optional; when named, it must be custom
        verifier.same(exchange, "rule:deleted-model-is-custom-and-yours", "/model_type", "custom", body["model_type"])
    if live_config.namespace is None:
        pytest.skip("the run's namespace is unknown (no --namespace, no --fine-tune): owned_by cannot be checked")
    verifier.same(
        exchange, "rule:deleted-model-is-custom-and-yours", "/owned_by", live_config.namespace, body.get("owned_by")
    )


def _developer(model: dict[str, Any]) -> str | None:
    developer = model.get("developer")
    name = developer.get("name") if isinstance(developer, dict) else None
    return name if isinstance(name, str) else None


def _actions(model: dict[str, Any]) -> list[str]:
    fine_tuning = model.get("fine_tuning")
    actions = fine_tuning.get("actions") if isinstance(fine_tuning, dict) else None
    return [action for action in actions if isinstance(action, str)] if isinstance(actions, list) else []


# The value each filter is checked with when no listed model names one: the docs' own example of a developer
# ("e.g. openai, anthropic, google" [O]), and the fine-tuning task the docs' tutorials name text_generation, which the
# documented-filter test above sends too. Any value would do: whatever Y is, a model that `action=Y` keeps must list Y.
EXAMPLE_FILTERS = {"developer_name": "openai", "action": "text_generation"}


def _filters(listed: list[dict[str, Any]]) -> list[tuple[str, str]]:
    developers = sorted({name for model in listed if (name := _developer(model))})[:3]
    actions = sorted({action for model in listed for action in _actions(model)})[:2]
    # A list that names no developer or no action still has its filter checked, with the example value.
    developers = developers or [EXAMPLE_FILTERS["developer_name"]]
    actions = actions or [EXAMPLE_FILTERS["action"]]
    return [("developer_name", name) for name in developers] + [("action", action) for action in actions]


def _stray(model: dict[str, Any], key: str, value: str) -> bool:
    """Whether ``model`` cannot be one that the filter ``key=value`` keeps.

    A model that does not say its developer cannot be shown to be a stray (developer is optional and nullable). A
    model's ``fine_tuning`` is null when it is not fine-tuneable ([S]), so no action filter keeps it; one that leaves
    ``fine_tuning`` out says nothing either way.
    """
    if key == "developer_name":
        return (_developer(model) or value).casefold() != value.casefold()
    if "fine_tuning" not in model:
        return False
    return model["fine_tuning"] is None or value not in _actions(model)


def test_a_filtered_list_keeps_only_models_that_match_the_filter(
    hub: Any, verifier: Any, concurrent_reads: Any
) -> None:
    listed = verifier.answer(hub.list())["data"]
    everything = {model["id"]: model for model in listed}
    # Never empty: a list that names no developer or action still has its filter checked with the example value.
    filters = _filters(listed)
    filtered = concurrent_reads(lambda pair: hub.list(**dict([pair])), filters)
    for (key, value), exchange in zip(filters, filtered, strict=True):
        kept = verifier.answer(exchange)["data"]
        strays = [model["id"] for model in kept if _stray(model, key, value)]
        verifier.same(exchange, "rule:list-filter-keeps-only-matches", "/data/*", [], strays)
        if key == "developer_name":
            matching = {i for i, m in everything.items() if _developer(m) == value}
        else:
            matching = {i for i, m in everything.items() if value in _actions(m)}
        ids = {model["id"] for model in kept}
        verifier.warn_unless(
            ids <= set(everything) and matching <= ids,
            exchange,
            "rule:list-filter-is-a-subset",
            "only listed models, and every listed model that matches",
            {"not listed": sorted(ids - set(everything)), "missing": sorted(matching - ids)},
        )


def test_a_search_answers_only_listed_models(
    hub: Any, verifier: Any, listed_ids: list[str], concurrent_reads: Any
) -> None:
    terms = sorted({model_id.split("/")[-1].split("-")[0] for model_id in listed_ids})[:3] or ["model"]
    for exchange in concurrent_reads(hub.search, terms):
        found = {model["id"] for model in verifier.answer(exchange)["data"]}
        unlisted = sorted(found - set(listed_ids))
        verifier.warn_unless(
            not unlisted, exchange, "rule:search-is-a-subset-of-list", "only models the list shows", unlisted
        )


def test_the_run_s_own_model_shows_in_its_list_and_in_a_search_for_it(
    hub: Any, verifier: Any, shared_model: str
) -> None:
    # The docs list and search "models" without saying a custom model is among them: a warning, not a violation.
    clause = "rule:own-model-listed"
    listed = hub.list()
    shown = [model["id"] for model in verifier.answer(listed)["data"]]
    verifier.warn_unless(shared_model in shown, listed, clause, f"{shared_model!r} listed", "not listed")
    searched = hub.search(shared_model.split("/")[-1])
    found = [model["id"] for model in verifier.answer(searched)["data"]]
    verifier.warn_unless(shared_model in found, searched, clause, f"{shared_model!r} found", found)


def test_the_run_s_own_model_does_not_show_to_another_namespace(
    hub: Any, verifier: Any, shared_model: str, other_namespace_key: str
) -> None:
    clause = "rule:own-model-hidden-from-other-namespaces"
    listed = hub.list(credential=other_namespace_key)
    shown = [model["id"] for model in verifier.answer(listed)["data"]]
    verifier.warn_unless(shared_model not in shown, listed, clause, f"no {shared_model!r}", shared_model)
    searched = hub.search(shared_model.split("/")[-1], credential=other_namespace_key)
    shown = [model["id"] for model in verifier.answer(searched)["data"]]
    verifier.warn_unless(shared_model not in shown, searched, clause, f"no {shared_model!r}", shared_model)
    retrieved = hub.retrieve(shared_model, credential=other_namespace_key)
    verifier.warn_unless(retrieved.status == 404, retrieved, clause, "404", retrieved.status)
    if retrieved.status == 404:
        verifier.not_found(retrieved, clause)


@pytest.mark.parametrize(
    ("operation", "request_args"),
    [
        ("searchModels", {"path": "/api/ai/models/search"}),
        ("searchModels", {"path": "/api/ai/models/search", "params": {"search": ""}}),
        ("retrieveModel", {"path": "/api/ai/models/gpt-4.1-mini", "params": {"deployment_status": "yesterday"}}),
    ],
    ids=["search-without-term", "search-with-empty-term", "unknown-deployment-status"],
)
def test_a_request_outside_the_documented_parameters_is_refused_or_reported_as_lenient(
    hub: Any, verifier: Any, operation: str, request_args: dict[str, Any]
) -> None:
    exchange = hub.send(operation, "GET", **request_args)
    verifier.refused_or_lenient(exchange, "rule:invalid-input-is-refused")
