"""The pytest plugin (entry point ``pytest11``): options, markers and fixtures; wiring only.

Modes: replay (default; cassettes, no network, no key), live (``--hub-url``), record (``--record-mode``), and local
(``--local-hub``: the local reference hub on a free loopback port). Settings resolve in ``config.py``; the work is done
by ``client``, ``provisioning``, ``checks`` and ``fuzzing``. Heavy imports stay inside fixtures so that
``pytest --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from .config import LOCAL_NAMESPACE, LOCAL_OTHER_NAMESPACE, Mode, RunConfig, resolve
from .outcome import classify, dropped_route, failure_text, report_meta, tally_timeouts
from .verdict import RunFacts, Verdict, decide, skip_reasons

RUN_CONFIG = pytest.StashKey[RunConfig]()
SESSION_NOTES = pytest.StashKey[list[str]]()
SESSION_TALLY = pytest.StashKey[Any]()
STARTED = pytest.StashKey[float]()
# A probe after a failure costs a request; one every PROBE_INTERVAL seconds is enough to tell an outage.
PROBE_INTERVAL = 10.0
LAST_PROBE = pytest.StashKey[float]()
HUB_CLIENT = pytest.StashKey[Any]()
LEDGER_HELD = pytest.StashKey[Any]()
SESSION_LEAKS = pytest.StashKey[list[dict[str, Any]]]()
RUN_RECORDER = pytest.StashKey["RunRecorder"]()
VERDICT = pytest.StashKey[Verdict]()
WORKER_TALLIES = pytest.StashKey[list[tuple[str, dict[str, Any]]]]()
HUB_URL_SEEN = pytest.StashKey[str]()
SUITE_ACTIVE = pytest.StashKey[bool]()
CHECKED_BEFORE = pytest.StashKey[dict[str, int]]()
SUITE_REQUESTED = pytest.StashKey[bool]()
DEFERRED_USAGE_ERROR = pytest.StashKey[pytest.UsageError]()
GENERATION_THAWED = pytest.StashKey[Callable[[], None]]()
WORKER_TALLY = "oxen_contract_tally"
WORKER_LEAKS = "oxen_contract_leaks"

HUB_URL = "--hub-url"
LOCAL_HUB = "--local-hub"
FINE_TUNE = "--fine-tune"
DISPOSABLE_MODEL = "--disposable-model"
MAX_PROVISIONS = "--max-provisions"
ALLOW_PROTECTION_PROBES = "--allow-protection-probes"
STRICT_CONTRACT = "--strict-contract"
REQUEST_TIMEOUT = "--request-timeout"
NAMESPACE = "--namespace"
LEDGER = "--ledger"
CONTRACT_REPORT = "--contract-report"
MAX_REQUESTS = "--max-requests"
ALLOW_PARTIAL = "--allow-partial"

MARKERS = {
    "contract": "talks to the hub (live, recorded or replayed): needs the oxen-contract plugin's hub fixtures",
    "destructive": "deletes a disposable custom model: needs --fine-tune or --disposable-model",
    "protection_probe": "tries to delete what must not be deletable: live runs need --allow-protection-probes",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        "oxen-contract",
        "Oxen hub models API contract suite. Exit status: 0 the contract held (or a partial pass with "
        "--allow-partial); 1 contract violations; 75 hub unavailable; 78 setup error (the contract could not be "
        "checked: undeployable fine-tune, refused key, damaged cassette, delete never checked); 4 usage error",
    )
    group.addoption(HUB_URL, dest="hub_url", help="Run live against the hub at this URL (env OXEN_HUB_URL).")
    group.addoption(
        LOCAL_HUB, dest="local_hub", action="store_true", help="Start the local reference hub and run live against it."
    )
    group.addoption(
        FINE_TUNE,
        dest="fine_tune",
        metavar="OWNER/REPO/FT_ID[@STEP]",
        help="Deploy this fine-tune (or checkpoint STEP) for disposable models (env OXEN_CONTRACT_FINE_TUNE).",
    )
    group.addoption(
        DISPOSABLE_MODEL,
        dest="disposable_models",
        action="append",
        metavar="ID",
        help="An existing model this run may delete; repeatable (env OXEN_CONTRACT_DISPOSABLE_MODELS, comma list).",
    )
    group.addoption(
        MAX_PROVISIONS,
        dest="max_provisions",
        metavar="N",
        help="Deploy at most N models per run, default 3 (env OXEN_CONTRACT_MAX_PROVISIONS).",
    )
    group.addoption(
        ALLOW_PROTECTION_PROBES,
        dest="allow_protection_probes",
        action="store_true",
        help="Try to delete base models and other namespaces' models; off by default in live runs.",
    )
    group.addoption(
        STRICT_CONTRACT,
        dest="strict_contract",
        action="store_true",
        help="Use the strict contract variant: no field the contract does not name (env OXEN_CONTRACT_STRICT).",
    )
    group.addoption(
        REQUEST_TIMEOUT,
        dest="request_timeout",
        metavar="SECONDS",
        help="Fail a request that gets no answer within this time, default 30 (env OXEN_CONTRACT_REQUEST_TIMEOUT).",
    )
    group.addoption(
        NAMESPACE,
        dest="namespace",
        help="The namespace OXEN_API_KEY belongs to; default: the --fine-tune owner (env OXEN_CONTRACT_NAMESPACE).",
    )
    group.addoption(LEDGER, dest="ledger", metavar="PATH", help="Where provisioned ids are recorded for cleanup.")
    group.addoption(
        CONTRACT_REPORT,
        dest="contract_report",
        metavar="PATH",
        help="Write a Markdown report here and its JSON twin beside it (env OXEN_CONTRACT_REPORT).",
    )
    group.addoption(
        MAX_REQUESTS,
        dest="max_requests",
        metavar="N",
        help="Send at most N requests; the tests past the cap skip (env OXEN_CONTRACT_MAX_REQUESTS).",
    )
    group.addoption(
        "--baseline",
        dest="baseline",
        metavar="PREV.json",
        help="An earlier run's JSON report: the report opens with what is new since it (env OXEN_CONTRACT_BASELINE).",
    )
    group.addoption(
        "--history",
        dest="history",
        metavar="DIR",
        help="A folder of earlier JSON reports: the HTML report charts failures and drift per run "
        "(env OXEN_CONTRACT_HISTORY).",
    )
    group.addoption(
        ALLOW_PARTIAL,
        dest="allow_partial",
        action="store_true",
        help="Let a run pass (exit 0) though the delete operation's 200 and 404 answers went unchecked; its summary "
        "line says so. Without it such a run is a setup error (env OXEN_CONTRACT_ALLOW_PARTIAL).",
    )
    for name, help_text in (
        ("oxen_hub_url", "hub URL for live runs"),
        ("oxen_fine_tune", "OWNER/REPO/FT_ID[@STEP] to deploy for disposable models"),
        ("oxen_max_provisions", "deploys allowed per run"),
        ("oxen_request_timeout", "seconds before a request counts as unanswered"),
        ("oxen_namespace", "the namespace of OXEN_API_KEY"),
        ("oxen_ledger", "path of the provisioning ledger"),
        ("oxen_cassette_dir", "directory of the cassettes (default: cassettes/ at the rootdir)"),
    ):
        parser.addini(name, help_text, default="")


# The options that say "run the contract suite": given on the command line, they are checked at once.
_SUITE_OPTIONS = (
    "hub_url",
    "local_hub",
    "fine_tune",
    "disposable_models",
    "max_provisions",
    "allow_protection_probes",
    "strict_contract",
    "request_timeout",
    "namespace",
    "ledger",
    "contract_report",
    "max_requests",
    "allow_partial",
    "baseline",
    "history",
)


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
    config.stash[SESSION_NOTES] = []
    config.stash[STARTED] = time.time()
    config.stash[LAST_PROBE] = 0.0
    config.stash[WORKER_TALLIES] = []
    recorder = RunRecorder(config)
    config.stash[RUN_RECORDER] = recorder
    config.pluginmanager.register(recorder, "oxen-contract-recorder")
    # Installed, the plugin loads into every pytest session of the environment: until the contract suite is asked
    # for (one of its options on the command line) or collected, it changes nothing, and an OXEN_* variable left in
    # the environment is no usage error for somebody else's project.
    explicit = any(config.getoption(name, default=None) not in (None, False, [], "") for name in _SUITE_OPTIONS)
    try:
        run = resolve(config, rootdir=Path(str(config.rootpath)))
    except pytest.UsageError as error:
        if explicit or SUITE_REQUESTED in config.stash:
            raise
        config.stash[DEFERRED_USAGE_ERROR] = error
        return
    config.stash[RUN_CONFIG] = run
    if explicit or SUITE_REQUESTED in config.stash:
        activate_suite(config)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if any(item.get_closest_marker("contract") is not None for item in items):
        activate_suite(config)


def activate_suite(config: pytest.Config) -> None:
    """Set the session up for the contract suite: once, and only in a session that runs it.

    Called by the suite's conftest as it loads (before its modules are collected), and by the plugin when the suite's
    options are given or its items collected.
    """
    if SUITE_ACTIVE in config.stash:
        return
    if RUN_CONFIG not in config.stash and DEFERRED_USAGE_ERROR not in config.stash:
        # The suite's conftest can configure before the plugin does: the plugin's configure picks this up.
        config.stash[SUITE_REQUESTED] = True
        return
    if DEFERRED_USAGE_ERROR in config.stash:
        raise config.stash[DEFERRED_USAGE_ERROR]
    config.stash[SUITE_ACTIVE] = True
    run = config.stash[RUN_CONFIG]
    from .cassettes import freeze_generation
    from .contracts import load_contract
    from .tally import Tally

    config.stash[SESSION_TALLY] = Tally(load_contract())
    config.stash[GENERATION_THAWED] = freeze_generation()
    # Run from the package there is no repository conftest: the suite brings its own profiles (replay by default).
    from .profiles import load_profile

    load_profile()
    if run.mode == Mode.LIVE:
        # Live means live: never let pytest-recording answer from a cassette.
        config.option.disable_recording = True
    if run.ledger_path is not None:
        _hold_ledger(config, run)


def _hold_ledger(config: pytest.Config, run: RunConfig) -> None:
    # A remote hub costs money and holds other people's models: a run that may deploy or delete there is one
    # process, with one budget and one ledger. A read-only run (no --fine-tune, --disposable-model or --namespace)
    # may use xdist: it spends nothing, deletes nothing and needs no ledger.
    if getattr(config.option, "numprocesses", None) or hasattr(config, "workerinput"):
        if run.can_provision or run.namespace:
            raise pytest.UsageError(
                "a live run that may deploy or delete on a remote hub runs in one process: xdist workers would each "
                "deploy up to --max-provisions and sweep each other's models. Drop -n (the local hub, replay and "
                "read-only live runs may use it)."
            )
        return
    from .ledger import Ledger, LedgerBusy

    assert run.ledger_path is not None
    ledger = Ledger(run.ledger_path, run.hub_url)
    try:
        ledger.acquire()
    except LedgerBusy as busy:
        raise pytest.UsageError(str(busy)) from None
    config.stash[LEDGER_HELD] = ledger


def pytest_unconfigure(config: pytest.Config) -> None:
    ledger = config.stash.get(LEDGER_HELD, None)
    if ledger is not None:
        ledger.release()
    thaw = config.stash.get(GENERATION_THAWED, None)
    if thaw is not None:
        thaw()


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    from .cassettes import register_matchers

    register_matchers(vcr)


def pytest_report_header(config: pytest.Config) -> str | None:
    if SUITE_ACTIVE not in config.stash:
        return None  # said at the end instead, if the suite runs at all
    run = config.stash[RUN_CONFIG]
    where = "cassettes " + str(run.cassette_dir) if run.mode == Mode.REPLAY else (run.hub_url or "local reference hub")
    variant = "strict" if run.strict_contract else "default"
    return f"oxen-contract: {run.mode} against {where}; contract variant {variant}"


def _say(config: pytest.Config, message: str) -> None:
    """Progress of a live run (hub, provisioning, clean-up) on the terminal, past output capture; never a key."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or RUN_CONFIG not in config.stash or not config.stash[RUN_CONFIG].live:
        return
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        reporter.write_line(f"[oxen-contract] {message}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if item.get_closest_marker("contract") is None:
        return report
    # Properties travel with the report (to xdist's controller too, and into JUnit): what the verdict needs.
    properties: list[tuple[str, object]] = [("oxen_contract", report.when)]
    # On the item: JUnit XML takes a test case's properties from its teardown report, which copies the item's.
    item.user_properties += _clauses_of_the_test(item, report.when, call)
    if call.excinfo is not None and report.failed:
        run = item.config.stash[RUN_CONFIG]
        error = call.excinfo.value
        text = failure_text(item.nodeid, error, run)
        if text is not None:
            report.longrepr = text
        kind, detail = classify(error, item.nodeid, run)
        config = item.config
        tally_timeouts(error, config.stash[SESSION_TALLY])
        if kind != "outage" and run.live and kind != "setup":
            # A hub that is down fails every test: probe it (now and then) to tell an outage from a broken contract.
            hub = config.stash.get(HUB_CLIENT, None)
            if hub is not None and time.monotonic() - config.stash[LAST_PROBE] >= PROBE_INTERVAL:
                config.stash[LAST_PROBE] = time.monotonic()
                reason = hub.probe()
                if reason:
                    kind, detail = "outage", reason
        if kind == "outage" and run.live:
            # One route that drops its connection while the hub answers its health probe is that route's failure.
            hub = config.stash.get(HUB_CLIENT, None)
            text = dropped_route(error, config.stash[SESSION_TALLY]) if hub is not None and not hub.probe() else None
            if text is not None:
                kind, detail = "contract", text.splitlines()[0]
                report.longrepr = f"{item.nodeid}\n\n{text}"
        if kind == "outage":
            item.session.shouldstop = f"hub unavailable: {detail}"
        properties += [("oxen_kind", kind), ("oxen_detail", detail)]
    report.user_properties = [*report.user_properties, *properties]
    return report


def _clauses_of_the_test(item: pytest.Item, when: str, call: pytest.CallInfo[None]) -> list[tuple[str, object]]:
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
    if run.strict_contract and vanished:
        facts.strict_findings = [f"{len(vanished)} documented field(s) no answer carried: {', '.join(vanished[:5])}"]
    return decide(facts, int(session.exitstatus))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if RUN_CONFIG not in config.stash:
        return
    if hasattr(config, "workeroutput"):
        if SESSION_TALLY not in config.stash:
            return
        # An xdist worker hands its tally to the controller, which gives the verdict.
        config.workeroutput[WORKER_TALLY] = config.stash[SESSION_TALLY].to_json()
        config.workeroutput[WORKER_LEAKS] = config.stash.get(SESSION_LEAKS, [])
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


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    for note in config.stash.get(SESSION_NOTES, []):
        terminalreporter.write_line(f"[oxen-contract] {note}")
    found = config.stash.get(VERDICT, None)
    if found is not None:
        colour = {"contract held": "green", "partial pass": "yellow"}.get(found.outcome, "red")
        terminalreporter.write_line(
            f"[oxen-contract] {found.summary} (exit status {found.exit_status})", **{colour: True, "bold": True}
        )


# -- fixtures ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def run_config(request: pytest.FixtureRequest) -> RunConfig:
    """The run's resolved settings (mode, hub, provisioning, variant)."""
    activate_suite(request.config)
    return request.config.stash[RUN_CONFIG]


@pytest.fixture(scope="session")
def contract() -> Any:
    """The contracts, loaded once by the package's only reader of contracts/."""
    from .contracts import load_contract

    return load_contract()


@pytest.fixture(scope="session")
def hub_url(request: pytest.FixtureRequest, run_config: RunConfig) -> Iterator[str]:
    """The base URL the suite talks to; with --local-hub, a local reference hub started for the session."""
    if not run_config.local_hub:
        yield run_config.hub_url
        return
    from .config import LOCAL_OTHER_TOKEN, LOCAL_TOKEN
    from .hub import LocalHub

    tokens = {LOCAL_TOKEN: LOCAL_NAMESPACE, LOCAL_OTHER_TOKEN: LOCAL_OTHER_NAMESPACE}
    with LocalHub(tokens, deterministic=True) as local:
        _say(request.config, f"local reference hub listening on {local.url}")
        request.config.stash[HUB_URL_SEEN] = local.url
        yield local.url


@pytest.fixture(scope="session")
def live_config(run_config: RunConfig, hub_url: str) -> RunConfig:
    """The run's settings with the hub URL known (a local hub's port is picked at start)."""
    return dataclasses.replace(run_config, hub_url=hub_url)


@pytest.fixture(scope="session")
def contract_vcr_config(live_config: RunConfig) -> dict[str, Any]:
    """What tests/contract/conftest.py hands pytest-recording as ``vcr_config``."""
    from .cassettes import vcr_config_for

    return vcr_config_for(live_config)


@pytest.fixture(scope="session")
def session_cassette(
    request: pytest.FixtureRequest, live_config: RunConfig, contract_vcr_config: dict[str, Any]
) -> Iterator[Any]:
    """The cassette for exchanges that belong to the session, not to one test; None in live runs."""
    if live_config.mode == Mode.LIVE:
        yield None
        return
    from .cassettes import SESSION_CASSETTE, SessionCassette

    record_mode = str(request.config.getoption("record_mode", default="none") or "none")
    cassette = SessionCassette(live_config.cassette_dir / SESSION_CASSETTE, record_mode, contract_vcr_config)
    yield cassette
    if live_config.mode == Mode.RECORD:
        cassette.save()


@pytest.fixture(scope="session")
def verifier(request: pytest.FixtureRequest, contract: Any, live_config: RunConfig) -> Iterator[Any]:
    """Checks answers against the contract in the run's variant; also used by the schemathesis checks."""
    from .checks import Verifier, use_verifier

    keys = [key for key in (live_config.token, live_config.other_token) if key is not None]
    tally = request.config.stash[SESSION_TALLY]
    checker = Verifier(contract, strict=live_config.strict_contract, keys=keys, tally=tally)
    use_verifier(checker)
    yield checker
    use_verifier(None)


@pytest.fixture(scope="session")
def request_guard(live_config: RunConfig) -> Any:
    """What may leave the process (transport.RequestGuard): deletes of verified ids only, deploys within the cap."""
    from .transport import RequestGuard

    return RequestGuard(
        live_config.hub_url, max_deploys=live_config.max_provisions, timeout=live_config.request_timeout
    )


@pytest.fixture(scope="session")
def hub(request: pytest.FixtureRequest, live_config: RunConfig, request_guard: Any) -> Iterator[Any]:
    """An httpx client for the hub with the run's keys: one method per documented operation."""
    from .client import Credential, HubClient, RequestBudget

    keys = {Credential.KEY: live_config.token}
    if live_config.other_token:
        keys[Credential.OTHER] = live_config.other_token
    client = HubClient(live_config.hub_url, keys, guard=request_guard, budget=RequestBudget(live_config.max_requests))
    request.config.stash[HUB_CLIENT] = client
    yield client
    del request.config.stash[HUB_CLIENT]
    client.close()


@pytest.fixture(scope="session")
def hub_is_reachable(request: pytest.FixtureRequest, run_config: RunConfig) -> None:
    # Before anything else in a live run: an unreachable hub is an outage, not a hundred contract failures; a key the
    # hub refuses on the list, which every caller may use, is a setup error, not seven contract failures.
    if not run_config.live:
        return
    from .client import HubUnavailable
    from .failures import SetupError

    hub = request.getfixturevalue("hub")
    _say(request.config, f"probing {hub.base_url}")
    reason = hub.probe()
    if reason:
        request.session.shouldstop = f"hub unavailable: {reason}"
        raise HubUnavailable(reason)
    refused = hub.key_refused()
    if refused:
        request.session.shouldstop = refused
        raise SetupError(refused)


@pytest.fixture(scope="session")
def provisioner(
    request: pytest.FixtureRequest,
    live_config: RunConfig,
    hub: Any,
    request_guard: Any,
    session_cassette: Any,
    verifier: Any,
) -> Iterator[Any]:
    """Hands out disposable models (deploys capped by --max-provisions), and cleans up what the run made."""
    from .provisioning import Provisioner

    config = request.config
    made = Provisioner(
        hub,
        live_config,
        config.stash.get(LEDGER_HELD, None),
        log=lambda message: _say(config, message),
        check_answer=verifier.deploy_answer,
    )
    # The guard lets a DELETE out only for what the provisioner verified.
    request_guard.may_delete = lambda: made.owns
    notes = config.stash[SESSION_NOTES]
    leftovers = made.sweep_leftovers() if live_config.mode != Mode.REPLAY else []
    if leftovers:
        notes.append(f"deleted {len(leftovers)} model(s) left by an earlier run: {', '.join(leftovers)}")
    yield made
    if live_config.mode == Mode.REPLAY:
        return  # nothing was made on any hub
    with session_cassette.active() if session_cassette else contextlib.nullcontext():
        made.sweep_leaks()
    notes.extend(made.notes)
    notes.extend(leak.line() for leak in made.leaks)
    config.stash[SESSION_LEAKS] = [dataclasses.asdict(leak) for leak in made.leaks]
    notes.append(
        f"provisioned {made.deploys} model(s) of --max-provisions {live_config.max_provisions} "
        f"({request_guard.deploy_posts} deploy request(s) sent)"
    )


@pytest.fixture(scope="session")
def hub_ready(request: pytest.FixtureRequest, run_config: RunConfig, hub_is_reachable: None) -> None:
    """Before the suite's first test: the hub answers and takes the key, and earlier runs' leftovers are swept.

    The contract suite's conftest uses it automatically; nothing else in a session pays for it.
    """
    # Only a remote hub keeps a ledger; sweeping first means a crashed run's models go even if no test deploys.
    if run_config.ledger_path is not None:
        request.getfixturevalue("provisioner")


@pytest.fixture(scope="session")
def _shared_model_id(provisioner: Any, session_cassette: Any) -> Iterator[list[str]]:
    holder: list[str] = []
    yield holder
    if holder and provisioner.config.mode != Mode.REPLAY:
        with session_cassette.active() if session_cassette else contextlib.nullcontext():
            provisioner.dispose(holder[0])


@pytest.fixture
def shared_model(provisioner: Any, session_cassette: Any, _shared_model_id: list[str]) -> str:
    """A disposable custom model shared by tests that must not delete it; made once per session."""
    from .provisioning import ProvisionsExhausted

    if not _shared_model_id:
        try:
            with session_cassette.active() if session_cassette else contextlib.nullcontext():
                _shared_model_id.append(provisioner.fresh_model())
        except ProvisionsExhausted as reason:
            pytest.skip(str(reason))
    return _shared_model_id[0]


@pytest.fixture
def disposable_model(provisioner: Any) -> Iterator[str]:
    """A fresh disposable custom model the test may delete; deleted afterwards if the test did not."""
    from .provisioning import ProvisionsExhausted

    try:
        model_id = provisioner.fresh_model()
    except ProvisionsExhausted as reason:
        pytest.skip(str(reason))
    yield model_id
    if model_id not in provisioner.deleted and provisioner.config.mode != Mode.REPLAY:
        provisioner.dispose(model_id)


@pytest.fixture
def other_namespace_key(live_config: RunConfig) -> str:
    """The credential label of a second namespace's key; skips when OXEN_API_KEY_OTHER is not set."""
    from .client import Credential

    if not live_config.other_token:
        pytest.skip("cross-namespace check: set OXEN_API_KEY_OTHER to a key of a second namespace")
    return Credential.OTHER


@pytest.fixture
def protection_probes(live_config: RunConfig) -> None:
    """Skips unless probes that try to delete what must stay are allowed (--allow-protection-probes)."""
    if not live_config.allow_protection_probes:
        pytest.skip(
            "protection probe: a broken hub would really delete the model; pass --allow-protection-probes to run it"
        )
