"""Running a verdict case (``verdicts.py``): its hub, what it arranges around the run, the run, and the check.

Each case gets a fresh hub with its faults (and ``--audit``), a scratch folder for the run's ledger, report and the
files the case arranges, and the suite started as the case says: ``pytest tests/contract`` forked like every other
row, or the ``oxen-contract`` command in a fresh interpreter from an empty folder. ``check_verdict`` then holds what
the run printed to the case's demands; it is a pure function, tested offline (``tests/selfcheck``).
"""

from __future__ import annotations

import json
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from .launchers import Child, FreshLauncher, Launcher
from .output import summary_line
from .rows import Outcome, VerdictCheck
from .runner import (
    FINE_TUNE,
    MAX_PROVISIONS,
    SUITE_TIMEOUT,
    clean_baseline,
    clean_env,
    hub,
    stream,
    suite_args,
    suite_env,
    suite_run,
)
from .safety import judge_safety
from .verdicts import NEVER_SHOWN, Command, Setup, Target, VerdictCase

__all__ = ["PREFIX", "check_verdict", "run_verdict_case"]

# Where Target.BELOW_PREFIX's hub serves the API (its --prefix), as a gateway would.
PREFIX = "/oxen"
# After the first deploy, long enough for the run to be inside a test, short of what the test waits on the hub.
_INTERRUPT_AFTER = 0.5
_BASELINES = (Setup.BASELINE, Setup.BASELINE_CLAUSE_NULL, Setup.BASELINE_TRUNCATED)
# An earlier run's deploy intent, as the ledger writes one, but for its time: the line issue 19 found failing tests.
_INTENT_AT_NULL: dict[str, object] = {
    "run": "0123456789ab",
    "event": "intent",
    "at": None,
    "attempt": 1,
    "fine_tune": FINE_TUNE,
    "snapshot": [],
    "hub_before": 1767225600.0,
    "hub_clock": True,
    "timeout": 3.0,
}


def check_verdict(case: VerdictCase, output: str, unmet: Sequence[str] = ()) -> VerdictCheck:
    """How a run that printed ``output`` measures up to ``case``; ``unmet``: what the self-check could not arrange."""
    summary = summary_line(output)
    missing = [f"{word!r} in the summary line" for word in case.summary if word not in summary]
    missing += [f"{word!r} in the output" for word in case.output if word not in output]
    return VerdictCheck(
        exit_status=case.exit_status,
        words=case.summary,
        summary=summary,
        missing=(*missing, *unmet),
        shown=tuple(word for word in NEVER_SHOWN if word in output),
        deploy_posts=case.deploy_posts,
    )


@contextmanager
def _target(case: VerdictCase, audit: Path | None, launcher: Launcher) -> Iterator[str]:
    """The URL the run is given, with its hub running (none for a replay)."""
    if case.target is Target.REPLAY:
        yield ""
        return
    first, *more = case.faults or (None,)
    extra = [word for fault in more if fault for word in ("--fault", fault)]
    extra += ["--prefix", PREFIX] if case.target is Target.BELOW_PREFIX else []
    with hub(first, audit, launcher, extra=extra) as url:
        if case.target is Target.API_AI:
            yield f"{url}/api/ai"
        elif case.target is Target.BELOW_PREFIX:
            # The root of the server, where a gateway's path is missing: the hub answers 404 to everything there.
            parts = urlsplit(url)
            yield f"{parts.scheme}://{parts.netloc}"
        else:
            yield url


def _arrange(case: VerdictCase, url: str, scratch: Path, baseline: Path | None) -> Path | None:
    """Write the local files the case needs into ``scratch``; the --baseline the run gets, if any."""
    if case.setup is Setup.LEDGER_LINE_AT_NULL:
        Path(scratch, "ledger").write_text(json.dumps({"hub": url, **_INTENT_AT_NULL}) + "\n", encoding="utf-8")
    elif case.setup is Setup.LEDGER_IS_A_FOLDER:
        Path(scratch, "ledger").mkdir()
    if baseline is None:
        return None
    given = Path(scratch, "baseline.json")
    text = baseline.read_text(encoding="utf-8")
    if case.setup is Setup.BASELINE_CLAUSE_NULL:
        data = json.loads(text)
        data["clauses"][next(iter(data["clauses"]))] = None
        text = json.dumps(data)
    elif case.setup is Setup.BASELINE_TRUNCATED:
        text = text[: len(text) // 2]
    given.write_text(text, encoding="utf-8")
    return given


def _command(
    case: VerdictCase, url: str, scratch: Path, root: Path, baseline: Path | None
) -> tuple[str, list[str], Path, dict[str, str]]:
    """The kind of run, its arguments, its working folder and its environment."""
    if case.target is Target.REPLAY:
        args = ["tests/contract", "-p", "no:cacheprovider", "-v", *case.args]
        env = clean_env({"HYPOTHESIS_PROFILE": "replay"})
    else:
        args = suite_args(url, scratch, baseline=baseline, fine_tune=case.fine_tune or FINE_TUNE) + list(case.args)
        env = suite_env()
    if case.command is Command.SUITE:
        return "suite", args, root, env
    # The command runs the installed suite itself and records nothing unless asked, and it keeps pytest's cache in a
    # folder of its own: -p no:cacheprovider would leave the cache_dir option it sets unknown (a warning).
    args = [word for word in args if word not in ("tests/contract", "--disable-recording")]
    plugin = args.index("no:cacheprovider")
    del args[plugin - 1 : plugin + 1]
    cwd = Path(scratch, "cwd")
    cwd.mkdir()
    return "cli", args, cwd, {**env, "OXEN_CONTRACT_CACHE_DIR": str(Path(scratch, "cache"))}


class _Interrupter:
    """Sends the run a SIGINT once the hub's audit shows its first deploy (a person's Ctrl-C, mid-run)."""

    def __init__(self, audit: Path) -> None:
        self._audit = audit
        self._done = threading.Event()
        self._watcher: threading.Thread | None = None
        self.sent = False

    def start(self, child: Child) -> None:
        self._watcher = threading.Thread(target=self._watch, args=(child,), daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        """The run is over: no signal after this, and ``sent`` is final."""
        self._done.set()
        if self._watcher is not None:
            self._watcher.join()

    def _watch(self, child: Child) -> None:
        from ..hub.audit import Audit

        while not self._done.wait(0.05):
            try:
                deployed = Audit.load(self._audit).deploy_posts() > 0
            except (OSError, ValueError, KeyError, TypeError):
                deployed = False
            if deployed:
                if not self._done.wait(_INTERRUPT_AFTER):
                    self.sent = True
                    child.send_signal(signal.SIGINT)
                return


def run_verdict_case(case: VerdictCase, root: Path, launcher: Launcher) -> Outcome:
    """One verdict case, start to end: a row of the matrix (kind ``verdict``)."""
    with tempfile.TemporaryDirectory(prefix="oxen-selfcheck-verdict-") as folder:
        scratch = Path(folder)
        audit = None if case.target is Target.REPLAY else Path(scratch, "audit.json")
        clean = clean_baseline(root, launcher) if case.setup in _BASELINES else None
        interrupter = _Interrupter(audit) if case.setup is Setup.INTERRUPT and audit is not None else None
        with _target(case, audit, launcher) as url:
            baseline = _arrange(case, url, scratch, clean)
            kind, args, cwd, env = _command(case, url, scratch, root, baseline)
            # The command starts fresh: a fork of a warm server would have imported what it must import itself.
            starter = FreshLauncher() if case.command is Command.CLI else launcher
            watch = None if interrupter is None else interrupter.start
            try:
                code, seconds, first, output = stream(starter, kind, args, env, cwd, SUITE_TIMEOUT, watch=watch)
            finally:
                if interrupter is not None:
                    interrupter.stop()
            run = suite_run(code, seconds, first, output, (), Path(scratch, "contract-report.md"))
        # Read once the hub has stopped: every request it answered is in the file.
        safety = None if audit is None else judge_safety(audit, run.leaked, MAX_PROVISIONS, key_shown=run.key_shown)
    never_sent = interrupter is not None and not interrupter.sent
    unmet = ("Ctrl-C: the run ended before the hub's audit showed a deploy",) if never_sent else ()
    return Outcome(
        name=case.name,
        kind="verdict",
        rule=case.why,
        expected=(),
        suite=run,
        schemathesis=None,
        safety=safety,
        check=check_verdict(case, output, unmet),
    )
