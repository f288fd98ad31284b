"""Fixtures for the offline contract tests: the loaded contract and valid instances to break."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from oxen_contract.checking.contracts import Contract, load_contract

from .instances import BASE_MODEL, CUSTOM_MODEL


@pytest.fixture(scope="session")
def contract() -> Contract:
    """The contracts, loaded once through the package's only reader of contracts/."""
    return load_contract()


@pytest.fixture
def custom_model() -> dict[str, Any]:
    """A custom model object with every optional field present."""
    return copy.deepcopy(CUSTOM_MODEL)


@pytest.fixture
def base_model() -> dict[str, Any]:
    """A base model object with every optional field present."""
    return copy.deepcopy(BASE_MODEL)
