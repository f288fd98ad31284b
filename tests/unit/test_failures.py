"""failures.py: one error tree, drawn whole in its docstring; failures carry findings and the one renderer's text."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import oxen_contract
from oxen_contract.checking import failures
from oxen_contract.checking.contract_failure import ContractFailure, HubTimeout
from oxen_contract.checking.exchange import Credential, Exchange, model_path
from oxen_contract.checking.failures import (
    Finding,
    OxenContractError,
    ProvisioningError,
    ProvisionsExhausted,
    SetupError,
    chain,
)
from oxen_contract.checking.text import render_failure

# The local hub is a program of its own, with errors of its own.
_OWN_ERRORS = "oxen_contract.hub"


def _package_exceptions() -> list[type[BaseException]]:
    """Every exception class a module of the package defines at its top level, the local hub's aside."""
    found = []
    for module in pkgutil.walk_packages(oxen_contract.__path__, f"{oxen_contract.__name__}."):
        if module.name == _OWN_ERRORS or module.name.startswith(f"{_OWN_ERRORS}."):
            continue
        imported = importlib.import_module(module.name)
        found += [
            cls
            for _, cls in inspect.getmembers(imported, inspect.isclass)
            if issubclass(cls, BaseException) and cls.__module__ == imported.__name__
        ]
    return found


EXCEPTIONS = _package_exceptions()


def _exchange(status: int = 200) -> Exchange:
    path = model_path("alice:sandbox/ft-1-2")
    return Exchange(
        "deleteModel", "DELETE", f"https://hub.test{path}", path, "alice:sandbox/ft-1-2", Credential.KEY, status, {}, ""
    )


def test_every_exception_the_package_defines_outside_the_hub_derives_from_the_one_base() -> None:
    assert ContractFailure in EXCEPTIONS and SetupError in EXCEPTIONS
    outside = [f"{cls.__module__}.{cls.__qualname__}" for cls in EXCEPTIONS if not issubclass(cls, OxenContractError)]
    assert outside == []


def _drawn_parents() -> dict[str, str | None]:
    """Each class the docstring's tree draws, by name, with the class drawn above it one level up (None at the top)."""
    tree = next(part for part in (failures.__doc__ or "").split("\n\n") if part.startswith(OxenContractError.__name__))
    drawn: list[tuple[int, str]] = []
    for line in tree.splitlines():
        name = line.lstrip(" │├└─")
        if name:
            drawn.append((len(line) - len(name), name.split()[0]))
    parents: dict[str, str | None] = {}
    for index, (column, name) in enumerate(drawn):
        above = [other for other_column, other in drawn[:index] if other_column < column]
        parents[name] = above[-1] if above else None
    return parents


def test_the_docstring_draws_every_exception_under_its_parent() -> None:
    actual = {
        cls.__name__: next((base.__name__ for base in cls.__bases__ if base in EXCEPTIONS), None) for cls in EXCEPTIONS
    }
    assert _drawn_parents() == actual


def test_a_contract_failure_fails_a_test_and_a_setup_error_stops_the_run() -> None:
    assert issubclass(ContractFailure, AssertionError)
    assert issubclass(HubTimeout, ContractFailure)
    assert not issubclass(SetupError, AssertionError)
    assert issubclass(ProvisionsExhausted, ProvisioningError) and issubclass(ProvisioningError, SetupError)


def test_a_contract_failure_keeps_its_findings_and_its_text_is_the_renderer_s() -> None:
    findings = [Finding("rule:documented-status", "200", "204"), Finding("model.schema.json#/required", "id", "{}")]
    failure = ContractFailure(_exchange(204), findings, note="a note")
    assert failure.findings == tuple(findings)
    assert str(failure) == render_failure(_exchange(204), findings, "a note")


def test_a_timeout_is_a_failure_of_answers_in_time_with_no_answer() -> None:
    url = "https://hub.test/api/ai/models/alice%3Asandbox%2Fft-1-2?verbose=1"
    timeout = HubTimeout("deleteModel", "DELETE", url, "alice:sandbox/ft-1-2", Credential.OTHER, 2.5)
    assert timeout.exchange.status == 0 and timeout.exchange.text == "" and not timeout.exchange.headers
    assert timeout.exchange.path == "/api/ai/models/alice%3Asandbox%2Fft-1-2?verbose=1"
    assert timeout.exchange.credential == Credential.OTHER
    assert timeout.findings == (
        Finding(
            "rule:answers-in-time", "a whole answer within 2.5 s", "got no answer within 2.5 s (--request-timeout)"
        ),
    )
    assert str(timeout) == render_failure(timeout.exchange, timeout.findings)


def test_a_timeout_tells_why_when_the_transport_said() -> None:
    reason = "the answer's body passed 10485760 bytes and was cut off"
    timeout = HubTimeout("listModels", "GET", "https://hub.test/api/ai/models", None, Credential.KEY, 30, reason)
    assert timeout.reason == reason
    assert timeout.findings[0].actual == reason


def test_chain_walks_causes_contexts_and_group_members_once_each() -> None:
    inner = ValueError("inner")
    try:
        try:
            raise inner
        except ValueError as error:
            raise KeyError("outer") from error
    except KeyError as outer:
        caught = outer
    inner.__context__ = caught  # a loop: chain() must still end
    group = ExceptionGroup("group", [caught, RuntimeError("member")])
    walked = list(chain(group))
    assert [type(e) for e in walked].count(KeyError) == 1
    assert {type(e) for e in walked} == {ExceptionGroup, KeyError, ValueError, RuntimeError}


@pytest.mark.parametrize("cls", [SetupError, ProvisioningError, ProvisionsExhausted])
def test_a_setup_error_says_what_it_was_given(cls: type[SetupError]) -> None:
    assert str(cls("--max-provisions 3 reached")) == "--max-provisions 3 reached"
