"""The default contract is open and every nullable field may be null; the strict variant closes every object."""

from __future__ import annotations

from typing import Any

import pytest

from oxen_contract.checking.contracts import CONTRACT_NAMES, Contract, load_contract


def _nullable_fields() -> tuple[str, ...]:
    # Read from the contract, not copied: a field made nullable there is tested here without an edit.
    schema = load_contract().documents["model.schema.json"]

    def allows_null(node: dict[str, Any]) -> bool:
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/"):
            node = schema["$defs"][ref.removeprefix("#/$defs/")]
        kinds = node.get("type")
        return kinds == "null" or (isinstance(kinds, list) and "null" in kinds)

    return tuple(sorted(name for name, node in schema["properties"].items() if allows_null(node)))


NULLABLE = _nullable_fields()
OBJECTS = ("", "/capabilities", "/deployments/0", "/developer", "/fine_tuning", "/pricing", "/showcase")


def _at(instance: Any, pointer: str) -> Any:
    for part in pointer.lstrip("/").split("/") if pointer else []:
        instance = instance[int(part)] if isinstance(instance, list) else instance[part]
    return instance


@pytest.mark.parametrize("pointer", OBJECTS)
def test_strict_rejects_an_unknown_field_the_default_accepts(
    contract: Contract, custom_model: dict[str, Any], pointer: str
) -> None:
    _at(custom_model, pointer)["x_unknown"] = {"any": "thing"}
    assert contract.violations("model", custom_model) == []
    violations = contract.violations("model", custom_model, strict=True)
    assert [(v.keyword, v.instance_pointer, v.actual) for v in violations] == [
        ("unevaluatedProperties", pointer, ["x_unknown"])
    ]


def test_only_the_required_fields_make_a_valid_model(contract: Contract) -> None:
    minimal = {"created": 0, "id": "m", "object": "model", "owned_by": "oxen"}
    assert contract.violations("model", minimal, strict=True) == []


@pytest.mark.parametrize("strict", [False, True])
def test_every_nullable_field_may_be_null(contract: Contract, custom_model: dict[str, Any], strict: bool) -> None:
    custom_model.update(dict.fromkeys(NULLABLE))
    custom_model["pricing"] = {
        key: (value if key == "method" else None) for key, value in custom_model["pricing"].items()
    }
    assert contract.violations("model", custom_model, strict=strict) == []


def test_validators_are_built_once_per_contract_and_variant(contract: Contract) -> None:
    for name in CONTRACT_NAMES:
        assert contract.validator(name) is contract.validator(name)
        assert contract.validator(name) is not contract.validator(name, strict=True) or name not in (
            "model",
            "model-list",
            "search-answer",
        )
    assert load_contract() is load_contract()


def test_unknown_contract_name_is_a_clear_error(contract: Contract) -> None:
    with pytest.raises(KeyError, match="unknown contract 'models'; known: model, model-list"):
        contract.validator("models")
