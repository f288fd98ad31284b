"""checks.py's rule:no-server-error: any 5xx but the availability statuses fails it, the deploy routes' answers too."""

from __future__ import annotations

import json
from typing import Any

import pytest

from oxen_contract.checking.checks import Verifier
from oxen_contract.checking.contract_failure import ContractFailure
from oxen_contract.checking.contracts import load_contract
from oxen_contract.checking.exchange import Credential, Exchange

_ERROR = {"error": {"message": "no"}}


def _exchange(operation: str, status: int, body: Any = _ERROR, content_type: str = "application/json") -> Exchange:
    path = "/api/ai/models/x"
    return Exchange(
        operation,
        "GET",
        f"https://hub.test{path}",
        path,
        "x",
        Credential.KEY,
        status,
        {"content-type": content_type},
        json.dumps(body),
    )


@pytest.fixture
def verifier() -> Verifier:
    return Verifier(load_contract(), strict=False)


def _clauses(failure: pytest.ExceptionInfo[ContractFailure]) -> list[str]:
    return [finding.clause for finding in failure.value.findings]


@pytest.mark.parametrize("status", [500, 501, 507, 599])
@pytest.mark.parametrize("check", ["answer", "error"])
def test_a_5xx_that_is_no_availability_status_fails_rule_no_server_error(
    verifier: Verifier, check: str, status: int
) -> None:
    with pytest.raises(ContractFailure) as failed:
        getattr(verifier, check)(
            _exchange("retrieveModel", status),
            **(
                {}
                if check == "answer"
                else {
                    "statuses": None,
                    "clause": "rule:answer-matches-contract",
                }
            ),
        )
    assert _clauses(failed) == ["rule:no-server-error"]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_an_availability_status_keeps_the_operation_s_clause_for_triage_to_sort(
    verifier: Verifier, status: int
) -> None:
    with pytest.raises(ContractFailure) as failed:
        verifier.answer(_exchange("retrieveModel", status))
    assert _clauses(failed) == ["rule:answer-matches-contract"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_request_no_operation_documents_fails_on_every_5xx(verifier: Verifier, status: int) -> None:
    with pytest.raises(ContractFailure) as failed:
        verifier.no_server_error(_exchange("undocumentedRequest", status), every_5xx=True)
    assert _clauses(failed) == ["rule:no-server-error"]


@pytest.mark.parametrize("status", [200, 301, 404, 405])
def test_an_answer_below_500_holds_rule_no_server_error(verifier: Verifier, status: int) -> None:
    verifier.no_server_error(_exchange("undocumentedRequest", status), every_5xx=True)
    assert verifier.tally.checked["rule:no-server-error"] == 1


@pytest.mark.parametrize("operation", ["deployFineTune", "deployCheckpoint"])
def test_a_deploy_that_answers_500_fails_rule_no_server_error(verifier: Verifier, operation: str) -> None:
    with pytest.raises(ContractFailure) as failed:
        verifier.deploy_answer(_exchange(operation, 500))
    assert _clauses(failed) == ["rule:no-server-error"]


def test_a_deploy_refusal_needs_an_error_body_but_a_429_the_run_retries_does_not(verifier: Verifier) -> None:
    with pytest.raises(ContractFailure) as failed:
        verifier.deploy_answer(_exchange("deployFineTune", 404, {"detail": "Fine-tune not found"}))
    assert "error.schema.json#/required" in _clauses(failed)
    with pytest.raises(ContractFailure):
        verifier.deploy_answer(_exchange("deployFineTune", 409, "<html>", content_type="text/html"))
    verifier.deploy_answer(_exchange("deployFineTune", 429, "<html>", content_type="text/html"))
    verifier.deploy_answer(_exchange("deployFineTune", 404))
    verifier.deploy_answer(_exchange("deployFineTune", 503, "<html>", content_type="text/html"))
