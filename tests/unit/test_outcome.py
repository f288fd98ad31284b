"""outcome.triage: each kind of failure told apart, with at most one probe of the hub, and its one-line text."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxen_contract.checking.contract_failure import ContractFailure, HubTimeout
from oxen_contract.checking.contracts import load_contract
from oxen_contract.checking.exchange import Credential, Exchange, model_path
from oxen_contract.checking.failures import Finding, ProvisioningError
from oxen_contract.checking.tally import Tally
from oxen_contract.http.guard import UnsafeRequest
from oxen_contract.http.retries import HubUnavailable
from oxen_contract.run.outcome import triage
from oxen_contract.settings.config import Mode
from tests.configs import run_config

LIVE = run_config("https://hub.test", "k", mode=Mode.LIVE, cassette_dir=Path("/nonexistent"))
REPLAY = run_config("http://oxen-hub.replay", "k", mode=Mode.REPLAY, cassette_dir=Path("/nonexistent"))
NODE = "tests/contract/test_models.py::test_x"
URL = "https://hub.test/api/ai/models/search?search=a"


class Probe:
    """A probe that answers ``reason`` and counts its calls."""

    def __init__(self, reason: str | None) -> None:
        self.reason = reason
        self.calls = 0

    def __call__(self) -> str | None:
        self.calls += 1
        return self.reason


def _violation(status: int) -> ContractFailure:
    path = model_path("alice:sandbox/ft-1-2")
    exchange = Exchange("deleteModel", "DELETE", f"https://hub.test{path}", path, None, Credential.KEY, status, {}, "")
    return ContractFailure(exchange, [Finding("rule:documented-status", "200", str(status))])


def _triage(error: BaseException, probe: Probe | None, run: object = LIVE, tally: Tally | None = None) -> object:
    found = triage(error, NODE, run, tally, probe)  # type: ignore[arg-type]
    assert probe is None or probe.calls <= 1
    return found


def test_a_request_that_failed_while_the_hub_does_not_answer_its_probe_is_an_outage_that_stops_the_run() -> None:
    found = _triage(HubUnavailable("GET x: ConnectError"), Probe("GET https://hub.test/api/ai/models answered 503"))
    assert (found.kind, found.stop) == ("outage", True)  # type: ignore[attr-defined]
    assert found.text == f"{NODE}\n\nHUB UNAVAILABLE: GET https://hub.test/api/ai/models answered 503"  # type: ignore[attr-defined]


def test_a_route_answering_429_past_its_retries_while_the_hub_answers_is_rate_limited_and_the_run_goes_on() -> None:
    error = HubUnavailable(f"GET {URL} still answers 429", rate_limited=f"GET {URL}")
    found = _triage(error, Probe(None))
    # The route, once, whatever query it was asked with.
    route = f"GET {URL.partition('?')[0]}"
    assert (found.kind, found.detail, found.stop) == ("rate-limited", route, False)  # type: ignore[attr-defined]


def test_a_route_that_drops_its_connection_while_the_hub_answers_is_that_route_s_failure_and_counted() -> None:
    tally = Tally(load_contract())
    error = HubUnavailable(f"GET {URL}: RemoteProtocolError", ("searchModels", "GET", URL, Credential.KEY))
    found = _triage(error, Probe(None), tally=tally)
    assert found.kind == "contract"  # type: ignore[attr-defined]
    assert "rule:no-server-error" in found.text  # type: ignore[attr-defined]
    assert tally.broken["rule:no-server-error"] == 1


def test_an_unavailable_hub_in_a_replay_is_an_outage_without_a_probe() -> None:
    found = _triage(HubUnavailable("no"), None, run=REPLAY)
    assert found.kind == "outage"  # type: ignore[attr-defined]


def test_a_setup_error_shows_one_line_not_a_traceback() -> None:
    found = _triage(ProvisioningError("cannot provision a disposable model: 404\n  body: ..."), Probe(None))
    assert found.kind == "setup"  # type: ignore[attr-defined]
    assert found.text == f"{NODE}\n\nSETUP ERROR: cannot provision a disposable model: 404"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("status", "reason", "kind"), [(503, "down", "outage"), (503, None, "contract"), (0, "down", "outage")]
)
def test_a_gateway_status_or_a_timeout_is_an_outage_only_when_the_probe_finds_the_hub_down(
    status: int, reason: str | None, kind: str
) -> None:
    error: ContractFailure = (
        HubTimeout("deleteModel", "DELETE", "https://hub.test/x", None, Credential.KEY, 1.0)
        if status == 0
        else _violation(status)
    )
    assert _triage(error, Probe(reason)).kind == kind  # type: ignore[attr-defined]


def test_a_broken_clause_in_a_real_answer_is_a_violation_and_sends_no_probe() -> None:
    probe = Probe("down")
    found = _triage(_violation(200), probe)
    assert found.kind == "contract" and probe.calls == 0  # type: ignore[attr-defined]
    assert "Contract violation in deleteModel" in found.text  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "error",
    [AssertionError("the hub lists no model"), UnsafeRequest("refusing to send DELETE /x"), pytest.fail.Exception("x")],
    ids=["plain-assert", "refused-lure", "pytest-fail"],
)
def test_a_test_s_own_assertion_about_the_hub_is_a_violation(error: BaseException) -> None:
    assert _triage(error, Probe(None)).kind == "contract"  # type: ignore[attr-defined]


def test_an_exception_no_rule_explains_is_the_suite_s_own_fault_and_keeps_its_traceback() -> None:
    found = _triage(KeyError("data"), Probe(None))
    assert found.kind == "suite" and found.text is None  # type: ignore[attr-defined]
    assert found.detail == f"{NODE}: KeyError: 'data'"  # type: ignore[attr-defined]


def test_a_damaged_cassette_is_a_setup_error_naming_the_file(tmp_path: Path) -> None:
    cassette = tmp_path / "test_models" / "test_x.yaml"
    cassette.parent.mkdir()
    cassette.write_text("interactions: [")
    replay = run_config("http://oxen-hub.replay", "k", mode=Mode.REPLAY, cassette_dir=tmp_path)
    from oxen_contract.recording.cassette_damage import CassetteUnreadable

    found = _triage(CassetteUnreadable(cassette, "corrupt"), None, run=replay)
    assert found.kind == "setup" and str(cassette) in found.detail  # type: ignore[attr-defined]
