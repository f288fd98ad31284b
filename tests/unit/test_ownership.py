"""ownership.py: a model is the run's only as a custom model of its namespace, and a deploy answer must name one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oxen_contract.exchange import Credential, Exchange, model_path
from oxen_contract.failures import ProvisioningError
from oxen_contract.ownership import deployed_id, is_ours, not_ours

MINE = {"id": "alice:sandbox/ft-1-3", "object": "model", "owned_by": "alice", "model_type": "custom"}


def _answer(status: int, body: Any, path: str = model_path(MINE["id"]), **headers: str) -> Exchange:
    text = body if isinstance(body, str) else json.dumps(body)
    return Exchange(
        "retrieveModel", "GET", f"https://hub.test{path}", path, None, Credential.KEY, status, headers, text
    )


@pytest.mark.parametrize(
    ("model", "namespace", "ours"),
    [
        (MINE, "alice", True),
        ({key: value for key, value in MINE.items() if key != "model_type"}, "alice", True),
        (MINE, "bob", False),
        (MINE, None, False),
        ({**MINE, "model_type": "base"}, "alice", False),
        ({**MINE, "owned_by": "oxen"}, "oxen", False),
        ({**MINE, "id": 7}, "alice", False),
    ],
    ids=["custom-of-namespace", "type-unstated", "other-namespace", "no-namespace", "base", "oxen", "no-id"],
)
def test_a_model_is_ours_only_as_a_custom_model_of_the_namespace(
    model: dict[str, Any], namespace: str | None, ours: bool
) -> None:
    assert is_ours(model, namespace) == ours


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (_answer(200, MINE), None),
        (_answer(404, {"error": {}}), "retrieving it answered 404"),
        (_answer(200, {**MINE, "id": "alice:sandbox/ft-1-4"}), "did not answer that model"),
        (_answer(200, "not json"), "did not answer that model"),
        (_answer(200, {**MINE, "owned_by": "bob"}), "owned by 'bob' of type 'custom'"),
    ],
    ids=["ours", "gone", "another-model", "not-json", "another-owner"],
)
def test_a_retrieve_answer_says_why_the_model_is_not_ours(answer: Exchange, says: str | None) -> None:
    problem = not_ours(answer, MINE["id"], "alice")
    if says is None:
        assert problem is None
    else:
        assert problem is not None and says in problem


def test_a_deploy_answer_names_the_model_it_made_at_its_route_s_place() -> None:
    deploy = "/api/repos/alice/sandbox/fine_tunes/ft-1/deploy"
    slug = _answer(200, {"deployment": {"model_slug": MINE["id"]}}, deploy)
    assert deployed_id(slug, ("deployment", "model_slug")) == MINE["id"]
    assert deployed_id(_answer(200, {"model": {"id": "m"}}, deploy), ("model", "id")) == "m"


@pytest.mark.parametrize(
    ("status", "body", "headers", "says"),
    [
        (202, {}, {"location": "/queue/1"}, "answered 202 (Location: /queue/1)"),
        (200, "<html>", {}, "answered a body that is not JSON"),
        (200, {"deployment": {"model_slug": ""}}, {}, "answered without a model id at deployment.model_slug"),
        (200, {"deployment": []}, {}, "answered without a model id at deployment.model_slug"),
    ],
    ids=["not-200", "not-json", "empty-id", "wrong-shape"],
)
def test_a_deploy_answer_without_a_model_id_is_a_provisioning_error_showing_the_answer(
    status: int, body: Any, headers: dict[str, str], says: str
) -> None:
    answer = _answer(status, body, "/api/repos/alice/sandbox/fine_tunes/ft-1/deploy", **headers)
    with pytest.raises(ProvisioningError, match=says.replace("(", r"\(").replace(")", r"\)")) as refused:
        deployed_id(answer, ("deployment", "model_slug"))
    assert "reproduce with: curl -X GET https://hub.test/api/repos/alice/sandbox/fine_tunes/ft-1/deploy" in str(
        refused.value
    )
