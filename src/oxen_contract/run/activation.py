"""Setting a session up for the contract suite, once, and only a session that runs it; and putting it back after."""

from __future__ import annotations

import contextlib
import shlex
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..settings.config import Mode, RunConfig, resolve
from ..settings.options import SUITE_OPTIONS
from .session import Session, session_of

__all__ = ["activate_suite", "end_session", "say", "start_session"]


def start_session(config: pytest.Config) -> None:
    """Make the run's session, the plugin that gathers its verdict, and resolve its settings.

    Installed, the plugin loads into every pytest session of the environment: until the contract suite is asked for
    (one of its options on the command line) or collected, it changes nothing, and an OXEN_* variable left in the
    environment is no usage error for somebody else's project.
    """
    session = session_of(config)
    config.pluginmanager.register(session, "oxen-contract-recorder")
    explicit = any(config.getoption(name, default=None) not in (None, False, [], "") for name in SUITE_OPTIONS)
    try:
        session.run = resolve(config, rootdir=Path(str(config.rootpath)))
    except pytest.UsageError as error:
        if explicit or session.requested:
            raise
        session.usage_error = error
        return
    if explicit or session.requested:
        activate_suite(config)


def activate_suite(config: pytest.Config) -> None:
    """Set the session up for the contract suite: once, and only in a session that runs it.

    Called by the suite's conftest as it loads (before its modules are collected), and by the plugin when the suite's
    options are given or its items collected.
    """
    session = session_of(config)
    if session.active:
        return
    if session.run is None and session.usage_error is None:
        # The suite's conftest can configure before the plugin does: the plugin's configure picks this up.
        session.requested = True
        return
    if session.usage_error is not None:
        raise session.usage_error
    assert session.run is not None
    session.active = True
    run = session.run
    from ..checking.contracts import load_contract
    from ..checking.tally import Tally
    from ..recording.cassettes import freeze_generation

    session.tally = Tally(load_contract())
    session.thaw_generation = freeze_generation()
    # Run from the package there is no repository conftest: the suite brings its own profiles (replay by default).
    from ..settings.profiles import load_profile

    load_profile()
    session.notes.extend(f"warning: {line}" for line in run.setting_warnings)
    session.notes.extend(f"history: skipped {line}" for line in run.history_skipped)
    if run.live:
        session.notes.append(_draws_note(run))
    if run.ignored:
        session.notes.append(
            f"--replay: left unused, since a replay sends nothing to any hub: {', '.join(run.ignored)}"
        )
    if run.mode == Mode.LIVE:
        # Live means live: never let pytest-recording answer from a cassette.
        config.option.disable_recording = True
    if run.ledger_path is not None:
        _hold_ledger(config, session, run)
    if run.live and not hasattr(config, "workerinput"):
        session.restore_signals = _stop_cleanly_on_signals(config)


def end_session(config: pytest.Config) -> None:
    """Put back what the run changed in this process: the ledger held, the signal handlers, Hypothesis's generation."""
    session = session_of(config)
    run = session.run
    xmlpath = getattr(config.option, "xmlpath", None)
    if run is not None and run.hub_label and run.live and run.hub_url and xmlpath:
        # The JUnit XML is published (an artifact, check annotations): with --hub-label it names no hub URL either.
        from ..reporting.report import scrub_hub_url

        scrub_hub_url(Path(xmlpath), run.hub_url)
    if session.ledger is not None:
        session.ledger.release()
    if session.restore_signals is not None:
        session.restore_signals()
    if session.thaw_generation is not None:
        session.thaw_generation()


def _stop_cleanly_on_signals(config: pytest.Config) -> Callable[[], None]:
    """SIGTERM as Ctrl-C, and no second signal breaking off cleanup; returns what puts the old handlers back.

    A live run owns models that cost money. SIGTERM (``kill``, ``docker stop``, a CI runner's cancel) would end the
    process at once, with no cleanup and no line naming them; a second Ctrl-C would break off cleanup half done. So the
    first SIGINT or SIGTERM stops the run as Ctrl-C does (pytest tears the session down, cleanup deletes or names what
    the run made, the verdict says INTERRUPTED), a second one only says cleanup is under way, and a third stops at once.
    Once the tests are over (cleanup and the verdict under way), the first signal only says so, as a second one does: a
    KeyboardInterrupt in pytest's session finish would end it with a traceback and no verdict.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    received = [0]
    session = session_of(config)

    def say(line: str) -> None:
        # Through the terminal reporter: pytest captures stderr while a test or a fixture's teardown runs.
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(line)
        else:
            sys.stderr.write(f"\n{line}\n")

    def stop(number: int, frame: Any) -> None:
        received[0] += 1
        if received[0] == 1 and not session.finishing:
            session.interrupt(signal.Signals(number).name)
            raise KeyboardInterrupt
        if received[0] <= 2:
            say(
                "[oxen-contract] stopping: cleanup is deleting or naming the models this run made; "
                "signal once more to stop at once and leave them"
            )
            return
        restore()
        raise KeyboardInterrupt

    def restore() -> None:
        for number, handler in previous.items():
            signal.signal(number, handler)

    for number in previous:
        signal.signal(number, stop)
    return restore


def rerun_command(argv: list[str], seed: int) -> str:
    """The command line of this run with ``--seed seed`` in place of any --seed it had: the line that replays it."""
    program = Path(argv[0]).name if argv else "pytest"
    if program in ("__main__.py", "-c", "-m"):
        program = "python -m pytest"  # python -m pytest names pytest's __main__.py as argv[0]
    words, rest = [], list(argv[1:])
    while rest:
        word = rest.pop(0)
        if word == "--seed":
            rest[:1] = []  # and its value
        elif not word.startswith("--seed="):
            words.append(word)
    return " ".join([program, shlex.join([*words, "--seed", str(seed)])]).strip()


def _draws_note(run: RunConfig) -> str:
    """Every live run says what it drew and how to draw the same again."""
    volume = f"{run.max_examples} example(s) per fuzzed operation"
    if run.seed is None:
        return (
            f"fuzzing: {volume}, derandomized: every run without --seed draws the same requests "
            "(--seed S, or --seed random, draws others)"
        )
    return f"fuzzing: {volume}, seed {run.seed}; replay these draws with: {rerun_command(sys.argv, run.seed)}"


def _distributed(config: pytest.Config) -> bool:
    """Whether xdist will run this session in workers: -n, or --dist with --tx (which starts workers without -n)."""
    option = config.option
    return bool(getattr(option, "numprocesses", None) or getattr(option, "tx", None)) or (
        getattr(option, "dist", "no") not in ("no", None)
    )


def _hold_ledger(config: pytest.Config, session: Session, run: RunConfig) -> None:
    # A remote hub costs money and holds other people's models: a run that may deploy or delete there is one
    # process, with one budget and one ledger. A read-only run (no --fine-tune, --disposable-model or --namespace)
    # may use xdist: it spends nothing, deletes nothing and needs no ledger.
    if _distributed(config) or hasattr(config, "workerinput"):
        if run.can_provision or run.namespace:
            raise pytest.UsageError(
                "a live run that may deploy or delete on a remote hub runs in one process: xdist workers would each "
                "deploy up to --max-provisions and sweep each other's models. Drop -n (the local hub, replay and "
                "read-only live runs may use it)."
            )
        return
    from ..disposables.ledger import Ledger, LedgerBusy, LedgerUnusable

    assert run.ledger_path is not None
    ledger = Ledger(run.ledger_path, run.hub_url, key=run.token)
    try:
        ledger.acquire()
    except (LedgerBusy, LedgerUnusable) as problem:
        raise pytest.UsageError(str(problem)) from None
    session.ledger = ledger


def say(config: pytest.Config, message: str) -> None:
    """Progress of a live run (hub, provisioning, clean-up), never a key: on the terminal at the end of the run.

    Written as it happens, a line would break pytest's progress line in two; with ``-vv`` it is written at once, past
    output capture, for whoever watches a long run.
    """
    session = session_of(config)
    if session.run is None or not session.run.live:
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or config.get_verbosity() < 2:
        session.log.append(message)
        return
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        reporter.write_line(f"[oxen-contract] {message}")
