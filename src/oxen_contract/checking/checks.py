"""The suite's own checks, one per documented rule, each raising a ContractFailure that names its clause.

``Verifier`` checks one Exchange at a time and is what the lifecycle, error and probe tests call. The functions
registered with ``@schemathesis.check`` adapt schemathesis's (ctx, response, case) to the same Verifier, so a body that
breaks a clause is reported the same way whichever test sent it. Schemathesis's own checks still run beside them
(see tests/contract/test_operations.py for which, and why).
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

import schemathesis

from .contract_failure import ContractFailure
from .contracts import Contract, load_contract
from .exchange import DEPLOYED_ID, Exchange, Secret, carried, decoded, next_answer_id
from .failures import Finding
from .tally import Tally
from .text import render_value

__all__ = [
    "AVAILABILITY_STATUSES",
    "OPERATION_CONTRACTS",
    "Verifier",
    "active_verifier",
    "operation_id",
    "use_verifier",
]

# Which contract a 200 answer of each operation must meet.
OPERATION_CONTRACTS = {
    "listModels": "model-list",
    "searchModels": "search-answer",
    "retrieveModel": "model",
    "activateModel": "model",
    "deactivateModel": "model",
    "deleteModel": "model",
    "deployFineTune": "fine-tune-deploy",
    "deployCheckpoint": "checkpoint-deploy",
}

# A gateway's word that the hub is down or overloaded: a failed test that got one is sorted by a health probe first
# (outcome.triage), so an outage is not reported as a violation. Every other 5xx breaks rule:no-server-error outright,
# whichever route answered it, the deploy routes included.
AVAILABILITY_STATUSES = frozenset({502, 503, 504})
NO_SERVER_ERROR = "rule:no-server-error"

# What activate and deactivate must leave behind ([O]): the deployment statuses they rule out.
SWITCHED = {
    "activate": ("rule:activate-activates", ("inactive", "deactivating")),
    "deactivate": ("rule:deactivate-deactivates", ("active", "deploying")),
}


class Verifier:
    """Checks answers against the contract (default or strict) and the suite's rules."""

    def __init__(
        self, contract: Contract, *, strict: bool, keys: Collection[Secret] = (), tally: Tally | None = None
    ) -> None:
        self.contract = contract
        self.strict = strict
        self.tally = tally if tally is not None else Tally(contract)
        # Which credential a request carried, told by its label, so a failure never shows a key.
        self._keys = tuple(key for key in keys if key)
        self._answers_seen: set[int] = set()

    def saw(self, exchange: Exchange) -> None:
        """Count ``exchange``'s answer as checked, once."""
        if exchange.answer_id not in self._answers_seen:
            self._answers_seen.add(exchange.answer_id)
            self.tally.answered(exchange)

    def label(self, authorization: str | None) -> str:
        """Which credential an Authorization header carried, by name (``exchange.carried``); never the key itself."""
        return carried(authorization, self._keys).credential

    def not_redirected(self, exchange: Exchange) -> None:
        """A 3xx is no documented status of any operation; the suite never follows it, and names where it pointed."""
        self.saw(exchange)
        self.tally.rule("rule:documented-status")
        if 300 <= exchange.status < 400:
            location = exchange.headers.get("location", "(no Location header)")
            self.fail(
                exchange,
                [
                    Finding(
                        "rule:documented-status",
                        "a documented status (the operation documents no redirect; the suite does not follow one)",
                        f"{exchange.status} Location: {location}",
                    )
                ],
            )

    def no_server_error(self, exchange: Exchange, *, every_5xx: bool = False) -> None:
        """No answer is a 5xx: every source documents only 2xx and 4xx answers.

        502, 503 and 504 pass here unless ``every_5xx``, for a caller that fails them on its own (an answer whose
        status is not the one expected). Either way they keep the availability rules: a failure that carries one is
        sorted by a health probe of the hub first (``outcome.triage``).
        """
        self.saw(exchange)
        self.tally.rule(NO_SERVER_ERROR)
        if exchange.status >= 500 and (every_5xx or exchange.status not in AVAILABILITY_STATUSES):
            self.fail(exchange, [Finding(NO_SERVER_ERROR, "a status below 500", str(exchange.status))])

    def fail(self, exchange: Exchange, findings: list[Finding]) -> NoReturn:
        """Count the broken clauses and raise the failure."""
        self.saw(exchange)
        for finding in findings:
            self.tally.failed(exchange, finding.clause, finding.expected, finding.actual, finding.at)
        raise ContractFailure(exchange, findings)

    def body(self, exchange: Exchange) -> Any:
        """The JSON body; a ContractFailure when the content type or the body is not JSON."""
        self.saw(exchange)
        self.tally.rule("rule:json-content-type")
        media_type = exchange.content_type.split(";")[0].strip().lower()
        if media_type != "application/json":
            self.fail(
                exchange, [Finding("rule:json-content-type", "application/json", render_value(exchange.content_type))]
            )
        self.tally.rule("rule:body-is-json")
        try:
            return exchange.json()
        except ValueError as error:
            actual = f"{error} in {render_value(exchange.text[:80])}"
            self.fail(exchange, [Finding("rule:body-is-json", "a JSON document", actual)])

    def conforms(self, exchange: Exchange, contract_name: str, body: Any) -> None:
        violations = self.contract.violations(contract_name, body, strict=self.strict)
        self.tally.validated(contract_name, self.strict, body)
        if violations:
            self.fail(
                exchange,
                [
                    Finding(v.clause, render_value(v.expected), render_value(v.actual), v.instance_pointer or "/")
                    for v in violations
                ],
            )

    def answer(self, exchange: Exchange, *, clause: str = "rule:answer-matches-contract") -> Any:
        """A 200 whose body meets the operation's contract; returns the body."""
        self.not_redirected(exchange)
        self.no_server_error(exchange)
        self.tally.rule(clause)
        if exchange.status != 200:
            self.fail(exchange, [Finding(clause, "200", str(exchange.status))])
        body = self.body(exchange)
        self.conforms(exchange, OPERATION_CONTRACTS[exchange.operation], body)
        return body

    def error(self, exchange: Exchange, statuses: Collection[int] | None, clause: str) -> Any:
        """An error answer: a status in ``statuses`` (any 4xx when None) and a body that meets error.schema.json."""
        self.not_redirected(exchange)
        self.no_server_error(exchange)
        self.tally.rule(clause)
        allowed = statuses if statuses is not None else range(400, 500)
        if exchange.status not in allowed:
            expected = " or ".join(map(str, statuses)) if statuses is not None else "a 4xx refusal"
            self.fail(exchange, [Finding(clause, expected, str(exchange.status))])
        body = self.body(exchange)
        self.conforms(exchange, "error", body)
        return body

    def not_found(self, exchange: Exchange, clause: str = "rule:deleted-model-is-gone") -> None:
        """404 with an error body that names the requested id."""
        body = self.error(exchange, (404,), clause)
        self.names_the_id(exchange, body)

    def names_the_id(self, exchange: Exchange, body: Any) -> None:
        self.tally.rule("rule:not-found-names-the-id")
        if exchange.model_id is not None and exchange.model_id not in _strings(body):
            self.fail(
                exchange,
                [Finding("rule:not-found-names-the-id", f"an error text naming {exchange.model_id!r}", "no such text")],
            )

    def refused_or_lenient(self, exchange: Exchange, clause: str) -> None:
        """A request the docs do not allow: a 4xx error body, or a lenient input (a failure under --strict-contract)."""
        if 400 <= exchange.status < 500 or exchange.status >= 500:
            self.error(exchange, None, clause)
            return
        self.tally.rule(clause)
        if self.strict:
            self.fail(exchange, [Finding(clause, "a 4xx refusal", f"{exchange.status} (accepted)")])
        self.tally.lenient(exchange, clause, f"accepted with {exchange.status}")

    def warn_unless(self, holds: bool, exchange: Exchange, clause: str, expected: str, actual: Any) -> None:
        """A rule the docs leave open: a warning in the report when it does not hold, a failure under strict."""
        self.tally.rule(clause)
        if holds:
            return
        if self.strict:
            self.fail(exchange, [Finding(clause, expected, render_value(actual))])
        self.tally.warn(exchange, clause, expected, render_value(actual))

    def deploy_answer(self, exchange: Exchange) -> None:
        """A deploy answer, checked like any other answer before the run uses or settles it.

        A 200 meets deploy.schema.json and names the new model (where the suite will look for it). Any other 5xx than
        502, 503 and 504 breaks rule:no-server-error, also when it leaves the run without a model to delete; a 4xx
        (but 429, which the provisioner retries as every route retries it) answers an error.schema.json body. Checked,
        but counted in the tally only when it breaks a clause: deploys are set-up, and under xdist each worker deploys
        its own shared model, so counting them would make a parallel run's report differ.
        """
        if exchange.status != 200:
            self._deploy_refusal(exchange)
            return
        clause = "rule:deploy-answer-names-the-model"
        media_type = exchange.content_type.split(";")[0].strip().lower()
        body = exchange.json_or_none() if media_type == "application/json" else None
        if body is None:
            self.answer(exchange, clause=clause)  # fails, naming why (content type or body)
        violations = self.contract.violations(OPERATION_CONTRACTS[exchange.operation], body, strict=self.strict)
        findings = [
            Finding(v.clause, render_value(v.expected), render_value(v.actual), v.instance_pointer or "/")
            for v in violations
        ]
        where = DEPLOYED_ID[exchange.operation]
        value: Any = body
        for key in where:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, str) or not value:
            pointer = "/" + "/".join(where)
            findings.append(Finding(clause, "the new model's id, a non-empty string", render_value(value), pointer))
        if findings:
            self.fail(exchange, findings)

    def _deploy_refusal(self, exchange: Exchange) -> None:
        if exchange.status >= 500 and exchange.status not in AVAILABILITY_STATUSES:
            self.fail(exchange, [Finding(NO_SERVER_ERROR, "a status below 500", str(exchange.status))])
        if not 400 <= exchange.status < 500 or exchange.status == 429:
            return
        clause = "rule:answer-matches-contract"
        media_type = exchange.content_type.split(";")[0].strip().lower()
        body = exchange.json_or_none() if media_type == "application/json" else None
        if body is None:
            self.body(exchange)  # fails, naming why (content type or body)
        violations = self.contract.violations("error", body, strict=self.strict)
        if violations:
            self.tally.rule(clause)
            self.conforms(exchange, "error", body)

    def switched(self, exchange: Exchange, action: str, body: Any) -> None:
        """After activate, no deployment is inactive or deactivating; after deactivate, none is active or deploying."""
        clause, barred = SWITCHED[action]
        self.tally.rule(clause)
        deployments = body.get("deployments") if isinstance(body, dict) else None
        statuses = [d.get("status") for d in deployments or [] if isinstance(d, dict)]
        wrong = [status for status in statuses if status in barred]
        if wrong:
            self.fail(
                exchange,
                [
                    Finding(
                        clause,
                        f"no deployment {' or '.join(barred)} after {action}",
                        render_value(statuses),
                        "/deployments",
                    )
                ],
            )

    def unauthenticated(self, exchange: Exchange) -> None:
        self.error(exchange, (401,), "rule:unauthenticated-is-401")

    def same(self, exchange: Exchange, clause: str, at: str, expected: Any, actual: Any) -> None:
        self.saw(exchange)
        self.tally.rule(clause)
        if expected != actual:
            self.fail(exchange, [Finding(clause, render_value(expected), render_value(actual), at)])


def _strings(node: Any) -> str:
    if isinstance(node, dict):
        return " ".join(_strings(value) for value in node.values())
    if isinstance(node, list):
        return " ".join(_strings(value) for value in node)
    return node if isinstance(node, str) else ""


_ACTIVE: list[Verifier] = []


def use_verifier(verifier: Verifier | None) -> None:
    """Set the verifier the schemathesis checks use (the plugin does this once per session)."""
    _ACTIVE[:] = [verifier] if verifier else []


def active_verifier() -> Verifier:
    return _ACTIVE[0] if _ACTIVE else Verifier(load_contract(), strict=False)


def operation_id(case: Any) -> str:
    """The documented operation a schemathesis case calls (``retrieveModel``), else schemathesis's label for it."""
    return str(case.operation.definition.raw.get("operationId", case.operation.label))


def exchange_of(response: schemathesis.Response, case: Any, verifier: Verifier) -> Exchange:
    """Schemathesis's response as an Exchange, the key replaced by its label."""
    request = response.request
    url = str(request.url)
    parts = urlsplit(url)
    raw_body: Any = request.body
    body = raw_body.decode("utf-8", "replace") if isinstance(raw_body, bytes) else raw_body
    model_id = (case.path_parameters or {}).get("id")
    text, problem = decoded(response.content or b"")
    # One answer, however many checks look at it: its id rides on the request object schemathesis keeps.
    answer_id = getattr(request, "_oxen_answer_id", None)
    if answer_id is None:
        answer_id = next_answer_id()
        with contextlib.suppress(AttributeError):
            request._oxen_answer_id = answer_id  # type: ignore[attr-defined]
    return Exchange(
        operation=operation_id(case),
        method=str(request.method),
        url=url,
        path=parts.path + (f"?{parts.query}" if parts.query else ""),
        # Schemathesis keeps path parameters percent-encoded; the id is what the hub must name.
        model_id=unquote(str(model_id)) if model_id is not None else None,
        credential=verifier.label(_text(request.headers.get("Authorization"))),
        status=response.status_code,
        headers={key.lower(): values[0] for key, values in response.headers.items() if values},
        text=text,
        request_body=body if isinstance(body, str) else None,
        answer_id=answer_id,
        body_problem=problem,
    )


def _text(value: str | bytes | None) -> str | None:
    return value.decode("latin-1") if isinstance(value, bytes) else value


@schemathesis.check
def answer_matches_contract(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any) -> None:
    """A 200 meets its operation's contract and a 4xx meets error.schema.json, in the run's variant (default/strict).

    Beside schemathesis's response_schema_conformance: this one honours --strict-contract and names the clause as
    ``file#/pointer`` with expected and actual values.
    """
    verifier = active_verifier()
    exchange = exchange_of(response, case, verifier)
    if exchange.status == 200 and exchange.operation in OPERATION_CONTRACTS:
        verifier.answer(exchange)
    elif 400 <= exchange.status < 500:
        verifier.error(exchange, None, "rule:answer-matches-contract")


@schemathesis.check
def not_found_names_the_id(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any) -> None:
    """A 404 for a model id has an error body that names the id (documented as ``Model not found: <id>``)."""
    verifier = active_verifier()
    exchange = exchange_of(response, case, verifier)
    if exchange.status == 404 and exchange.model_id is not None:
        body = exchange.json_or_none()
        if body is not None:
            verifier.names_the_id(exchange, body)


@schemathesis.check
def delete_returns_requested_id(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any) -> None:
    """A 200 answer to DELETE /api/ai/models/{id} is the model with that id."""
    verifier = active_verifier()
    exchange = exchange_of(response, case, verifier)
    if exchange.operation == "deleteModel" and exchange.status == 200:
        body = exchange.json_or_none()
        if isinstance(body, dict):
            verifier.same(exchange, "rule:delete-returns-requested-id", "/id", exchange.model_id, body.get("id"))


@schemathesis.check
def answers_without_redirect(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any) -> None:
    """No operation documents a 3xx: one is a failure of rule:documented-status that shows its Location.

    status_code_conformance flags the status too; this one says where the hub pointed, since the suite never goes.
    """
    verifier = active_verifier()
    verifier.not_redirected(exchange_of(response, case, verifier))
