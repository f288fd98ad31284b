"""The seed catalog covers what a real hub serves."""

from __future__ import annotations

from oxen_contract.hub.catalog import (
    BASE_MODELS,
    BASE_MODELS_BY_ID,
    SANDBOX_BASE_MODEL,
    preseeded_model_id,
    preseeded_models,
    sandbox_fine_tune,
)
from oxen_contract.hub.clock import EPOCH
from oxen_contract.hub.records import ENDPOINTS, PRICING_METHODS

RENDERED = [model.to_json() for model in BASE_MODELS]


def test_there_are_at_least_twelve_base_models_with_unique_ids() -> None:
    assert len(BASE_MODELS) >= 12
    assert len(BASE_MODELS_BY_ID) == len(BASE_MODELS)


def test_every_endpoint_and_pricing_method_is_covered() -> None:
    assert {m["endpoint"] for m in RENDERED} == set(ENDPOINTS)
    assert {m["pricing"]["method"] for m in RENDERED} == set(PRICING_METHODS)


def test_base_models_are_owned_by_oxen_and_have_no_deployments() -> None:
    for model in RENDERED:
        assert (model["owned_by"], model["model_type"], model["deployments"], model["object"]) == (
            "oxen",
            "base",
            [],
            "model",
        )
        assert isinstance(model["created"], int)
        assert isinstance(model["display_name"], str)


def test_realistic_nulls_appear_on_some_models_and_not_others() -> None:
    for key in ("description", "image_url", "fine_tuning", "request_schema", "released_at", "showcase", "developer"):
        values = [model[key] for model in RENDERED]
        assert None in values and any(value is not None for value in values), key
    logos = [model["developer"]["logo"] for model in RENDERED if model["developer"]]
    assert None in logos and any(logos)


def test_the_newer_vendor_fields_appear_on_some_models() -> None:
    grids = [m["pricing"]["cost_per_image_grid"] for m in RENDERED if "cost_per_image_grid" in m["pricing"]]
    assert {"high": {"2K": 0.12, "4K": 1.47}} in [{"high": grid["high"]} for grid in grids]
    assert any(m["pricing"].get("cost_per_second_by_resolution") == {"480p": 0.096, "720p": 0.2} for m in RENDERED)
    galleries = [item for m in RENDERED if m["showcase"] for item in m["showcase"]["gallery"]]
    assert galleries and all({"src", "alt"} <= set(item) for item in galleries)


def test_released_at_looks_like_the_documented_example() -> None:
    stamps = [m["released_at"] for m in RENDERED if m["released_at"]]
    assert stamps and all(len(s) == 20 and s.endswith("T00:00:00Z") for s in stamps)


def test_ids_exercise_the_characters_clients_must_encode() -> None:
    assert any("/" in model.id and "." in model.id for model in BASE_MODELS)


def test_the_sandbox_fine_tune_starts_from_a_fine_tunable_model() -> None:
    assert BASE_MODELS_BY_ID[SANDBOX_BASE_MODEL].fine_tuning is not None
    fine_tune = sandbox_fine_tune("carol")
    assert (fine_tune.owner, fine_tune.repo, fine_tune.id, fine_tune.steps) == ("carol", "sandbox", "ft-1", (1,))


def test_a_crowded_namespace_holds_a_prod_and_an_old_model_from_last_month() -> None:
    prod, old = preseeded_models("carol")
    assert (prod.id, old.id) == (preseeded_model_id("carol", "prod"), preseeded_model_id("carol", "old"))
    assert (prod.id, old.id) == ("carol:sandbox/ft-1-prod", "carol:sandbox/ft-1-old")
    for model in (prod, old):
        assert (model.owned_by, model.model_type, model.deployment_status) == ("carol", "custom", "active")
        assert model.source_model == SANDBOX_BASE_MODEL
        assert EPOCH - 31 * 86400 <= model.created < EPOCH
    assert old.created < prod.created


def test_a_crowded_namespace_can_hold_its_old_model_deactivated() -> None:
    prod, old = preseeded_models("carol", old_status="inactive")
    assert (prod.deployment_status, old.deployment_status) == ("active", "inactive")
    assert (prod.created, old.created) == tuple(model.created for model in preseeded_models("carol"))
