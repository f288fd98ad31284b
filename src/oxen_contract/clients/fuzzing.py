"""The schemathesis side of the suite: which operations it fuzzes, with which ids, under which checks, and why.

Plain schemathesis over ``contracts/openapi.yaml`` would deploy fine-tunes (uncapped spending) and, through links it
infers from list answers, DELETE base models. So the schema here keeps only the six models operations, turns stateful
testing off, and routes every generated DELETE to an id this run provisioned (``IdPool.doomed``): by design, no
DELETE can name an id the run did not make.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlencode

import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ..checking import checks as our_checks
from ..checking.checks import operation_id
from ..checking.contract_failure import HubTimeout
from ..checking.contracts import Contract
from ..checking.exchange import DOT_SEGMENTS, ROUTE_NAMES, Credential, authorization
from ..http.guard import RequestGuard, UnsafeRequest
from ..http.redaction import ApiKey
from ..http.retries import HubUnavailable, RequestBudget, send_with_retries
from ..http.transport import BearerAuth, Sending, translated_errors
from ..settings.table import DEFAULT_MAX_EXAMPLES

__all__ = ["CHECKS", "IdPool", "MAX_EXAMPLES", "Sender", "call_and_check", "hub_schema_for", "use_sender"]

MODELS_OPERATIONS = r"^/api/ai/models"
# The default of --max-examples: what every run draws unless asked for more, and what replays hold.
MAX_EXAMPLES = DEFAULT_MAX_EXAMPLES

# Ids the fuzzer must not aim at: paths that are other operations (`search`, and [S]'s `favorites`, `featured`)
# and dot segments that proxies may normalise into another path.
_RESERVED_IDS = frozenset({"", *DOT_SEGMENTS, *ROUTE_NAMES})


@dataclass(slots=True)
class IdPool:
    """Real ids for the fuzzer: models the list returned, the run's own model, and the one id it may delete."""

    listed: list[str] = field(default_factory=list)
    own: list[str] = field(default_factory=list)
    doomed: str | None = None


def _usable(model_id: object) -> bool:
    return isinstance(model_id, str) and unquote(model_id).strip() not in _RESERVED_IDS


def hub_schema_for(
    contract: Contract, hub_url: str, pool: IdPool, *, max_examples: int = MAX_EXAMPLES, seed: int | None = None
) -> Any:
    """The models operations of openapi.yaml, bound to the hub, generating deterministically.

    Without ``seed`` the draws are derandomized (the same every run: what the cassettes were recorded with); with one
    (``--seed``, live runs only) schemathesis seeds each operation's draws from it, so the seed replays them.
    """
    config = SchemathesisConfig.from_dict(
        {
            **({"seed": seed} if seed is not None else {}),
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


# Clauses no source states as a must: the enums and required flags say what a client may send, not that a hub
# refuses anything else. A hub accepting such a request is reported as a "lenient input" warning, and fails the run
# only under --strict-contract.
LENIENT_CLAUSES = frozenset({"rule:invalid-input-is-refused"})

# Which documented rule each schemathesis check stands for, so its failures name a clause like ours do.
CHECK_CLAUSES = {
    "not_a_server_error": "rule:no-server-error",
    "status_code_conformance": "rule:documented-status",
    "content_type_conformance": "rule:json-content-type",
    "response_schema_conformance": "rule:answer-matches-contract",
    "response_headers_conformance": "rule:answer-matches-contract",
    "negative_data_rejection": "rule:invalid-input-is-refused",
    "unauthenticated_is_401": "rule:unauthenticated-is-401",
}


@dataclass(slots=True)
class Sender:
    """How the fuzzer's requests leave: the guarded session (transport.py), the run's key, retry loop and budget."""

    session: Any
    guard: RequestGuard
    key: ApiKey
    budget: RequestBudget
    verifier: our_checks.Verifier
    # Operations whose refusal of a request without a valid key was already confirmed this run.
    auth_confirmed: set[str] = field(default_factory=set)
    # Operations the hub stopped serving (unreachable, 429 past the retries, no whole answer in time), and how. A
    # failed draw makes Hypothesis shrink: dozens more draws, each of which would wait out its retries or its deadline
    # again on a hub that already refuses them. They fail at once the same way, unsent: polite to a shared hub, and
    # the run's verdict (outage, rate-limited route, rule:answers-in-time) is the one the first refusal gave.
    given_up: dict[str, tuple[HubUnavailable | HubTimeout, TracebackType | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The session's answers are redacted by the guard: it must know the key this sender puts on the wire.
        self.guard.protect(self.key)

    def call(self, case: Any, credential: str = Credential.KEY) -> Any:
        """Send ``case`` carrying ``credential``, under the run's retry policy (client.send_with_retries)."""
        from schemathesis.transport.prepare import get_exclude_headers

        operation = operation_id(case)
        # A negative case may drop the Authorization header on purpose: then it goes without the key.
        dropped = {name.lower() for name in get_exclude_headers(case)}
        auth = BearerAuth(self.key) if credential == Credential.KEY and "authorization" not in dropped else None
        headers = {"X-Oxen-Operation": operation}
        if auth is not None:
            # The label stands in the header that schemathesis sees (its checks and curl notes); the auth hook puts
            # the key in its place as the request leaves.
            headers["Authorization"] = authorization(Credential.KEY) or ""
        if credential == Credential.INVALID:
            headers["Authorization"] = authorization(Credential.INVALID) or ""
        raw_id = (case.path_parameters or {}).get("id")
        model_id = unquote(str(raw_id)) if raw_id is not None else None
        query = urlencode(case.query, doseq=True) if isinstance(case.query, dict) and case.query else ""
        # The URL as sent, query included: a timeout's curl line must reproduce the request that timed out.
        url = f"{self.guard.hub_url}{case.formatted_path}" + (f"?{query}" if query else "")
        sending = Sending(operation, case.method, url, model_id, credential)

        def attempt() -> Any:
            with translated_errors(sending, self.guard):
                return case.call(
                    session=self.session,
                    headers=dict(headers),
                    auth=auth,
                    timeout=self.guard.timeout,
                    allow_redirects=False,
                )

        if operation in self.given_up:
            given_up, where = self.given_up[operation]
            # Raised with the traceback of the request that gave up: Hypothesis tells failures apart by the line that
            # raised them, and a draw failing here rather than there would be an "inconsistent replay" (a crash with a
            # traceback, not the outage it is). The first traceback each time, so it never grows.
            raise given_up.with_traceback(where)
        try:
            return send_with_retries(
                attempt,
                lambda answer: int(answer.status_code),
                lambda answer: answer.headers,
                budget=self.budget,
                sleep=time.sleep,
                label=f"{case.method} {url}",
            )
        except (HubUnavailable, HubTimeout) as error:
            self.given_up[operation] = (error, error.__traceback__)
            raise


_SENDER: list[Sender] = []


def use_sender(sender: Sender | None) -> None:
    """Set the sender the probing checks use (the contract suite does this per fuzzed test)."""
    _SENDER[:] = [sender] if sender else []


@schemathesis.check
def unauthenticated_is_401(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any) -> None:
    """[O]: a request without a key, or with a bad one, gets 401 with an error body; checked once per operation.

    Schemathesis's ignored_auth sends the same two probes, but through a session of its own, past the run's guard,
    deadline, retry loop and budget: on a rate-limited hub its probes' 429s read as a broken auth rule, and a
    redirect would be followed. This sends them the way every other request of the run goes.
    """
    if not _SENDER or not 200 <= response.status_code < 300:
        return
    sender = _SENDER[0]
    operation = operation_id(case)
    if operation in sender.auth_confirmed:
        return
    for credential in (Credential.NONE, Credential.INVALID):
        answer = sender.call(case, credential)
        sender.verifier.unauthenticated(our_checks.exchange_of(answer, case, sender.verifier))
    sender.auth_confirmed.add(operation)


# Chosen one by one; what is left out, and why, is said below the list.
CHECKS = [
    not_a_server_error,  # rule:no-server-error
    status_code_conformance,  # rule:documented-status: every status is one openapi.yaml documents for the operation
    content_type_conformance,  # rule:json-content-type
    response_schema_conformance,  # the response schemas of openapi.yaml, i.e. the default contract
    response_headers_conformance,  # no response header is documented yet; keeps us honest when one is
    negative_data_rejection,  # a missing `search`, a deployment_status other than `live`: lenient input (see above)
    our_checks.answer_matches_contract,  # the same contract, in the run's variant, naming file#/pointer
    our_checks.not_found_names_the_id,  # rule:not-found-names-the-id
    our_checks.delete_returns_requested_id,  # rule:delete-returns-requested-id
    our_checks.answers_without_redirect,  # rule:documented-status, naming the Location of a redirect
    unauthenticated_is_401,  # [O]'s bearer rule; in place of ignored_auth, whose probes bypass the run's transport
]
# Left out:
# - ignored_auth: unauthenticated_is_401 above makes the same two probes through the run's own transport.
# - positive_data_acceptance: a hub that honours every clause refuses some schema-valid requests with a 4xx (an
#   activate of a base model, a delete of a model you do not own), and this flags each refusal.
# - allow_header_conformance and unsupported_method: `search` is also a valid `{id}`, so the hub's Allow header
#   for /api/ai/models/search cannot match both path templates; no source documents 405 either.
# - use_after_free, ensure_resource_availability: they need schemathesis's stateful phase, whose inferred links
#   delete base models; the suite's test_delete_lifecycle.py proves rule:deleted-model-is-gone instead.
# - missing_required_header, max_response_time, object_level_authorization: no documented clause behind them
#   (a second namespace is probed explicitly in the suite's test_protection.py).


def call_and_check(case: Any, sender: Sender) -> None:
    """Send ``case`` and run CHECKS on the answer; every failure becomes one ContractFailure naming its clauses."""
    verifier = sender.verifier
    if not re.match(MODELS_OPERATIONS, case.operation.path):
        raise UnsafeRequest(f"refusing to send {case.operation.label}: only the models operations are fuzzed")
    from schemathesis.core.failures import CustomFailure, FailureGroup

    from ..checking.contract_failure import ContractFailure
    from ..checking.failures import Finding

    # The DELETE guard sits in the session's transport (transport.RequestGuard): it sees every request that leaves.
    response = sender.call(case)
    seen = our_checks.exchange_of(response, case, verifier)
    verifier.saw(seen)
    if seen.content_type.split(";")[0].strip().lower() == "application/json":
        try:
            seen.json()
        except ValueError:
            # Schemathesis's own checks would parse it leniently (NaN) or crash on it (nested past the parser).
            verifier.answer(seen)  # fails, naming rule:body-is-json
    for check_function in CHECKS:
        verifier.tally.rule(CHECK_CLAUSES.get(check_function.__name__, "rule:answer-matches-contract"))
    try:
        # Naming the header (by its label) tells schemathesis the run sets it, so a negative case that only drops it
        # is not read as invalid data the hub accepted.
        case.validate_response(response, checks=CHECKS, headers={"Authorization": authorization(Credential.KEY) or ""})
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
        findings = _unique(findings)
        if not verifier.strict:
            # No source says a hub must refuse these requests: a hub that accepts them is lenient, not broken.
            for finding in [f for f in findings if f.clause in LENIENT_CLAUSES]:
                verifier.tally.lenient(exchange, finding.clause, finding.actual)
            findings = [f for f in findings if f.clause not in LENIENT_CLAUSES]
        if findings:
            verifier.fail(exchange, findings)


def _unique(findings: list[Any]) -> list[Any]:
    return list(dict.fromkeys(findings))
