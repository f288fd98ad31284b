"""contracts.py: which clauses a validation against each contract exercises, and each distinct model judged once."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oxen_contract.checking.contracts import BASE_URI, CONTRACT_NAMES, Contract, load_contract
from oxen_contract.checking.tally import Tally
from oxen_contract.hub.catalog import BASE_MODELS

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


# -- a list answer is validated as its wrapper and each distinct model, as a validation of the whole would read -----

_CATALOG = [model.to_json() for model in BASE_MODELS[:6]]
_BREAKS: dict[str, Any] = {
    "none": lambda model: model,
    "created-as-text": lambda model: {**model, "created": "yesterday"},
    "no-id": lambda model: {key: value for key, value in model.items() if key != "id"},
    "pricing-as-text": lambda model: {**model, "pricing": "token"},
    "unknown-field": lambda model: {**model, "x_rank": 1, "capabilities": {**model["capabilities"], "beta": True}},
    "not-an-object": lambda model: 7,
    "input-as-text": lambda model: {**model, "capabilities": {"input": "text", "output": ["text"]}},
}
_WRAPPERS: dict[str, Any] = {
    "as-documented": lambda data: {"object": "list", "data": data},
    "no-object": lambda data: {"data": data},
    "object-not-list": lambda data: {"object": "page", "data": data},
    "unknown-member": lambda data: {"object": "list", "data": data, "has_more": False},
}
_bodies = st.builds(
    lambda wrap, models: _WRAPPERS[wrap](models),
    st.sampled_from(sorted(_WRAPPERS)),
    st.lists(
        st.builds(lambda model, brk: _BREAKS[brk](model), st.sampled_from(_CATALOG), st.sampled_from(sorted(_BREAKS))),
        max_size=6,
    ),
)


@given(body=_bodies, name=st.sampled_from(["model-list", "search-answer"]), strict=st.booleans())
def test_a_list_judged_model_by_model_reads_as_a_validation_of_the_whole_would(
    body: dict[str, Any], name: str, strict: bool
) -> None:
    # A contract of its own, so that the one under test meets each body with its caches in any state.
    whole = Contract(CONTRACT.directory)._validate(name, body, strict)
    assert CONTRACT.violations(name, body, strict=strict) == whole
    assert CONTRACT.violations(name, body, strict=strict) == whole  # and again, from what it remembers


def test_a_list_of_models_seen_before_costs_one_validation_per_model_it_has_not_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contract = Contract(CONTRACT.directory)
    validated: list[str] = []
    validate = contract._validate

    def counted(name: str, instance: Any, strict: bool) -> list[Any]:
        validated.append(name)
        return validate(name, instance, strict)

    monkeypatch.setattr(contract, "_validate", counted)
    models = [model.to_json() for model in BASE_MODELS]
    contract.violations("model-list", {"object": "list", "data": models})
    assert validated == ["model-list"] + ["model"] * len(models)
    validated.clear()
    # The next list, with one model changed; a search holding some of them; a retrieve of one.
    changed = [{**models[0], "description": "changed"}, *models[1:]]
    contract.violations("model-list", {"object": "list", "data": changed})
    contract.violations("search-answer", {"object": "list", "data": models[2:5]})
    contract.violations("model", dict(reversed(list(models[3].items()))))
    assert validated == ["model", "search-answer"]
