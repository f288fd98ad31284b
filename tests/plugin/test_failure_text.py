"""The failure text a release manager reads, pinned in golden files under tests/plugin/golden/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oxen_contract.checks import Verifier
from oxen_contract.client import Credential, Exchange, HubTimeout, model_path
from oxen_contract.contracts import load_contract
from oxen_contract.failures import ContractFailure
from oxen_contract.transport import ApiKey

GOLDEN = Path(__file__).parent / "golden"
SECRET = "sk-live-secret-key-never-printed"
MODEL_ID = "alice:sandbox/ft-1-2"
DELETED = {
    "created": "1767225602",
    "id": MODEL_ID,
    "object": "model",
    "owned_by": "alice",
    "model_type": "custom",
    "deployments": [{"status": "running"}],
}


def _exchange(
    status: int,
    body: str,
    content_type: str = "application/json",
    credential: str = Credential.KEY,
    **headers: str,
) -> Exchange:
    path = model_path(MODEL_ID)
    return Exchange(
        operation="deleteModel",
        method="DELETE",
        url=f"https://hub.example{path}",
        path=path,
        model_id=MODEL_ID,
        credential=credential,
        status=status,
        headers={"content-type": content_type, **headers},
        text=body,
    )


def _failure_text(exchange: Exchange) -> str:
    verifier = Verifier(load_contract(), strict=False, keys=[ApiKey(SECRET, Credential.KEY)])
    with pytest.raises(ContractFailure) as failure:
        verifier.answer(exchange)
    return str(failure.value)


@pytest.mark.parametrize(
    ("golden", "exchange"),
    [
        ("delete_breaks_two_model_clauses.txt", _exchange(200, json.dumps(DELETED, separators=(",", ":")))),
        ("delete_answers_text_plain.txt", _exchange(200, "Deleted model", content_type="text/plain")),
        ("delete_answers_204.txt", _exchange(204, "")),
        (
            "delete_redirects.txt",
            _exchange(307, "", content_type="", location="/api/ai/models/alice%3Asandbox%2Fft-1-prod"),
        ),
    ],
    ids=["two-clauses", "text-plain", "status-204", "redirect"],
)
def test_failure_text_names_operation_request_status_clause_and_curl(golden: str, exchange: Exchange) -> None:
    text = _failure_text(exchange)
    assert text == (GOLDEN / golden).read_text(encoding="utf-8").rstrip("\n")
    assert SECRET not in text
    assert '-H "Authorization: Bearer $OXEN_API_KEY"' in text


def test_timeout_text_names_the_operation_and_the_clause_without_the_key() -> None:
    text = str(HubTimeout("deleteModel", "DELETE", "https://hub.example/api/ai/models/x", "x", Credential.KEY, 3))
    assert text.startswith("Contract violation in deleteModel: DELETE https://hub.example/api/ai/models/x")
    assert "rule:answers-in-time" in text
    assert "$OXEN_API_KEY" in text
