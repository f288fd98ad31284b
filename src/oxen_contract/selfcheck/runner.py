"""One row of the fault matrix: a fresh hub with one fault, the contract suite against it, plain schemathesis too.

Everything runs in child processes: the hub (``python -m oxen_contract.hub --port 0``), the suite (``pytest
tests/contract`` with its live options, exactly as a user runs it) and schemathesis (``st run``). A hub per run keeps
runs independent (plain schemathesis deletes what it finds), and child processes let a thread pool or pytest-xdist
run rows side by side on every core without sharing a ledger, a port or a GIL. By default each child is forked from a
fork server that imported its command's modules once (``launchers.py``, ``forkserver.py``); ``OXEN_SELFCHECK_FORK=0``
starts a fresh interpreter for each. What each row must show, and what its verdict is, lives in ``rows.py``; the hub
hands its audit over as a JSON file (``--audit PATH``), which ``safety.py`` reads beside the suite's output, which
``output.py`` reads. A verdict case (``verdict_runs.py``) builds on the same hub and runs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from ..settings.argparsing import find_checkout
from .expected import EXPECTED_CLAUSES, HOSTILE_ENDS
from .launchers import Child, Launcher, default_launcher
from .output import caught_by, clauses_named, failed_tests, verdict_line, warnings_listed
from .rows import NO_FAULT, Outcome, SchemathesisRun, SuiteRun
from .safety import judge_safety, keys_shown, leaks_named
from .verdicts import NEVER_SHOWN

__all__ = [
    "clean_baseline",
    "clean_env",
    "hub",
    "launcher_for",
    "run_case",
    "stream",
    "suite_args",
    "suite_env",
    "suite_run",
]

ALICE, BOB = "alice", "bob"
FINE_TUNE = f"{ALICE}/sandbox/ft-1"
REQUEST_TIMEOUT = 3.0
# The hang fault must outlast the suite's request timeout, and stay short enough not to stall a row.
HANG_SECONDS = 10.0
# The drip faults send a byte a second: a head that drips in (~100 bytes) then outlasts rows.HOSTILE_SECONDS unless
# the suite's deadline covers it, while a suite that bounds each exchange waits one --request-timeout.
DRIP_SECONDS = 1.0
# Deploys a suite run may send; passed explicitly, so that the audit can be held to it. Four: the shared model, one
# delete lifecycle, the fuzzed delete's target, and the probe of a deploy of a missing fine-tune, which the suite sends
# only with a deploy to spare (the OpenAI SDK's delete, which needs a fifth, skips).
MAX_PROVISIONS = 4
SUITE_TIMEOUT = 300.0
SCHEMATHESIS_TIMEOUT = 180.0
HUB_START_TIMEOUT = 30.0
_TAIL = 4000


def _token() -> str:
    # With "/" and "+", as keys can be (token68): a key's spellings (as sent, \/-escaped, percent-encoded) differ, so a
    # hub that echoes them (hostile-echo-key) tests that every one is redacted. Never "=" or ",", which separate
    # OXEN_LOCAL_HUB_TOKENS.
    return f"selfcheck-{secrets.token_hex(4)}/{secrets.token_hex(4)}+{secrets.token_hex(4)}"


# Fresh per process: the hub and the suite only ever see them through the environment.
_TOKENS = {ALICE: _token(), BOB: _token()}

_RESULT_LINE = re.compile(r"\b(?:FAILED|SUBFAIL(?:ED)?|ERROR)\b")


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    # An outer pytest (xdist, tox) or a developer's shell must not leak options, URLs or keys into the children.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OXEN_"))}
    env.update(extra)
    return env


def suite_args(
    url: str, scratch: Path, *, strict: bool = False, baseline: Path | None = None, fine_tune: str = FINE_TUNE
) -> list[str]:
    """The suite's command line (after ``python -m pytest``) against ``url``, its ledger and report in ``scratch``."""
    args = ["tests/contract", "--hub-url", url, "--disable-recording"]
    args += ["--fine-tune", fine_tune, "--allow-protection-probes", "--ledger", str(Path(scratch, "ledger"))]
    args += ["--max-provisions", str(MAX_PROVISIONS), "--contract-report", str(Path(scratch, "contract-report.md"))]
    args += ["--strict-contract"] if strict else []
    args += ["--baseline", str(baseline)] if baseline is not None else []
    # -v prints one line per test as it ends: that is how the first failure is timed.
    # The local hub's deterministic clock ticks once per request: a skew of minutes would span hundreds of requests.
    args += ["--clock-skew", "0"]
    return args + ["--request-timeout", str(REQUEST_TIMEOUT), "-p", "no:cacheprovider", "-v"]


def launcher_for(root: Path) -> Launcher:
    """The launcher of this process (``launchers.default_launcher``); its suite server warms up on the suite options."""
    placeholder = Path(tempfile.gettempdir(), "oxen-selfcheck-warm")
    return default_launcher(root, clean_env({}), suite_args("http://127.0.0.1:9", placeholder))


def _start_piped(
    launcher: Launcher, kind: str, args: list[str], env: dict[str, str], cwd: Path, *, stderr: int | None = None
) -> tuple[Child, int]:
    """Start the command of ``kind`` with its stdout (and ``stderr``, unless given) into a pipe; the pipe's read end."""
    reading, writing = os.pipe()
    try:
        errors = writing if stderr is None else stderr
        process = launcher.start(kind, args, env=env, cwd=cwd, stdout=writing, stderr=errors)
    except BaseException:
        os.close(reading)
        raise
    finally:
        os.close(writing)
    return process, reading


@contextmanager
def _killed_after(seconds: float, process: Child) -> Iterator[None]:
    """Kill ``process`` if the block still runs after ``seconds``."""
    timer = threading.Timer(seconds, process.kill)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@contextmanager
def hub(
    fault: str | None, audit: Path | None = None, launcher: Launcher | None = None, *, extra: Sequence[str] = ()
) -> Iterator[str]:
    """A fresh local hub with ``fault`` switched on, in a child process; yields its URL.

    With ``audit``, the hub writes there what reached it (``--audit``), as JSON, after each delete and deploy;
    ``extra`` are more of its arguments (``--fault NAME``, ``--prefix PATH``).
    """
    launcher = launcher or launcher_for(find_checkout())
    args = ["--port", "0", "--deterministic"]
    args += ["--hang-seconds", str(HANG_SECONDS), "--drip-seconds", str(DRIP_SECONDS)]
    args += ["--fault", fault] if fault else []
    args += ["--audit", str(audit)] if audit is not None else []
    args += extra
    tokens = ",".join(f"{token}={namespace}" for namespace, token in _TOKENS.items())
    env = clean_env({"OXEN_LOCAL_HUB_TOKENS": tokens})
    # stderr to a file: a pipe nobody reads could fill up and stall the hub.
    with tempfile.TemporaryFile(mode="w+") as errors:
        process, reading = _start_piped(launcher, "hub", args, env, Path.cwd(), stderr=errors.fileno())
        with open(reading, encoding="utf-8", errors="replace") as stdout:
            with _killed_after(HUB_START_TIMEOUT, process):
                line = stdout.readline()
            try:
                if "listening on " not in line:
                    process.kill()
                    process.wait()
                    errors.seek(0)
                    error = errors.read()
                    raise RuntimeError(f"the local hub did not start: {(line + error).strip() or 'no output'}")
                yield line.rpartition("listening on ")[2].strip()
            finally:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def stream(
    launcher: Launcher,
    kind: str,
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    *,
    watch: Callable[[Child], None] | None = None,
) -> tuple[int, float, float | None, str]:
    """Run the command of ``kind``; exit code, seconds, seconds until the first failing test line, the whole output.

    ``watch`` is handed the running child at once (to signal it); it must return soon, starting a thread if it waits.
    """
    started = time.monotonic()
    first_failure: float | None = None
    lines: list[str] = []
    process, reading = _start_piped(launcher, kind, args, env, cwd)
    if watch is not None:
        watch(process)
    with open(reading, encoding="utf-8", errors="replace") as output, _killed_after(timeout, process):
        for line in output:
            lines.append(line)
            if first_failure is None and line.startswith("tests/") and _RESULT_LINE.search(line):
                first_failure = time.monotonic() - started
        code = process.wait()
    seconds = time.monotonic() - started
    if seconds >= timeout:
        lines.append(f"\n[selfcheck] killed after {timeout:.0f} s\n")
    return code, seconds, first_failure, "".join(lines)


def run_suite(
    url: str,
    expected: tuple[str, ...],
    root: Path,
    *,
    strict: bool = False,
    launcher: Launcher | None = None,
    baseline: Path | None = None,
    first_failure: bool = False,
    must_say: tuple[str, ...] = (),
) -> SuiteRun:
    """The contract suite, live against ``url``, with the options and environment a user would give it.

    ``first_failure``: stop at the first failing test (pytest's ``-x``), for a row that only needs to know the suite
    fails and which clause its first failure names (the run still cleans up what it made).
    """
    launcher = launcher or launcher_for(root)
    with tempfile.TemporaryDirectory(prefix="oxen-selfcheck-") as scratch:
        report = Path(scratch, "contract-report.md")
        env = suite_env()
        args = suite_args(url, Path(scratch), strict=strict, baseline=baseline) + (["-x"] if first_failure else [])
        code, seconds, first, output = stream(launcher, "suite", args, env, root, SUITE_TIMEOUT)
        run = suite_run(code, seconds, first, output, expected, report, must_say)
        return dataclasses.replace(run, first_failure_only=first_failure)


def suite_env() -> dict[str, str]:
    """The environment of a live suite run: both keys, the suite's Hypothesis profile, nothing of the caller's."""
    return clean_env(
        {"OXEN_API_KEY": _TOKENS[ALICE], "OXEN_API_KEY_OTHER": _TOKENS[BOB], "HYPOTHESIS_PROFILE": "replay"}
    )


def suite_run(
    code: int,
    seconds: float,
    first: float | None,
    output: str,
    expected: tuple[str, ...],
    report: Path,
    must_say: tuple[str, ...] = (),
) -> SuiteRun:
    """What a suite run showed: its ``output`` and its contract ``report`` (Markdown, JSON beside it) if written.

    ``must_say``: words the row demands of the output (``SuiteRun.said`` holds those it said).
    """
    warned = warnings_listed(report.with_suffix(".json"))
    texts = {"output": output}
    for written in (report, report.with_suffix(".json")):
        if written.is_file():
            texts[f"report ({written.name})"] = written.read_text(encoding="utf-8", errors="replace")
    tests = failed_tests(output)
    return SuiteRun(
        exit_code=code,
        seconds=round(seconds, 2),
        first_failure_seconds=None if first is None else round(first, 2),
        clauses=clauses_named(output),
        failed_tests=tests,
        caught_by=caught_by(output, expected, tests),
        tail=output[-_TAIL:],
        verdict_line=verdict_line(output),
        warned=warned,
        leaked=leaks_named(output),
        key_shown=keys_shown(texts, _TOKENS.values()),
        said=tuple(words for words in must_say if words in output),
        crashed=tuple(words for words in NEVER_SHOWN if words in output),
    )


_BASELINES: dict[Path, Path] = {}
_BASELINE_LOCK = threading.Lock()


def clean_baseline(root: Path, launcher: Launcher) -> Path:
    """The JSON report of a run against the hub without faults, made once per process: strict-only rows' baseline."""
    with _BASELINE_LOCK:
        if root not in _BASELINES:
            folder = Path(tempfile.mkdtemp(prefix="oxen-selfcheck-baseline-"))
            env = suite_env()
            with hub(None, launcher=launcher) as url:
                code, _, _, output = stream(launcher, "suite", suite_args(url, folder), env, root, SUITE_TIMEOUT)
            report = folder / "contract-report.json"
            if code != 0 or not report.is_file():
                raise RuntimeError(
                    f"the baseline run against the hub without faults failed (exit {code}):\n{output[-2000:]}"
                )
            _BASELINES[root] = report
        return _BASELINES[root]


def run_schemathesis(url: str, root: Path, *, launcher: Launcher | None = None) -> SchemathesisRun:
    """Plain schemathesis (``st run``) on openapi.yaml, every check, bounded examples, fixed seed."""
    from ..checking.contracts import load_contract

    launcher = launcher or launcher_for(root)
    with tempfile.TemporaryDirectory(prefix="oxen-selfcheck-st-") as scratch:
        report = Path(scratch, "report.json")
        args = ["run", str(load_contract().openapi_path), "--url", url]
        args += ["--checks", "all", "-H", f"Authorization: Bearer {_TOKENS[ALICE]}", "--max-examples", "20"]
        args += ["--seed", "1", "--request-timeout", str(REQUEST_TIMEOUT), "--no-color"]
        args += ["--generation-database", "none", "--report", "json", "--report-json-path", str(report)]
        code, seconds, _, output = stream(
            launcher, "schemathesis", args, clean_env({}), Path(scratch), SCHEMATHESIS_TIMEOUT
        )
        failures: list[str] = []
        if report.is_file():
            data = json.loads(report.read_text(encoding="utf-8"))
            for failure in data.get("failures", []):
                for operation in failure.get("operations", []):
                    failures.append(f"{failure.get('code')} {failure.get('title')}: {operation}")
            failures += [f"error: {error.get('title', error)}" for error in data.get("errors", [])]
    return SchemathesisRun(exit_code=code, seconds=round(seconds, 2), failures=tuple(failures), tail=output[-_TAIL:])


@dataclasses.dataclass(frozen=True)
class _Row:
    """One row's runs, each against a fresh hub with the row's fault: the suite's, plain schemathesis's, strict's."""

    name: str
    expected: tuple[str, ...]
    hub_fault: str | None
    root: Path
    launcher: Launcher
    # A strict-only row's runs compare with a run against the clean hub (--baseline): a documented field that stops
    # coming is drift only against what came before.
    baseline: Path | None
    first_failure: bool
    must_say: tuple[str, ...]

    def plain(self) -> SchemathesisRun:
        # Its own fresh hub: plain schemathesis deletes what it finds, and must start from the state the suite saw.
        with hub(self.hub_fault, launcher=self.launcher) as url:
            return run_schemathesis(url, self.root, launcher=self.launcher)

    def suite(self, audit: Path | None, stop_early: bool, strict: bool = False) -> SuiteRun:
        with hub(self.hub_fault, audit, self.launcher) as url:
            return run_suite(
                url,
                self.expected,
                self.root,
                strict=strict,
                launcher=self.launcher,
                baseline=self.baseline,
                first_failure=stop_early,
                must_say=self.must_say,
            )

    def until_caught(self, audit: Path | None, strict: bool = False) -> SuiteRun:
        """The suite's run, stopped at its first failure if asked; whole when that failure did not name the clause.

        A first failure that did not name the fault's clause (the setup error of a fixture the fault broke, say) says
        nothing of the rest of the suite: the row's verdict is then a whole run's, as without --first-failure.
        """
        if not self.first_failure:
            return self.suite(audit, False, strict)
        stopped = self.suite(audit, True, strict)
        probe = Outcome(self.name, "fault", "", self.expected, stopped, None)
        return stopped if probe.verdict == "caught" else self.suite(audit, False, strict)


def run_case(
    name: str,
    *,
    schemathesis: bool = True,
    root: Path | None = None,
    launcher: Launcher | None = None,
    first_failure: bool = False,
) -> Outcome:
    """One row of the matrix: ``name`` is a fault, benign variant or hostile hub of the catalog, or ``no-fault``.

    ``first_failure``: a fault's run, and the ``--strict-contract`` run of a strict-only fault, stop at their first
    failing test, and run again whole if that failure did not name the fault's clause. Runs that must pass (no fault,
    benign, a strict-only fault by default) and runs whose harm the hub's audit judges (hostile hubs, crowded
    namespaces) always run whole.
    """
    from ..hub import FAULTS
    from ..hub.faults import Switch

    root = root or find_checkout()
    launcher = launcher or launcher_for(root)
    fault = None if name == NO_FAULT else next(f for f in FAULTS if f.name == name)
    kind = NO_FAULT if fault is None else fault.kind
    if kind == "outage":
        raise ValueError(f"{name} is an outage: no row of its own, only verdict cases combine it (verdicts.py)")
    expected = EXPECTED_CLAUSES.get(name, ()) if kind in ("fault", "strict-only") else ()
    baseline = clean_baseline(root, launcher) if kind == "strict-only" else None
    must_say = (HOSTILE_ENDS[name][1],) if name in HOSTILE_ENDS else ()
    row = _Row(name, expected, None if fault is None else name, root, launcher, baseline, first_failure, must_say)
    # Rows whose namespaces hold models the run did not make: the audit must show the run left them alone.
    guarded = fault is not None and Switch.CROWDED in fault.switches
    # Every run of a row at once, each against its own hub: each waits on its hub part of the time, so a row fills the
    # cores better than in sequence, and no run sees what another did. Plain schemathesis follows a hostile hub's
    # redirects and deletes whatever it finds: nothing to learn there.
    with ThreadPoolExecutor(max_workers=2) as side, tempfile.TemporaryDirectory(prefix="oxen-selfcheck-audit-") as tmp:
        pending_plain = side.submit(row.plain) if schemathesis and kind != "hostile" else None
        pending_strict = side.submit(row.until_caught, None, True) if kind == "strict-only" else None
        audit = Path(tmp, "audit.json") if guarded else None
        # A guarded row's harm is judged over the whole run, by its one hub's audit.
        suite = row.until_caught(audit) if kind == "fault" and not guarded else row.suite(audit, False)
        # Read once the hub has stopped: every request it answered is in the file.
        safety = judge_safety(audit, suite.leaked, MAX_PROVISIONS, key_shown=suite.key_shown) if audit else None
        strict = pending_strict.result() if pending_strict is not None else None
        plain = pending_plain.result() if pending_plain is not None else None
    rule = fault.clause if fault is not None else "the hub honours the whole contract"
    return Outcome(name, kind, rule, expected, suite, plain, strict=strict, safety=safety)
