"""Schemathesis over the six models operations of openapi.yaml, with the checks fuzzing.CHECKS chooses."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
import schemathesis

from oxen_contract.clients.fuzzing import MODELS_OPERATIONS

pytestmark = [pytest.mark.vcr, pytest.mark.contract]

# The filters must sit on the lazy schema: pytest collects operations from it, not from the fixture's value.
operations = (
    schemathesis.pytest.from_fixture("hub_schema").include(path_regex=MODELS_OPERATIONS).exclude(method="DELETE")
)
deletes = schemathesis.pytest.from_fixture("delete_schema").include(path_regex=MODELS_OPERATIONS, method="DELETE")


@operations.parametrize()
def test_models_operation_answers_within_its_contract(case: Any, hub_call: Any) -> None:
    hub_call(case)


@pytest.mark.destructive
@deletes.parametrize()
def test_fuzzed_delete_targets_only_the_model_provisioned_for_it(
    case: Any, hub_call: Any, disposable_model: str
) -> None:
    # By design the fuzzer cannot name another id (fuzzing.IdPool.doomed); this proves it on every example.
    assert unquote(case.path_parameters["id"]) == disposable_model
    hub_call(case)
