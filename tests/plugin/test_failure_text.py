"""The failure text a release manager reads, pinned in golden files under tests/plugin/golden/."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from oxen_contract.checking.checks import Verifier
from oxen_contract.checking.contract_failure import ContractFailure, HubTimeout
from oxen_contract.checking.contracts import load_contract
from oxen_contract.checking.exchange import INVALID_KEY, Credential, Exchange, model_path
from oxen_contract.http.redaction import ApiKey

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


def _exchange(status: int, body: str, content_type: str = "application/json", **headers: str) -> Exchange:
    path = model_path(MODEL_ID)
    return Exchange(
        operation="deleteModel",
        method="DELETE",
        url=f"https://hub.example{path}",
        path=path,
        model_id=MODEL_ID,
        credential=Credential.KEY,
        status=status,
        headers={"content-type": content_type, **headers},
        text=body,
    )


def _failure_text(
    exchange: Exchange,
    header: str = f"Bearer {SECRET}",
    check: Callable[[Verifier, Exchange], object] = Verifier.answer,
) -> str:
    """The text of the failure the Verifier raises for ``exchange``, sent with the Authorization ``header``.

    The credential is read from the header as sent, the key in it, as the schemathesis checks read it: a key that
    leaked through that reading would reach the text.
    """
    verifier = Verifier(load_contract(), strict=False, keys=[ApiKey(SECRET, Credential.KEY)])
    exchange = dataclasses.replace(exchange, credential=verifier.label(header))
    with pytest.raises(ContractFailure) as failure:
        check(verifier, exchange)
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


def test_an_answer_to_a_refused_key_names_the_credential_and_a_curl_line_sending_it() -> None:
    text = _failure_text(
        _exchange(200, json.dumps(DELETED)), header=f"Bearer {INVALID_KEY}", check=Verifier.unauthenticated
    )
    assert text == (GOLDEN / "delete_with_invalid_key_answers_200.txt").read_text(encoding="utf-8").rstrip("\n")


def test_timeout_text_is_rendered_like_every_contract_failure() -> None:
    url = f"https://hub.example{model_path(MODEL_ID)}"
    timeout = HubTimeout("deleteModel", "DELETE", url, MODEL_ID, Credential.KEY, 3)
    assert isinstance(timeout, ContractFailure)
    assert str(timeout) == (GOLDEN / "delete_times_out.txt").read_text(encoding="utf-8").rstrip("\n")
