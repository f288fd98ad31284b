"""One run of the contract suite: its state under one stash key, and the plugin that gathers the verdict's facts.

pytest keeps a plugin's state as one object under one key (``xml_key`` holds one ``LogXML``); so does this package.
``Session`` holds what the run resolved, said, counted, left and decided: the settings, the notes and progress log,
the tally (and the xdist workers' tallies), the hub client and the probes sent through it, the ledger held, the leaks
and unsettled deploys, what cleanup did, and the verdict. Registered as a plugin, it counts every report of the
suite's tests (serial, or sent by xdist workers) as pytest's own summary line does and sorts the failures into
``verdict.RunFacts``; ``finish`` turns those and the tally into the verdict, the exit status and the report, after
pytest tore the session's fixtures down (so that cleanup is in it). Setting the run up is ``activation.py``'s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..settings.config import WORKER_SEED, Mode, RunConfig, draws_label, mode_label
from .outcome import report_meta, tally_timeouts, triage
from .verdict import RunFacts, Verdict, decide, skip_reasons

if TYPE_CHECKING:
    from ..checking.tally import Tally
    from ..clients.client import HubClient
    from ..disposables.ledger import Ledger

__all__ = ["PROBE_INTERVAL", "SESSION", "Session", "session_of"]

SESSION = pytest.StashKey["Session"]()
# What the run had checked when a test started (on the test's item): the test's own clauses are what it adds.
_CHECKED_BEFORE = pytest.StashKey[dict[str, int]]()
# A probe after a failure costs a request; one every PROBE_INTERVAL seconds is enough to tell an outage.
PROBE_INTERVAL = 10.0
# What an xdist worker hands the controller (workeroutput), which gives the verdict.
_WORKER_TALLY = "oxen_contract_tally"
_WORKER_LEAKS = "oxen_contract_leaks"
_WORKER_UNSETTLED = "oxen_contract_unsettled"


def session_of(config: pytest.Config) -> Session:
    """The run's session, made on first asking (the suite's conftest can load before the plugin configures)."""
    found = config.stash.get(SESSION, None)
    if found is None:
        found = config.stash[SESSION] = Session(config)
    return found


class Session:
    """The state of one run of the contract suite, and the plugin that sorts its reports into the verdict's facts."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = time.time()
        # The run's settings; None until resolved, or when they could not be (``usage_error``).
        self.run: RunConfig | None = None
        # Bad settings in a session that may not run the suite: raised only if it does.
        self.usage_error: pytest.UsageError | None = None
        # The suite asked for (its conftest loaded) before the settings were resolved.
        self.requested = False
        # The test loop is over: cleanup (the session's fixtures torn down) and the verdict are under way.
        self.finishing = False
        self.active = False
        # Said at the end of the run: notes, after the live run's progress (``activation.say``).
        self.notes: list[str] = []
        self.log: list[str] = []
        self.tally: Tally | None = None
        # xdist workers' tallies, merged at the end in worker order (merging is order-sensitive).
        self.worker_tallies: list[tuple[str, dict[str, Any]]] = []
        self.hub: HubClient | None = None
        self.hub_url_seen: str | None = None
        self.ledger: Ledger | None = None
        self.leaks: list[dict[str, Any]] = []
        # Deploys the run could neither prove nor rule out (deploys.Unsettled), as JSON: named in the report.
        self.unsettled: list[dict[str, Any]] = []
        # What cleanup did, in words: an interrupted run says it instead of a verdict.
        self.cleanup = ""
        self.verdict: Verdict | None = None
        # What the run changed in this process, put back when the session ends.
        self.restore_signals: Callable[[], None] | None = None
        self.thaw_generation: Callable[[], None] | None = None
        self._probe_client: HubClient | None = None
        self._last_probe: tuple[float, str | None] = (float("-inf"), None)
        self.facts = RunFacts(live=False)
        self.items = 0
        self.deselected = 0
        self.skip_reasons: list[str] = []
        self._session: pytest.Session | None = None
        self._collected: int | None = None
        # The suite's test modules this session collected (or that skipped themselves at collection).
        self.modules: set[str] = set()

    # -- a failed test: sorted, with at most one probe of the hub -------------------------------------------------

    def probe(self) -> str | None:
        """Why the hub is unavailable, or None if it answers: one probe per PROBE_INTERVAL, on a budget of its own."""
        if self.hub is None:
            return None
        last_at, last_reason = self._last_probe
        if time.monotonic() - last_at < PROBE_INTERVAL:
            return last_reason
        if self._probe_client is None:
            self._probe_client = self.hub.for_probes()
        try:
            reason = self._probe_client.probe()
        except pytest.skip.Exception:
            reason = None  # the probe budget is spent: the failure is sorted by what it raised alone
        self._last_probe = (time.monotonic(), reason)
        return reason

    def judge(self, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
        """Give a report of the suite's tests what the verdict needs (kind, detail, clauses) and its failure text."""
        try:
            self._judge(item, call, report)
        except Exception as error:  # noqa: BLE001 - a hook that raises is an INTERNALERROR, which hides the verdict
            detail = f"{item.nodeid}: the suite's report hook failed: {type(error).__name__}: {error}"
            report.user_properties = [*report.user_properties, ("oxen_contract", report.when)]
            if report.failed:
                report.user_properties += [("oxen_kind", "suite"), ("oxen_detail", detail)]

    def _judge(self, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
        from ..checking.skips import RequestsSpent, SkippedBySettings

        properties: list[tuple[str, object]] = [("oxen_contract", report.when)]
        # On the item: JUnit XML takes a test case's properties from its teardown report, which copies the item's.
        item.user_properties += self._clauses_of_the_test(item, report.when, call)
        error = call.excinfo.value if call.excinfo is not None else None
        if report.skipped and isinstance(error, RequestsSpent):
            properties.append(("oxen_kind", "budget"))
        elif report.skipped and isinstance(error, SkippedBySettings):
            properties.append(("oxen_kind", "settings"))
        elif error is not None and report.failed:
            if self.tally is not None:
                tally_timeouts(error, self.tally)
            assert self.run is not None
            found = triage(error, item.nodeid, self.run, self.tally, self.probe if self.hub is not None else None)
            if found.text is not None:
                report.longrepr = found.text
            if found.stop:
                item.session.shouldstop = f"hub unavailable: {found.detail}"
            properties += [("oxen_kind", found.kind), ("oxen_detail", found.detail)]
        report.user_properties = [*report.user_properties, *properties]

    def _clauses_of_the_test(
        self, item: pytest.Item, when: str, call: pytest.CallInfo[None]
    ) -> list[tuple[str, object]]:
        """The clause ids the test checked and broke, for its JUnit case (the nightly's readers search by clause)."""
        tally = self.tally
        if tally is None:
            return []
        if when == "setup":
            item.stash[_CHECKED_BEFORE] = dict(tally.checked)
            return []
        if when != "call":
            return []
        before = item.stash.get(_CHECKED_BEFORE, {})
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

    # -- the reports, counted as pytest's summary line counts them ------------------------------------------------

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += sum(1 for item in items if item.get_closest_marker("contract") is not None)

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        # pytest (Session.Interrupted) and xdist (dsession.Interrupted) stop a session that asked to stop (-x, an
        # outage) with a KeyboardInterrupt of their own: only a person's Ctrl-C (a SIGINT) is the plain one.
        self.facts.interrupted = self.facts.interrupted or type(excinfo.value) is KeyboardInterrupt
        # Background reads (the read-ahead of retrieves) stop sending, and cleanup waits out no Retry-After of theirs.
        if self.hub is not None:
            self.hub.budget.pace.stop()

    def interrupt(self, why: str) -> None:
        """A signal stopped the run: it is interrupted, whatever becomes of the KeyboardInterrupt raised for it.

        Python drops an exception raised in a garbage-collector callback (Hypothesis keeps one) with no more than a
        warning: the run would go on to a verdict, as if nobody had stopped it. So the run is marked interrupted here,
        and pytest asked to stop after the test under way.
        """
        self.facts.interrupted = True
        if self._session is not None:
            self._session.shouldstop = f"interrupted ({why})"
        if self.hub is not None:
            self.hub.budget.pace.stop()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # testscollected is set just after this hook, to the number of items it is given.
        self._session, self._collected = session, len(session.items)
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
        if self._session is not None and self._collected is not None and not self._subtests_shown():
            self._session.testscollected = self._collected
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
        if output.get(_WORKER_TALLY):
            # Merged in finish, in worker order: workers finish in any order, and merging is order-sensitive.
            self.worker_tallies.append((str(node.gateway.id), output[_WORKER_TALLY]))
        self.leaks.extend(output.get(_WORKER_LEAKS, []))
        self.unsettled.extend(output.get(_WORKER_UNSETTLED, []))

    # -- what pytest shows of the run ------------------------------------------------------------------------------

    def report_header(self) -> str | None:
        """The run's mode, cassettes and contract variant, at the top; None where the suite does not run."""
        if not self.active or self.run is None:
            return None  # said at the end instead, if the suite runs at all
        run = self.run
        where = f" ({run.cassette_dir})" if run.mode == Mode.REPLAY else ""
        variant = "strict" if run.strict_contract else "default"
        return f"oxen-contract: {mode_label(run)}{where}; contract variant {variant}{draws_label(run)}"

    def seed_workers(self, node: Any) -> None:
        """Hand xdist workers the run's seed: each parses the command line anew, and must draw as --seed drew here."""
        if self.run is not None and self.run.seed is not None:
            node.workerinput[WORKER_SEED] = self.run.seed

    # -- the end: the verdict, its exit status, the report and the summary ----------------------------------------

    def finish(self, session: pytest.Session) -> None:
        """Give the run its verdict: exit status, summary line and report (an xdist worker hands its tally over)."""
        if self.run is None:
            return
        if hasattr(self.config, "workeroutput"):
            if self.tally is None:
                return
            # An xdist worker hands its tally to the controller, which gives the verdict.
            self.config.workeroutput[_WORKER_TALLY] = self.tally.to_json()
            self.config.workeroutput[_WORKER_LEAKS] = self.leaks
            self.config.workeroutput[_WORKER_UNSETTLED] = self.unsettled
            return
        found = self._decided(int(session.exitstatus))
        if found is None:
            return
        self.verdict = found
        session.exitstatus = found.exit_status
        if self.run.contract_report is not None:
            self._write_report(self.run, found)

    def _decided(self, exit_status: int) -> Verdict | None:
        if not self.items or self.tally is None or self.run is None:
            return None  # no test of the contract suite ran in this session: no verdict to give
        tally, run, facts = self.tally, self.run, self.facts
        for _, snapshot in sorted(self.worker_tallies, key=lambda entry: (len(entry[0]), entry[0])):
            tally.merge(snapshot)
        self.worker_tallies.clear()
        facts.live, facts.replay, facts.allow_partial = run.live, not run.live, run.allow_partial
        facts.answers = tally.answers_by_operation()
        facts.checks = sum(tally.checked.values())
        facts.narrowed = _narrowed(self.config, self.deselected, self.modules)
        if self.deselected:
            facts.counts["deselected"] = self.deselected
        facts.attention = self._attention(tally, run)
        self._stopped_coming(tally, run)
        facts.cleanup = self.cleanup
        return decide(facts, exit_status)

    def _attention(self, tally: Tally, run: RunConfig) -> list[str]:
        """What the report holds for a person to look at, counted: none of it fails a default run."""
        left = [leak for leak in self.leaks if not leak.get("deleted")]
        counts = (
            (len(tally.warnings), "warning(s)"),
            (len(tally.lenient_inputs), "lenient input(s)"),
            (len(tally.unknown_fields), "field(s) the contract does not name"),
            (len(left), "model(s) left on the hub (LEAK)"),
            (len(self.unsettled), "unsettled deploy(s)"),
            (len(run.setting_warnings), "warning(s) about the run's own files"),
        )
        return [f"{count} {noun}" for count, noun in counts if count]

    def _stopped_coming(self, tally: Tally, run: RunConfig) -> None:
        """Documented fields the baseline run saw and this run did not: drift, a warning or (strict) a failure."""
        if run.baseline is None:
            return
        was = set(run.baseline.get("drift", {}).get("seen_fields", []))
        gone = sorted(was - tally.seen_fields)
        if not gone:
            return
        shown = ", ".join(gone[:5]) + (f" and {len(gone) - 5} more" if len(gone) > 5 else "")
        finding = f"{len(gone)} documented field(s) the baseline run saw no longer came: {shown}"
        effect = "fails the run" if run.strict_contract else "a warning; a failure under --strict-contract"
        self.notes.append(f"clause rule:documented-fields-keep-coming: {finding} ({effect})")
        if run.strict_contract:
            self.facts.strict_findings.append(f"rule:documented-fields-keep-coming: {finding}")
        else:
            self.facts.attention.append(f"{len(gone)} documented field(s) that stopped coming")

    def _write_report(self, run: RunConfig, found: Verdict) -> None:
        from ..reporting.report import write_contract_report

        assert run.contract_report is not None and self.tally is not None
        meta = report_meta(run, self.started, found.outcome, found.exit_status)
        meta["summary"] = found.summary
        if run.local_hub and self.hub_url_seen is not None:
            meta["hub"] = f"local reference hub at {self.hub_url_seen}"
        meta["leaks"] = self.leaks
        meta["unsettled"] = self.unsettled
        meta["run_warnings"] = [*run.setting_warnings, *(f"history: skipped {line}" for line in run.history_skipped)]
        meta["tests"] = self._tests()
        written, changes = write_contract_report(
            run.contract_report,
            self.tally,
            meta,
            run.strict_contract,
            baseline=run.baseline,
            history=run.history,
            hub_label=run.hub_label,
        )
        self.notes.append(f"contract report: {written[0]} and {written[1]}")
        if changes is not None:
            self.notes.append(f"since the baseline: {changes}")

    def _tests(self) -> dict[str, Any]:
        """The report's count of tests, as pytest's summary line counts them."""
        facts = self.facts
        return {
            "passed": facts.counts.get("passed", 0),
            "failed": facts.counts.get("failed", 0),
            "errors": facts.counts.get("error", 0),
            "setup_errors": len(facts.setup_errors),
            "skipped": facts.counts.get("skipped", 0),
            "xfailed": facts.counts.get("xfailed", 0),
            "xpassed": facts.counts.get("xpassed", 0),
            "subtests_passed": facts.counts.get("subtests passed", 0),
            "deselected": facts.counts.get("deselected", 0),
            "skip_reasons": skip_reasons(self.skip_reasons),
        }

    def summary_lines(self) -> list[tuple[str, dict[str, bool]]]:
        """What the terminal shows at the end: the progress log and notes, then the verdict's line in its colour."""
        lines: list[tuple[str, dict[str, bool]]] = [(f"[oxen-contract] {note}", {}) for note in self.log + self.notes]
        if self.verdict is not None and self.run is not None:
            colour = {"contract held": "green", "partial pass": "yellow"}.get(self.verdict.outcome, "red")
            # The mode is in the summary line too: it is the line people paste, and a replay's green is not a hub's.
            # The line still ends "(exit status N)": the self-check reads it so.
            said = f"{self.verdict.summary} [{mode_label(self.run)}] (exit status {self.verdict.exit_status})"
            lines.append((f"[oxen-contract] {said}", {colour: True, "bold": True}))
        return lines


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
