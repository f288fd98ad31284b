"""The schemathesis side of the suite: which operations it fuzzes, with which ids, under which checks, and why.

Plain schemathesis over ``contracts/openapi.yaml`` would deploy fine-tunes (uncapped spending) and, through links it
infers from list answers, DELETE base models. So the schema here keeps only the six models operations, turns stateful
testing off, and routes every generated DELETE to an id this run provisioned (``IdPool.doomed``): by design, no
DELETE can name an id the run did not make.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from . import checks as our_checks
from .client import HubTimeout, HubUnavailable, RequestBudget, send_with_retries
from .contracts import Contract

__all__ = ["CHECKS", "IdPool", "MAX_EXAMPLES", "hub_schema_for"]

MODELS_OPERATIONS = r"^/api/ai/models"
MAX_EXAMPLES = 12

# Chosen one by one; what is left out, and why, is said below the list.
CHECKS = [
    not_a_server_error,  # rule:no-server-error
    status_code_conformance,  # rule:documented-status: every status is one openapi.yaml documents for the operation
    content_type_conformance,  # rule:json-content-type
    response_schema_conformance,  # the response schemas of openapi.yaml, i.e. the default contract
    response_headers_conformance,  # no response header is documented yet; keeps us honest when one is
    negative_data_rejection,  # a missing `search` or a deployment_status other than `live` must be refused
    ignored_auth,  # every operation requires the bearer key [O]: an answer without it must not succeed
    our_checks.answer_matches_contract,  # the same contract, in the run's variant, naming file#/pointer
    our_checks.not_found_names_the_id,  # rule:not-found-names-the-id
    our_checks.delete_returns_requested_id,  # rule:delete-returns-requested-id
]
# Left out:
# - positive_data_acceptance: a hub that honours every clause refuses some schema-valid requests with a 4xx (an
#   activate of a base model, a delete of a model you do not own), and this flags each refusal.
# - allow_header_conformance and unsupported_method: `search` is also a valid `{id}`, so the hub's Allow header
#   for /api/ai/models/search cannot match both path templates; no source documents 405 either.
# - use_after_free, ensure_resource_availability: they need schemathesis's stateful phase, whose inferred links
#   delete base models; tests/contract/test_delete_lifecycle.py proves rule:deleted-model-is-gone instead.
# - missing_required_header, max_response_time, object_level_authorization: no documented clause behind them
#   (a second namespace is probed explicitly in tests/contract/test_protection.py).

# Ids the fuzzer must not aim at: paths that are other operations (`search`, and [S]'s `favorites`, `featured`)
# and dot segments that proxies may normalise into another path.
_RESERVED_IDS = frozenset({"", ".", "..", "search", "favorites", "featured"})


@dataclass(slots=True)
class IdPool:
    """Real ids for the fuzzer: models the list returned, the run's own model, and the one id it may delete."""

    listed: list[str] = field(default_factory=list)
    own: list[str] = field(default_factory=list)
    doomed: str | None = None


def _usable(model_id: object) -> bool:
    return isinstance(model_id, str) and unquote(model_id).strip() not in _RESERVED_IDS


def hub_schema_for(contract: Contract, hub_url: str, pool: IdPool, *, max_examples: int = MAX_EXAMPLES) -> Any:
    """The models operations of openapi.yaml, bound to the hub, generating deterministically."""
    config = SchemathesisConfig.from_dict(
        {
            "base-url": hub_url,
            "generation": {
                "mode": "all",
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",
                "allow-x00": False,
                # No source says an undeclared query parameter must be refused (hubs commonly ignore them), so a
                # negative case that only adds one would turn negative_data_rejection into a false alarm.
                "allow-extra-parameters": False,
            },
            "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_path(contract.openapi_path, config=config).include(path_regex=MODELS_OPERATIONS)

    @schema.hook
    def filter_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any]) -> bool:
        return path_parameters is None or "id" not in path_parameters or _usable(path_parameters["id"])

    @schema.hook
    def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any]) -> Any:
        operation = context.operation
        if path_parameters is None or "id" not in path_parameters:
            return st.just(path_parameters)
        method = operation.method.upper() if operation is not None else ""
        path = operation.path if operation is not None else ""
        if method == "DELETE":
            # The only DELETE the fuzzer may send: the model it was given to delete.
            return st.just({**path_parameters, "id": pool.doomed})
        # Never activate or deactivate a model the run does not own: a real hub would act on it.
        real = pool.own if path.endswith(("/activate", "/deactivate")) else pool.listed + pool.own
        ids = st.sampled_from(real) if real else st.nothing()
        return st.one_of(st.just(path_parameters), ids.map(lambda model_id: {**path_parameters, "id": model_id}))

    return schema


# Which documented rule each schemathesis check stands for, so its failures name a clause like ours do.
CHECK_CLAUSES = {
    "not_a_server_error": "rule:no-server-error",
    "status_code_conformance": "rule:documented-status",
    "content_type_conformance": "rule:json-content-type",
    "response_schema_conformance": "rule:answer-matches-contract",
    "response_headers_conformance": "rule:answer-matches-contract",
    "negative_data_rejection": "rule:invalid-input-is-refused",
    "ignored_auth": "rule:unauthenticated-is-401",
}


class UnsafeRequest(RuntimeError):
    """The suite was about to send a request it must never send (a DELETE of a model it did not provision)."""


def call_and_check(
    case: Any,
    verifier: our_checks.Verifier,
    headers: dict[str, str],
    timeout: float,
    may_delete: Collection[str],
    budget: RequestBudget,
) -> None:
    """Send ``case`` and run CHECKS on the answer; every failure becomes one ContractFailure naming its clauses."""
    if case.method.upper() == "DELETE":
        target = unquote(str((case.path_parameters or {}).get("id")))
        if target not in may_delete:
            # The last line of defence behind IdPool.doomed: never delete what this run did not make.
            raise UnsafeRequest(f"refusing to send DELETE for {target!r}: this run did not provision it")
    if not re.match(MODELS_OPERATIONS, case.operation.path):
        raise UnsafeRequest(f"refusing to send {case.operation.label}: only the models operations are fuzzed")
    from schemathesis.core.failures import CustomFailure, FailureGroup

    from .failures import ContractFailure, Finding

    response = _call_with_retries(case, verifier, headers, timeout, budget)
    for check_function in CHECKS:
        verifier.tally.rule(CHECK_CLAUSES.get(check_function.__name__, "rule:answer-matches-contract"))
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        exchange = our_checks.exchange_of(response, case, verifier)
        findings: list[Finding] = []
        for failure in group.exceptions:
            if isinstance(failure, CustomFailure) and isinstance(failure.exception, ContractFailure):
                findings.extend(failure.exception.findings)
                continue
            check = type(failure).checks[0] if type(failure).checks else ""
            detail = (failure.message or "").strip().splitlines()
            findings.append(
                Finding(
                    CHECK_CLAUSES.get(check, "rule:answer-matches-contract"),
                    f"schemathesis {check or 'check'}: {failure.title}",
                    detail[0] if detail else failure.title,
                )
            )
        verifier.fail(exchange, _unique(findings))


def _call_with_retries(
    case: Any, verifier: our_checks.Verifier, headers: dict[str, str], timeout: float, budget: RequestBudget
) -> Any:
    """case.call under the same retry policy as the suite's own client (client.send_with_retries)."""
    import requests

    def attempt() -> Any:
        try:
            return case.call(headers=headers, timeout=timeout)
        except requests.Timeout:
            raw_id = (case.path_parameters or {}).get("id")
            model_id = unquote(str(raw_id)) if raw_id is not None else None
            label = verifier.label(headers.get("Authorization"))
            raise HubTimeout(case.operation.label, case.method, case.formatted_path, model_id, label, timeout) from None
        except requests.ConnectionError as error:
            raise HubUnavailable(f"{case.method} {case.formatted_path}: {type(error).__name__}") from None

    return send_with_retries(
        attempt,
        lambda answer: int(answer.status_code),
        lambda answer: answer.headers,
        budget=budget,
        sleep=time.sleep,
        label=f"{case.method} {case.formatted_path}",
    )


def _unique(findings: list[Any]) -> list[Any]:
    return list(dict.fromkeys(findings))
