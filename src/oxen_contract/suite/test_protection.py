"""Protection probes: what must not be deletable is refused, and is still there afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from oxen_contract.client import Credential

pytestmark = [pytest.mark.vcr, pytest.mark.contract, pytest.mark.protection_probe]


@pytest.mark.usefixtures("protection_probes")
def test_delete_of_a_base_model_is_refused_and_it_is_still_listed(hub: Any, verifier: Any) -> None:
    listed = verifier.answer(hub.list())["data"]
    base = [model["id"] for model in listed if model.get("model_type") == "base" or model.get("owned_by") == "oxen"]
    if not base:
        pytest.skip("the list answer holds no base model to probe")
    target = sorted(base)[0]
    verifier.error(hub.probe_delete(target), None, "rule:base-model-not-deletable")
    after = hub.list()
    still = {model["id"] for model in verifier.answer(after)["data"]}
    verifier.same(after, "rule:base-model-not-deletable", "/data/*/id", target, target if target in still else None)


@pytest.mark.usefixtures("protection_probes")
def test_delete_with_another_namespace_s_key_is_refused_and_the_owner_still_has_it(
    hub: Any, verifier: Any, shared_model: str, other_namespace_key: str
) -> None:
    verifier.error(
        hub.probe_delete(shared_model, credential=other_namespace_key), None, "rule:other-namespace-cannot-delete"
    )
    verifier.answer(hub.retrieve(shared_model, credential=Credential.KEY), clause="rule:other-namespace-cannot-delete")
