"""contracts.py: which clauses a validation against each contract exercises, as the tally counts them."""

from __future__ import annotations

import pytest

from oxen_contract.contracts import BASE_URI, CONTRACT_NAMES, load_contract
from oxen_contract.tally import Tally

CONTRACT = load_contract()
MODEL_CLAUSES = {clause for clause in CONTRACT.rules() if clause.startswith("model.schema.json#")}
STRICT_CLAUSES = {clause for clause in CONTRACT.rules() if clause.startswith("strict.schema.json#")}


@pytest.mark.parametrize("name", CONTRACT_NAMES)
@pytest.mark.parametrize("strict", [False, True])
def test_each_contract_exercises_documented_clauses_of_its_own_schema(name: str, strict: bool) -> None:
    clauses = CONTRACT.clauses(name, strict)
    assert clauses and set(clauses) <= set(CONTRACT.rules())
    file, _, fragment = CONTRACT.uri(name).removeprefix(BASE_URI).partition("#")
    assert any(clause.startswith(f"{file}#{fragment}") for clause in clauses)


@pytest.mark.parametrize(
    ("name", "holds_models"),
    [
        ("model", True),
        ("model-list", True),
        ("search-answer", True),
        ("checkpoint-deploy", True),
        ("fine-tune-deploy", False),
        ("error", False),
    ],
)
def test_a_contract_that_holds_models_exercises_the_model_clauses(name: str, holds_models: bool) -> None:
    assert (MODEL_CLAUSES <= set(CONTRACT.clauses(name, False))) == holds_models


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_the_strict_variant_adds_the_strict_clauses_where_it_differs_and_nothing_elsewhere(name: str) -> None:
    default, strict = set(CONTRACT.clauses(name, False)), set(CONTRACT.clauses(name, True))
    differs = CONTRACT.uri(name, strict=True) != CONTRACT.uri(name)
    assert strict == (default | STRICT_CLAUSES if differs else default)


def test_an_unknown_contract_is_refused_with_the_names_it_knows() -> None:
    with pytest.raises(KeyError, match="unknown contract 'models'; known: model, model-list"):
        CONTRACT.clauses("models", False)


@pytest.mark.parametrize("strict", [False, True])
def test_the_tally_counts_a_validation_as_a_check_of_each_clause_the_contract_names(strict: bool) -> None:
    tally = Tally(CONTRACT)
    tally.validated("checkpoint-deploy", strict, {"model": {}})
    tally.validated("checkpoint-deploy", strict, {"model": {}})
    assert tally.checked == dict.fromkeys(CONTRACT.clauses("checkpoint-deploy", strict), 2)


def test_an_answer_validated_again_gives_the_same_violations_whatever_its_key_order() -> None:
    contract = load_contract()
    broken = {"id": 7, "object": "model", "created": "yesterday", "owned_by": "alice"}
    first = contract.violations("model", broken)
    assert {v.clause for v in first} == {
        "model.schema.json#/properties/id/type",
        "model.schema.json#/properties/created/type",
    }
    first.clear()  # the caller's list is its own: the next answer is judged afresh
    again = contract.violations("model", dict(reversed(list(broken.items()))))
    assert [v.clause for v in again] == [v.clause for v in contract.violations("model", broken)]
    assert len(again) == 2
    # Equal as Python values, different as JSON: each is judged on its own (1.5 is no integer, True no number).
    assert contract.violations("model", {**broken, "created": 1.5})[0].instance_pointer == "/created"
    assert contract.violations("model", {**broken, "id": "m", "created": True})[0].clause.endswith("created/type")
    assert contract.violations("model", {**broken, "id": "m", "created": 1}) == []
