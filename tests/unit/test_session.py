"""run/session.py: the run's one session object, its probes of the hub, the facts it gathers and how it ends the run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from oxen_contract.run import session as session_module
from oxen_contract.run.session import PROBE_INTERVAL, SESSION, Session, session_of
from oxen_contract.run.verdict import Verdict
from oxen_contract.settings.config import Mode
from tests.configs import run_config

LIVE = run_config("https://hub.test", "k", mode=Mode.LIVE, cassette_dir=Path("/nonexistent"))
NODE = "tests/contract/test_models.py::test_x"


class _Config:
    """What the session reads of pytest's config: its stash, its arguments, the report-status hook, the verbosity."""

    def __init__(self, **attributes: Any) -> None:
        self.stash = pytest.Stash()
        self.args: list[str] = []
        self.hook = SimpleNamespace(pytest_report_teststatus=lambda report, config: (report.outcome, "", ""))
        self.__dict__.update(attributes)

    def get_verbosity(self, *_: object) -> int:
        return 0


def _session(**attributes: Any) -> Session:
    return session_of(cast(pytest.Config, _Config(**attributes)))


class _ProbeClient:
    def __init__(self, reasons: list[str | None] | BaseException) -> None:
        self.reasons = reasons
        self.probes = 0

    def probe(self) -> str | None:
        self.probes += 1
        if isinstance(self.reasons, BaseException):
            raise self.reasons
        return self.reasons.pop(0)


class _Hub:
    """The hub client as the session uses it: it asks for a twin on the probe budget."""

    def __init__(self, client: _ProbeClient) -> None:
        self.client = client
        self.twins = 0

    def for_probes(self) -> _ProbeClient:
        self.twins += 1
        return self.client


def _report(outcome: str, kind: str | None = None, detail: str = "", when: str = "call") -> pytest.TestReport:
    properties: list[tuple[str, object]] = [("oxen_contract", when)]
    if kind is not None:
        properties.append(("oxen_kind", kind))
    if detail:
        properties.append(("oxen_detail", detail))
    longrepr = (NODE, 1, f"Skipped: {detail or 'skipped'}") if outcome == "skipped" else None
    return pytest.TestReport(NODE, (NODE, 1, "test_x"), {}, outcome, longrepr, when, user_properties=properties)


def test_the_run_s_state_is_one_session_under_one_stash_key() -> None:
    config = cast(pytest.Config, _Config())
    session = session_of(config)
    assert session_of(config) is session
    assert config.stash[SESSION] is session


def test_a_failure_s_probe_goes_out_once_per_interval_on_the_probe_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(session_module.time, "monotonic", lambda: now[0])
    client = _ProbeClient(["GET /api/ai/models answered 503", None])
    hub = _Hub(client)
    session = _session()
    session.hub = cast(Any, hub)
    assert session.probe() == "GET /api/ai/models answered 503"
    now[0] += PROBE_INTERVAL - 1
    assert session.probe() == "GET /api/ai/models answered 503"  # the last probe's finding, no new request
    assert client.probes == 1
    now[0] += 2
    assert session.probe() is None
    assert (client.probes, hub.twins) == (2, 1)


def test_without_a_hub_client_no_probe_is_sent() -> None:
    assert _session().probe() is None


def test_a_spent_probe_budget_leaves_the_failure_to_what_it_raised() -> None:
    session = _session()
    session.hub = cast(Any, _Hub(_ProbeClient(pytest.skip.Exception("the probe budget is spent"))))
    assert session.probe() is None


def test_each_failure_of_the_suite_is_sorted_into_the_verdict_s_facts_by_its_kind() -> None:
    session = _session()
    for report in (
        _report("passed", when="setup"),
        _report("failed", "contract", "rule:documented-status"),
        _report("failed", "outage", "GET https://hub.test/api/ai/models answered 503"),
        _report("failed", "outage", "a later outage"),
        _report("failed", "rate-limited", "GET https://hub.test/api/ai/models/search"),
        _report("failed", "setup", "the hub refuses OXEN_API_KEY"),
        _report("failed", "setup", "the hub refuses OXEN_API_KEY"),
        _report("failed", detail="tests/contract/test_models.py::test_x: KeyError: 'id'"),
    ):
        session.pytest_runtest_logreport(report)
    facts = session.facts
    assert (session.items, facts.contract_failures) == (1, 1)
    assert facts.unavailable == "GET https://hub.test/api/ai/models answered 503"  # the first outage seen
    assert facts.rate_limited == ["GET https://hub.test/api/ai/models/search"]
    assert facts.setup_errors == ["the hub refuses OXEN_API_KEY"]
    assert facts.suite_errors == ["tests/contract/test_models.py::test_x: KeyError: 'id'"]
    assert facts.counts == {"passed": 1, "failed": 7}


def test_a_skip_counts_by_what_chose_it_the_settings_the_budget_or_the_hub() -> None:
    session = _session()
    for report in (
        _report("skipped", "settings", "protection probe: pass --allow-protection-probes"),
        _report("skipped", "settings", "protection probe: pass --allow-protection-probes"),
        _report("skipped", "budget", "--max-requests ran out"),
        _report("skipped", detail="the hub lists no base model"),
    ):
        session.pytest_runtest_logreport(report)
    facts = session.facts
    assert facts.skip_reasons == ["protection probe: pass --allow-protection-probes"]
    assert (facts.budget_skips, facts.other_skips) == (1, ["the hub lists no base model"])


def test_a_report_of_another_test_than_the_suite_s_is_not_counted() -> None:
    session = _session()
    session.pytest_runtest_logreport(pytest.TestReport("t.py::t", ("t.py", 1, "t"), {}, "failed", None, "call"))
    assert session.facts.counts == {} and session.facts.suite_errors == []


class _Tally:
    """A tally that records the order snapshots are merged in (merging is order-sensitive)."""

    def __init__(self) -> None:
        self.merged: list[str] = []
        self.checked: dict[str, int] = {}
        self.warnings: list[object] = []
        self.lenient_inputs: list[object] = []
        self.unknown_fields: dict[str, object] = {}
        self.seen_fields: set[str] = set()

    def merge(self, snapshot: dict[str, Any]) -> None:
        self.merged.append(snapshot["worker"])

    def answers_by_operation(self) -> dict[str, dict[int, int]]:
        return {"deleteModel": {200: 1, 404: 1}}

    def to_json(self) -> dict[str, Any]:
        return {"worker": "this one"}


def _worker_down(session: Session, worker: str, **output: Any) -> None:
    node = SimpleNamespace(gateway=SimpleNamespace(id=worker), workeroutput=output)
    session.pytest_testnodedown(node, None)


def test_worker_tallies_merge_in_worker_order_whatever_order_the_workers_finished_in() -> None:
    session = _session()
    session.run, session.tally, session.items = LIVE, cast(Any, _Tally()), 1
    for worker in ("gw10", "gw2", "gw1"):
        _worker_down(
            session, worker, oxen_contract_tally={"worker": worker}, oxen_contract_leaks=[{"model_id": worker}]
        )
    verdict = session._decided(0)
    assert cast(Any, session.tally).merged == ["gw1", "gw2", "gw10"]
    assert [leak["model_id"] for leak in session.leaks] == ["gw10", "gw2", "gw1"]
    # Every worker's leaks are the run's: none fails it, and the summary says where to look.
    assert verdict is not None and verdict.outcome == "contract held"
    assert verdict.summary.endswith("the report holds 3 model(s) left on the hub (LEAK)")


def test_an_xdist_worker_hands_its_tally_leaks_and_unsettled_deploys_to_the_controller() -> None:
    output: dict[str, Any] = {}
    session = _session(workeroutput=output)
    session.run, session.tally = LIVE, cast(Any, _Tally())
    session.leaks, session.unsettled = [{"model_id": "m"}], [{"deploy": "deploy attempt 1"}]
    session.finish(cast(pytest.Session, SimpleNamespace(exitstatus=0)))
    assert output == {
        "oxen_contract_tally": {"worker": "this one"},
        "oxen_contract_leaks": [{"model_id": "m"}],
        "oxen_contract_unsettled": [{"deploy": "deploy attempt 1"}],
    }
    assert session.verdict is None


def test_a_session_in_which_no_test_of_the_suite_ran_gives_no_verdict() -> None:
    pytest_session = SimpleNamespace(exitstatus=5)
    session = _session()
    session.run, session.tally = LIVE, cast(Any, _Tally())
    session.finish(cast(pytest.Session, pytest_session))
    assert session.verdict is None and pytest_session.exitstatus == 5


def test_the_verdict_ends_the_run_with_its_exit_status_and_a_summary_line_naming_the_mode() -> None:
    pytest_session = SimpleNamespace(exitstatus=1)
    session = _session()
    session.run, session.tally = LIVE, cast(Any, _Tally())
    session.pytest_runtest_logreport(_report("passed", when="setup"))
    session.pytest_runtest_logreport(_report("failed", "outage", "GET https://hub.test/api/ai/models answered 503"))
    session.notes.append("a note")
    session.finish(cast(pytest.Session, pytest_session))
    assert session.verdict is not None and session.verdict.outcome == "hub unavailable"
    assert pytest_session.exitstatus == 75
    lines = session.summary_lines()
    assert lines[0] == ("[oxen-contract] a note", {})
    line, markup = lines[-1]
    assert line.startswith("[oxen-contract] HUB UNAVAILABLE: GET https://hub.test/api/ai/models answered 503")
    assert line.endswith("[live against https://hub.test] (exit status 75)")
    assert markup == {"red": True, "bold": True}


def test_a_held_contract_s_line_is_green_and_a_partial_pass_yellow() -> None:
    session = _session()
    session.run = LIVE
    for outcome, colour in (("contract held", "green"), ("partial pass", "yellow")):
        session.verdict = Verdict(outcome, 0, outcome.upper())
        assert session.summary_lines()[-1][1] == {colour: True, "bold": True}


def test_a_report_hook_that_fails_marks_the_test_a_suite_error_instead_of_an_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = _session()

    def broken(*_: object) -> None:
        raise KeyError("tally")

    monkeypatch.setattr(session, "_judge", broken)
    report = _report("failed", when="call")
    report.user_properties = []
    item = cast(pytest.Item, SimpleNamespace(nodeid=NODE))
    session.judge(item, cast(pytest.CallInfo[None], None), report)
    assert dict(report.user_properties) == {
        "oxen_contract": "call",
        "oxen_kind": "suite",
        "oxen_detail": f"{NODE}: the suite's report hook failed: KeyError: 'tally'",
    }


class _Pytest:
    """What the signal handler reads of pytest's config: the session's stash, and its terminal reporter."""

    def __init__(self) -> None:
        self.stash = pytest.Stash()
        self.lines: list[str] = []
        reporter = SimpleNamespace(write_line=self.lines.append)
        self.pluginmanager = SimpleNamespace(get_plugin=lambda name: reporter if name == "terminalreporter" else None)


@pytest.fixture
def handler() -> Iterator[tuple[_Pytest, Callable[[int, object], None]]]:
    import signal

    from oxen_contract.run.activation import _stop_cleanly_on_signals

    config = _Pytest()
    restore = _stop_cleanly_on_signals(cast(pytest.Config, config))
    try:
        yield config, signal.getsignal(signal.SIGTERM)  # type: ignore[misc]
    finally:
        restore()


def test_a_signal_marks_the_run_interrupted_and_asks_pytest_to_stop_even_if_its_keyboard_interrupt_is_dropped(
    handler: tuple[_Pytest, Callable[[int, object], None]],
) -> None:
    # Python drops an exception raised in a garbage-collector callback: the run must still end INTERRUPTED.
    import signal

    config, stop = handler
    session = session_of(cast(pytest.Config, config))
    session._session = cast(pytest.Session, SimpleNamespace(shouldstop=False))
    with pytest.raises(KeyboardInterrupt):
        stop(signal.SIGTERM, None)
    assert session.facts.interrupted
    assert session._session.shouldstop == "interrupted (SIGTERM)"


def test_a_signal_once_the_tests_are_over_only_says_cleanup_is_under_way(
    handler: tuple[_Pytest, Callable[[int, object], None]],
) -> None:
    # A KeyboardInterrupt in pytest's session finish would end it with a traceback and no verdict.
    import signal

    config, stop = handler
    session = session_of(cast(pytest.Config, config))
    session.finishing = True
    stop(signal.SIGTERM, None)
    stop(signal.SIGTERM, None)
    assert not session.facts.interrupted
    assert len(config.lines) == 2 and config.lines[0].startswith("[oxen-contract] stopping: cleanup is deleting")
    with pytest.raises(KeyboardInterrupt):  # the third stops at once
        stop(signal.SIGTERM, None)
