"""The verdict's facts, gathered from every report of the suite (serial, or sent by xdist workers), and its end.

Each report of the suite's tests carries properties (``oxen_contract``, ``oxen_kind``, ``oxen_detail``, and the clause
ids for JUnit) set where the test ran (``judge_report``); ``RunRecorder`` counts every report as pytest's own summary
line does and sorts the failures into ``verdict.RunFacts``; ``finish`` turns those and the tally into the verdict, the
exit status and the report, after pytest tore the session's fixtures down (so that cleanup is in it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .outcome import report_meta, tally_timeouts, triage
from .stash_keys import (
    CHECKED_BEFORE,
    HUB_CLIENT,
    HUB_URL_SEEN,
    LAST_PROBE,
    PROBE_CLIENT,
    PROBE_INTERVAL,
    RUN_CONFIG,
    RUN_RECORDER,
    SESSION_CLEANUP,
    SESSION_LEAKS,
    SESSION_NOTES,
    SESSION_TALLY,
    SESSION_UNSETTLED,
    STARTED,
    VERDICT,
    WORKER_LEAKS,
    WORKER_TALLIES,
    WORKER_TALLY,
    WORKER_UNSETTLED,
)
from .verdict import RunFacts, Verdict, decide, skip_reasons

__all__ = ["RunRecorder", "clauses_of_the_test", "finish", "judge_report"]


def clauses_of_the_test(item: pytest.Item, when: str, call: pytest.CallInfo[None]) -> list[tuple[str, object]]:
    """The clause ids the test checked and broke, for its JUnit case (the nightly's readers search by clause)."""
    tally = item.config.stash.get(SESSION_TALLY, None)
    if tally is None:
        return []
    if when == "setup":
        item.stash[CHECKED_BEFORE] = dict(tally.checked)
        return []
    if when != "call":
        return []
    before = item.stash.get(CHECKED_BEFORE, {})
    checked = sorted(clause for clause, count in tally.checked.items() if count > before.get(clause, 0))
    from ..checking.contract_failure import ContractFailure
    from ..checking.failures import chain

    broken = sorted(
        {
            finding.clause
            for error in (chain(call.excinfo.value) if call.excinfo is not None else ())
            if isinstance(error, ContractFailure)
            for finding in error.findings
        }
    )
    found: list[tuple[str, object]] = [("oxen_clauses_checked", " ".join(checked))]
    if broken:
        found.append(("oxen_clauses_broken", " ".join(broken)))
    return found


def _prober(config: pytest.Config) -> Callable[[], str | None] | None:
    """A health probe of the hub on its own budget, sent at most once per PROBE_INTERVAL (a later call reuses it)."""
    hub = config.stash.get(HUB_CLIENT, None)
    if hub is None:
        return None

    def probe() -> str | None:
        last_at, last_reason = config.stash.get(LAST_PROBE, (float("-inf"), None))
        if time.monotonic() - last_at < PROBE_INTERVAL:
            return last_reason
        client = config.stash.setdefault(PROBE_CLIENT, hub.for_probes())
        try:
            reason = client.probe()
        except pytest.skip.Exception:
            reason = None  # the probe budget is spent: the failure is sorted by what it raised alone
        config.stash[LAST_PROBE] = (time.monotonic(), reason)
        return reason

    return probe


def judge_report(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """Give a report of the suite's tests what the verdict needs (kind, detail, clauses) and its failure text."""
    from ..checking.skips import RequestsSpent, SkippedBySettings

    properties: list[tuple[str, object]] = [("oxen_contract", report.when)]
    # On the item: JUnit XML takes a test case's properties from its teardown report, which copies the item's.
    item.user_properties += clauses_of_the_test(item, report.when, call)
    error = call.excinfo.value if call.excinfo is not None else None
    if report.skipped and isinstance(error, RequestsSpent):
        properties.append(("oxen_kind", "budget"))
    elif report.skipped and isinstance(error, SkippedBySettings):
        properties.append(("oxen_kind", "settings"))
    elif error is not None and report.failed:
        config = item.config
        tally = config.stash.get(SESSION_TALLY, None)
        if tally is not None:
            tally_timeouts(error, tally)
        found = triage(error, item.nodeid, config.stash[RUN_CONFIG], tally, _prober(config))
        if found.text is not None:
            report.longrepr = found.text
        if found.stop:
            item.session.shouldstop = f"hub unavailable: {found.detail}"
        properties += [("oxen_kind", found.kind), ("oxen_detail", found.detail)]
    report.user_properties = [*report.user_properties, *properties]


class RunRecorder:
    """Counts and sorts every report of the contract suite (serial, or from xdist workers) into the verdict's facts."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.facts = RunFacts(live=False)
        self.items = 0
        self.deselected = 0
        self.skip_reasons: list[str] = []
        self.session: pytest.Session | None = None
        self.collected: int | None = None
        # The suite's test modules this session collected (or that skipped themselves at collection).
        self.modules: set[str] = set()

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += sum(1 for item in items if item.get_closest_marker("contract") is not None)

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        # pytest (Session.Interrupted) and xdist (dsession.Interrupted) stop a session that asked to stop (-x, an
        # outage) with a KeyboardInterrupt of their own: only a person's Ctrl-C (a SIGINT) is the plain one.
        self.facts.interrupted = type(excinfo.value) is KeyboardInterrupt
        hub = self.config.stash.get(HUB_CLIENT, None)
        if hub is not None:
            hub.budget.pace.stop()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # testscollected is set just after this hook, to the number of items it is given.
        self.session, self.collected = session, len(session.items)
        self.modules |= {item.path.name for item in session.items if item.get_closest_marker("contract") is not None}

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.skipped and str(report.nodeid).endswith(".py"):
            # A module the install leaves out (the OpenAI SDK's, without the [openai] extra) says so itself.
            self.modules.add(Path(str(report.nodeid)).name)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        if "oxen_contract" not in properties:
            return
        # Schemathesis's lazy schemas add each test's examples to the collected count as they run (lazy.py). Where
        # pytest shows subtests (-v), they are counted in the progress column too, and that is right; where it does
        # not, the column goes back (93 % -> 89 %) and never reaches 100 %: the count stays as collected.
        if self.session is not None and self.collected is not None and not self._subtests_shown():
            self.session.testscollected = self.collected
        facts = self.facts
        if report.when == "setup" and not hasattr(report, "context"):
            self.items += 1
        # Counted as pytest's own summary line counts (subtests, xfails, errors apart), so that they never disagree.
        category = self.config.hook.pytest_report_teststatus(report=report, config=self.config)[0]
        if category:
            facts.counts[category] = facts.counts.get(category, 0) + 1
        if report.skipped:
            reason = _skip_reason(report)
            self.skip_reasons.append(reason)
            kind = properties.get("oxen_kind")
            facts.budget_skips += kind == "budget"
            if kind == "settings" and reason not in facts.skip_reasons:
                facts.skip_reasons.append(reason)
            elif kind is None and not hasattr(report, "wasxfail") and reason not in facts.other_skips:
                # Neither the settings' choice nor a spent budget: what the hub answered kept the test from running.
                facts.other_skips.append(reason)
        elif report.failed:
            self._sort_failure(str(properties.get("oxen_kind", "suite")), str(properties.get("oxen_detail", "")))

    def _subtests_shown(self) -> bool:
        # As pytest's subtests plugin decides (its pytest_report_teststatus): quiet only at verbosity 0 exactly.
        setting = getattr(pytest.Config, "VERBOSITY_SUBTESTS", None)
        return (self.config.get_verbosity(setting) if setting else self.config.get_verbosity()) != 0

    def _sort_failure(self, kind: str, detail: str) -> None:
        facts = self.facts
        if kind == "outage":
            facts.unavailable = facts.unavailable or detail
        elif kind == "rate-limited":
            if detail not in facts.rate_limited:
                facts.rate_limited.append(detail)
        elif kind == "setup":
            if detail not in facts.setup_errors:
                facts.setup_errors.append(detail)
        elif kind == "contract":
            facts.contract_failures += 1
        else:
            facts.suite_errors.append(detail)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        # xdist's controller: fold each worker's tally into the session's.
        output = getattr(node, "workeroutput", {})
        if output.get(WORKER_TALLY):
            # Merged in sessionfinish, in worker order: workers finish in any order, and merging is order-sensitive.
            self.config.stash[WORKER_TALLIES].append((str(node.gateway.id), output[WORKER_TALLY]))
        leaks = self.config.stash.setdefault(SESSION_LEAKS, [])
        leaks.extend(output.get(WORKER_LEAKS, []))
        self.config.stash.setdefault(SESSION_UNSETTLED, []).extend(output.get(WORKER_UNSETTLED, []))


def _skip_reason(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return f"expected failure: {report.wasxfail}"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _narrowed(config: pytest.Config, deselected: int, collected: set[str]) -> str:
    """How the user narrowed the run, in words; "" when they ran the whole suite."""
    said = []
    if deselected:
        said.append(f"{deselected} test(s) deselected")
    picked = [arg for arg in config.args if "::" in arg or arg.endswith(".py")]
    if picked:
        said.append(f"only {', '.join(picked[:3])}{' and more' if len(picked) > 3 else ''} run")
    missing = sorted(_suite_modules() - collected) if collected else []
    if missing and not picked:
        # --ignore, --ignore-glob, a conftest's collect_ignore: whatever left modules of the suite uncollected.
        said.append(f"{len(missing)} of the suite's modules not collected ({', '.join(missing[:3])})")
    return "; ".join(said)


def _suite_modules() -> set[str]:
    """The file names of the suite's test modules, as the package ships them."""
    from .. import suite

    return {path.name for path in Path(suite.__file__).parent.glob("test_*.py")}


def _attention(config: pytest.Config, tally: Any) -> list[str]:
    """What the report holds for a person to look at, counted: none of it fails a default run."""
    drift_fields = len(tally.unknown_fields)
    left = [leak for leak in config.stash.get(SESSION_LEAKS, []) if not leak.get("deleted")]
    counts = (
        (len(tally.warnings), "warning(s)"),
        (len(tally.lenient_inputs), "lenient input(s)"),
        (drift_fields, "field(s) the contract does not name"),
        (len(left), "model(s) left on the hub (LEAK)"),
        (len(config.stash.get(SESSION_UNSETTLED, [])), "unsettled deploy(s)"),
        (len(config.stash[RUN_CONFIG].setting_warnings), "warning(s) about the run's own files"),
    )
    return [f"{count} {noun}" for count, noun in counts if count]


def _stopped_coming(config: pytest.Config, tally: Any, run: Any) -> None:
    """Documented fields the baseline run saw and this run did not: drift, a warning or (strict) a failure."""
    facts = config.stash[RUN_RECORDER].facts
    if run.baseline is None:
        return
    was = set(run.baseline.get("drift", {}).get("seen_fields", []))
    gone = sorted(was - tally.seen_fields)
    if not gone:
        return
    shown = ", ".join(gone[:5]) + (f" and {len(gone) - 5} more" if len(gone) > 5 else "")
    finding = f"{len(gone)} documented field(s) the baseline run saw no longer came: {shown}"
    effect = "fails the run" if run.strict_contract else "a warning; a failure under --strict-contract"
    config.stash[SESSION_NOTES].append(f"clause rule:documented-fields-keep-coming: {finding} ({effect})")
    if run.strict_contract:
        facts.strict_findings.append(f"rule:documented-fields-keep-coming: {finding}")
    else:
        facts.attention.append(f"{len(gone)} documented field(s) that stopped coming")


def _verdict(session: pytest.Session) -> Verdict | None:
    config = session.config
    recorder = config.stash.get(RUN_RECORDER, None)
    if recorder is None or not recorder.items or SESSION_TALLY not in config.stash:
        return None  # no test of the contract suite ran in this session: no verdict to give
    tally = config.stash[SESSION_TALLY]
    snapshots: list[tuple[str, dict[str, Any]]] = config.stash[WORKER_TALLIES]
    for _, snapshot in sorted(snapshots, key=lambda entry: (len(entry[0]), entry[0])):
        tally.merge(snapshot)
    snapshots.clear()
    facts = recorder.facts
    run = config.stash[RUN_CONFIG]
    facts.live, facts.replay, facts.allow_partial = run.live, not run.live, run.allow_partial
    facts.answers = tally.answers_by_operation()
    facts.checks = sum(tally.checked.values())
    facts.narrowed = _narrowed(config, recorder.deselected, recorder.modules)
    if recorder.deselected:
        facts.counts["deselected"] = recorder.deselected
    facts.attention = _attention(config, tally)

    _stopped_coming(config, tally, run)
    facts.cleanup = config.stash.get(SESSION_CLEANUP, "")
    return decide(facts, int(session.exitstatus))


def finish(session: pytest.Session) -> None:
    """Give the session its verdict: exit status, summary line and report (an xdist worker hands its tally over)."""
    config = session.config
    if RUN_CONFIG not in config.stash:
        return
    if hasattr(config, "workeroutput"):
        if SESSION_TALLY not in config.stash:
            return
        # An xdist worker hands its tally to the controller, which gives the verdict.
        config.workeroutput[WORKER_TALLY] = config.stash[SESSION_TALLY].to_json()
        config.workeroutput[WORKER_LEAKS] = config.stash.get(SESSION_LEAKS, [])
        config.workeroutput[WORKER_UNSETTLED] = config.stash.get(SESSION_UNSETTLED, [])
        return
    found = _verdict(session)
    if found is None:
        return
    config.stash[VERDICT] = found
    session.exitstatus = found.exit_status
    run = config.stash[RUN_CONFIG]
    if run.contract_report is not None:
        _write_report(config, run, found)


def _write_report(config: pytest.Config, run: Any, found: Verdict) -> None:
    from ..reporting.report import write_contract_report

    recorder = config.stash[RUN_RECORDER]
    meta = report_meta(run, config.stash[STARTED], found.outcome, found.exit_status)
    meta["summary"] = found.summary
    if run.local_hub and HUB_URL_SEEN in config.stash:
        meta["hub"] = f"local reference hub at {config.stash[HUB_URL_SEEN]}"
    meta["leaks"] = config.stash.get(SESSION_LEAKS, [])
    meta["unsettled"] = config.stash.get(SESSION_UNSETTLED, [])
    meta["run_warnings"] = [*run.setting_warnings, *(f"history: skipped {line}" for line in run.history_skipped)]
    facts = recorder.facts
    meta["tests"] = {
        "passed": facts.counts.get("passed", 0),
        "failed": facts.counts.get("failed", 0),
        "errors": facts.counts.get("error", 0),
        "setup_errors": len(facts.setup_errors),
        "skipped": facts.counts.get("skipped", 0),
        "xfailed": facts.counts.get("xfailed", 0),
        "xpassed": facts.counts.get("xpassed", 0),
        "subtests_passed": facts.counts.get("subtests passed", 0),
        "deselected": facts.counts.get("deselected", 0),
        "skip_reasons": skip_reasons(recorder.skip_reasons),
    }
    written, changes = write_contract_report(
        run.contract_report,
        config.stash[SESSION_TALLY],
        meta,
        run.strict_contract,
        baseline=run.baseline,
        history=run.history,
        hub_label=run.hub_label,
    )
    notes = config.stash[SESSION_NOTES]
    notes.append(f"contract report: {written[0]} and {written[1]}")
    if changes is not None:
        notes.append(f"since the baseline: {changes}")
