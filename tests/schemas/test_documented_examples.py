"""The examples the sources print validate, or fail exactly the clauses SOURCES.md says they conflict with."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from oxen_contract.checking.contracts import Contract
from oxen_contract.checking.documented import REFERENCE_DELETE_EXAMPLE


def test_reference_example_breaks_exactly_the_two_base_model_rules(contract: Contract) -> None:
    # SOURCES.md: the placeholder (base, an active deployment, owner "<string>") breaks the prose; we keep the prose.
    clauses = {violation.clause for violation in contract.violations("model", REFERENCE_DELETE_EXAMPLE)}
    assert clauses == {
        "model.schema.json#/$defs/baseModelIsOwnedByOxen/then/properties/owned_by/const",
        "model.schema.json#/$defs/baseModelHasNoDeployments/then/properties/deployments/maxItems",
    }


@pytest.mark.parametrize("strict", [False, True])
def test_reference_example_as_a_custom_model_validates(contract: Contract, strict: bool) -> None:
    example = {**copy.deepcopy(REFERENCE_DELETE_EXAMPLE), "model_type": "custom"}
    assert contract.violations("model", example, strict=strict) == []


@pytest.mark.parametrize(
    "body",
    [
        # Shape 1, as the inference overview prints it.
        {
            "error": {"type": "resource_not_found", "title": "Model not found", "detail": "Model not found: x"},
            "status": "error",
            "status_message": "resource_not_found",
        },
        # The documented 404 leaves out detail; the documented 400 adds status_description.
        {
            "error": {"type": "resource_not_found", "title": "Model not found: x"},
            "status": "error",
            "status_message": "resource_not_found",
        },
        {
            "error": {"type": "invalid_params", "title": "Invalid parameters", "detail": "search is required"},
            "status": "error",
            "status_message": "invalid_params",
            "status_description": "Bad request",
        },
        {"error": {"type": "unauthenticated", "title": "Unauthenticated"}, "status": "error", "status_message": "x"},
        # Shape 2.
        {"error": {"message": "Model not found: bad-model-name"}},
    ],
)
def test_documented_error_bodies_validate(contract: Contract, body: dict[str, Any]) -> None:
    assert contract.violations("error", body) == []


def test_tutorial_deploy_answer_validates(contract: Contract) -> None:
    answer = {
        "deployment": {
            "model_slug": "oxen:tutorials/cyberpunkart-ft_img_gen_12345",
            "status": "deploying",
            "endpoint": "https://hub.oxen.ai/api/ai/images/generate",
        }
    }
    assert contract.violations("fine-tune-deploy", answer) == []


def test_documented_field_examples_validate(contract: Contract, custom_model: dict[str, Any]) -> None:
    custom_model["released_at"] = "2025-06-19T00:00:00Z"
    custom_model["pricing"]["cost_per_image_grid"] = {"high": {"4K": 1.47}}
    custom_model["pricing"]["cost_per_second_by_resolution"] = {"480p": 0.096}
    custom_model["request_schema"] = None
    assert contract.violations("model", custom_model, strict=True) == []


def test_search_answer_without_object_is_default_but_not_strict(
    contract: Contract, custom_model: dict[str, Any]
) -> None:
    # [O] shows search answering {"data": [...]}; [S] adds object: list. Default accepts both, strict follows [S].
    answer = {"data": [custom_model]}
    assert contract.violations("search-answer", answer) == []
    assert [v.clause for v in contract.violations("search-answer", answer, strict=True)] == [
        "model-list.schema.json#/required"
    ]
