"""The verdict's facts, gathered from every report of the suite (serial, or sent by xdist workers), and its end.

Each report of the suite's tests carries properties (``oxen_contract``, ``oxen_kind``, ``oxen_detail``, and the clause
ids for JUnit) set where the test ran; ``RunRecorder`` sorts them into ``verdict.RunFacts``, and ``finish`` turns those
and the tally into the verdict, the exit status and the report.
"""

from __future__ import annotations

from typing import Any

import pytest

from .outcome import report_meta
from .stash_keys import (
    CHECKED_BEFORE,
    HUB_URL_SEEN,
    RUN_CONFIG,
    RUN_RECORDER,
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

__all__ = ["RunRecorder", "clauses_of_the_test", "finish"]


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
    from .failures import ContractFailure
    from .outcome import chain

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


class RunRecorder:
    """Sorts every report of the contract suite (serial, or sent by xdist workers) into the verdict's facts."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.facts = RunFacts(live=False)
        self.items = 0
        self.skip_reasons: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        if "oxen_contract" not in properties:
            return
        facts = self.facts
        if report.when == "setup":
            self.items += 1
        if report.passed and report.when == "call":
            facts.passed += 1
        elif report.skipped:
            facts.skipped += 1
            self.skip_reasons.append(_skip_reason(report))
        elif report.failed:
            kind, detail = str(properties.get("oxen_kind", "other")), str(properties.get("oxen_detail", ""))
            if kind == "outage":
                facts.unavailable = facts.unavailable or detail
            elif kind == "setup":
                if detail not in facts.setup_errors:
                    facts.setup_errors.append(detail)
            elif kind == "contract":
                facts.contract_failures += 1
            else:
                facts.other_failures += 1

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
    facts.live, facts.allow_partial = run.live, run.allow_partial
    facts.answers = tally.answers_by_operation()
    facts.checks = sum(tally.checked.values())
    vanished = tally.vanished_fields()
    if vanished:
        shown = ", ".join(vanished[:5]) + (f" and {len(vanished) - 5} more" if len(vanished) > 5 else "")
        finding = f"{len(vanished)} documented field(s) no model answer carried: {shown}"
        effect = "fails the run" if run.strict_contract else "a warning; a failure under --strict-contract"
        config.stash[SESSION_NOTES].append(f"clause rule:documented-fields-keep-coming: {finding} ({effect})")
        if run.strict_contract:
            facts.strict_findings = [f"rule:documented-fields-keep-coming: {finding}"]
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
        from .report import write_contract_report

        recorder = config.stash[RUN_RECORDER]
        meta = report_meta(run, config.stash[STARTED], found.outcome, found.exit_status)
        meta["summary"] = found.summary
        if run.local_hub and HUB_URL_SEEN in config.stash:
            meta["hub"] = f"local reference hub at {config.stash[HUB_URL_SEEN]}"
        meta["leaks"] = config.stash.get(SESSION_LEAKS, [])
        meta["unsettled"] = config.stash.get(SESSION_UNSETTLED, [])
        meta["tests"] = {
            "passed": recorder.facts.passed,
            "failed": recorder.facts.contract_failures + recorder.facts.other_failures,
            "setup_errors": len(recorder.facts.setup_errors),
            "skipped": recorder.facts.skipped,
            "skip_reasons": skip_reasons(recorder.skip_reasons),
        }
        written, changes = write_contract_report(
            run.contract_report,
            config.stash[SESSION_TALLY],
            meta,
            run.strict_contract,
            baseline=run.baseline,
            history=run.history,
        )
        notes = config.stash[SESSION_NOTES]
        notes.extend(f"history: skipped {line}" for line in run.history_skipped)
        notes.append(f"contract report: {written[0]} and {written[1]}")
        if changes is not None:
            notes.append(f"since the baseline: {changes}")
