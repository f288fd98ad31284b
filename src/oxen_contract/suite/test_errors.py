"""Error answers: unknown ids answer 404 naming the id; a missing or bad credential answers 401 everywhere."""

from __future__ import annotations

from typing import Any

import pytest

from oxen_contract.client import Credential

pytestmark = [pytest.mark.vcr, pytest.mark.contract]

BAD_CREDENTIALS = (Credential.NONE, Credential.INVALID, Credential.NOT_BEARER)


def _unknown_id(namespace: str | None) -> str:
    # Under the caller's own namespace, so that even a hub that had such a model would only ever show the caller's.
    return f"{namespace or 'oxen-contract'}:oxen-contract/never-deployed-model"


@pytest.mark.parametrize("operation", ["retrieve", "activate", "deactivate"])
def test_unknown_id_answers_404_with_an_error_body_naming_it(
    hub: Any, verifier: Any, live_config: Any, operation: str
) -> None:
    verifier.not_found(getattr(hub, operation)(_unknown_id(live_config.namespace)), "rule:not-found-names-the-id")


@pytest.mark.parametrize("credential", BAD_CREDENTIALS)
@pytest.mark.parametrize("operation", ["list", "search", "retrieve", "activate", "deactivate"])
def test_operation_without_a_valid_key_answers_401(
    hub: Any, verifier: Any, shared_model: str, operation: str, credential: str
) -> None:
    call = {
        "list": lambda: hub.list(credential=credential),
        "search": lambda: hub.search("model", credential=credential),
        "retrieve": lambda: hub.retrieve(shared_model, credential=credential),
        "activate": lambda: hub.activate(shared_model, credential=credential),
        "deactivate": lambda: hub.deactivate(shared_model, credential=credential),
    }[operation]
    verifier.unauthenticated(call())  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("credential", BAD_CREDENTIALS)
def test_delete_without_a_valid_key_answers_401_and_deletes_nothing(
    hub: Any, verifier: Any, shared_model: str, credential: str
) -> None:
    verifier.unauthenticated(hub.delete(shared_model, credential=credential))
    still_there = hub.retrieve(shared_model)
    verifier.answer(still_there, clause="rule:delete-without-token-deletes-nothing")
