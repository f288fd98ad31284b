"""--contract-report: a run against a hub with a fault writes a report that names the fault's clause."""

from __future__ import annotations

import json
from pathlib import Path

from oxen_contract.hub import LocalHub

from .conftest import Runner


def test_report_of_a_run_against_a_faulty_hub_names_the_clause_with_request_and_curl(
    run_suite: Runner, tmp_path: Path
) -> None:
    report = tmp_path / "reports" / "contract.md"
    with LocalHub({"key-a": "alice", "key-b": "bob"}, ["delete-created-as-string", "extra-fields"]) as hub:
        result = run_suite(
            "tests/contract",
            *("--hub-url", hub.url, "--fine-tune", "alice/sandbox/ft-1", "--contract-report", str(report)),
            *("--ledger", str(tmp_path / "ledger.jsonl"), "--junitxml", str(tmp_path / "junit.xml")),
            env={"OXEN_API_KEY": "key-a", "OXEN_API_KEY_OTHER": "key-b"},
        )
    assert result.returncode == 1, result.stdout[-3000:]
    # Each JUnit test case names the clauses it checked and broke.
    junit = (tmp_path / "junit.xml").read_text()
    assert '<property name="oxen_clauses_broken" value="' in junit
    assert "model.schema.json#/properties/created/type" in junit
    text = report.read_text()
    data = json.loads(report.with_suffix(".json").read_text())
    assert data["outcome"] == "contract violations"
    assert data["mode"] == "live" and data["hub"] == hub.url
    clause = "model.schema.json#/properties/created/type"
    broken = [f for f in data["failures"] if f["clause"] == clause]
    assert broken and broken[0]["method"] == "DELETE" and broken[0]["status"] == 200
    assert '-H "Authorization: Bearer $OXEN_API_KEY"' in broken[0]["curl"]
    assert data["clauses"][clause]["broken"] >= 1 <= data["clauses"][clause]["checked"]
    assert f"`{clause}` in deleteModel" in text
    # The extra-fields variant adds fields the contract does not name: drift, a warning in the default variant.
    assert data["drift"]["unknown_fields"] and not data["drift"]["fails_the_run"]
    assert "## Drift" in text
    assert "key-a" not in text + json.dumps(data)


def test_a_model_with_nested_fields_of_the_wrong_kind_is_a_contract_failure_not_a_crash() -> None:
    import pytest

    from oxen_contract.checking.checks import Verifier
    from oxen_contract.checking.contract_failure import ContractFailure
    from oxen_contract.checking.contracts import load_contract
    from oxen_contract.checking.exchange import Credential, Exchange

    body = {"id": "m", "object": "model", "created": 1, "owned_by": "oxen", "capabilities": "text->text"}
    exchange = Exchange(
        "retrieveModel",
        "GET",
        "http://h/api/ai/models/m",
        "/api/ai/models/m",
        "m",
        Credential.KEY,
        200,
        {"content-type": "application/json"},
        json.dumps(body),
    )
    with pytest.raises(ContractFailure, match="model.schema.json#/properties/capabilities/type"):
        Verifier(load_contract(), strict=False).answer(exchange)
