"""synthetic.py: catalogues of any size, in the shapes of the seeded one, each model its own."""

from __future__ import annotations

import json
import time

import pytest

from oxen_contract.hub.catalog import BASE_MODELS, SANDBOX_BASE_MODEL
from oxen_contract.hub.records import ENDPOINTS
from oxen_contract.hub.synthetic import catalog_of

from ._helpers import ALICE, MODELS, deploy, model_path
from .conftest import MakeClient


def _shape(model: dict[str, object]) -> tuple[object, ...]:
    """What a generated model shares with the seeded model it was grown from: every field but names and numbers."""
    pricing = model["pricing"]
    assert isinstance(pricing, dict)
    return (
        model["endpoint"],
        json.dumps(model["capabilities"]),
        pricing["method"],
        tuple(sorted(pricing)),
        tuple(sorted(key for key, value in model.items() if value is None)),
        json.dumps(model["showcase"] is None),
    )


def test_a_catalogue_cut_down_to_four_keeps_every_endpoint_and_the_fine_tunes_base() -> None:
    four = [model.to_json() for model in catalog_of(4)]
    assert {model["endpoint"] for model in four} == set(ENDPOINTS)
    assert SANDBOX_BASE_MODEL in {model["id"] for model in four}
    assert any(model["showcase"] for model in four) and any(model["fine_tuning"] for model in four)
    # In the seeded catalogue's order, as the hub lists it.
    assert [model["id"] for model in four] == [m.id for m in BASE_MODELS if m.id in {x["id"] for x in four}]


def test_a_grown_catalogue_holds_the_seeded_one_then_models_each_of_its_own_in_the_seeded_shapes() -> None:
    grown = [model.to_json() for model in catalog_of(1000)]
    assert len(grown) == 1000
    assert grown[: len(BASE_MODELS)] == [model.to_json() for model in BASE_MODELS]
    assert len({model["id"] for model in grown}) == 1000
    assert len({json.dumps(model, sort_keys=True) for model in grown}) == 1000
    seeded_shapes = {_shape(model.to_json()) for model in BASE_MODELS}
    assert {_shape(model) for model in grown} == seeded_shapes
    # Registered before anything a run deploys, each at its own time.
    assert len({model["created"] for model in grown}) == 1000
    assert max(model["created"] for model in grown) < 1767225600  # 2026-01-01, the deterministic clock's start


def test_a_catalogue_holds_at_least_one_model() -> None:
    with pytest.raises(ValueError, match="at least the sandbox fine-tunes' base model"):
        catalog_of(0)


def test_a_hub_lists_retrieves_and_deploys_from_a_catalogue_of_the_size_asked(make_client: MakeClient) -> None:
    client = make_client(catalog_size=300)
    listed = client.get(MODELS, headers=ALICE).json()["data"]
    assert len(listed) == 300
    last = listed[-1]["id"]
    assert client.get(model_path(last), headers=ALICE).json()["id"] == last
    model_id = deploy(client)
    assert len(client.get(MODELS, headers=ALICE).json()["data"]) == 301
    assert client.get(model_path(model_id), headers=ALICE).json()["source_model"] == SANDBOX_BASE_MODEL


def test_every_answer_of_a_distant_hub_comes_its_latency_later_errors_included(make_client: MakeClient) -> None:
    client = make_client(latency=0.2)
    for path, headers, status in ((MODELS, ALICE, 200), (model_path("no-such-model"), ALICE, 404), (MODELS, {}, 401)):
        started = time.monotonic()
        assert client.get(path, headers=headers).status_code == status
        assert time.monotonic() - started >= 0.2
