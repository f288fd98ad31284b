"""Where the self-check's time goes: start-up, collection, hub start, each side of a row, the whole matrix.

Prints figures, asserts nothing: performance targets live here, not in timed tests. Each figure is given for fresh
interpreters (how the self-check ran before: ``OXEN_SELFCHECK_FORK=0``) and for runs forked from fork servers (the
default). CPU seconds are user + system time of every process a run used (hubs included); on 2 cores the matrix
cannot take less wall time than half its CPU seconds. Usage:

    python benchmarks/selfcheck_time.py [--runs N] [--row NAME ...] [--matrix] [--matrix-fresh]
        [--matrix-without-schemathesis]

``--matrix`` also times the whole matrix (``python -m oxen_contract.selfcheck --jobs 2``, report written to a temporary
directory), ``--matrix-fresh`` the same with fresh interpreters, ``--matrix-without-schemathesis`` the same without
plain schemathesis (as ``tox`` runs the matrix). Figures measured while other work holds the cores are
inflated.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from oxen_contract.selfcheck.launchers import ForkLauncher, FreshLauncher, Launcher
from oxen_contract.selfcheck.matrix import run_row
from oxen_contract.selfcheck.rows import Outcome
from oxen_contract.selfcheck.runner import clean_env, hub, launcher_for, suite_args

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ROWS = ("no-fault", "delete-missing-created", "list-filter-drops-last-match", "hostile-drip-retrieve")
IMPORTS = {
    "interpreter alone": "pass",
    "suite imports (pytest, schemathesis, hypothesis, httpx, jsonschema, openai)": (
        "import pytest, schemathesis, hypothesis, httpx, jsonschema, openai"
    ),
    "hub imports (starlette, uvicorn, the hub)": "import starlette, uvicorn, oxen_contract.hub.serve",
    "st imports (schemathesis.cli)": "from schemathesis.cli import schemathesis",
}
_TICKS = os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _reaped_cpu(pid: int) -> float:
    """CPU seconds of the children ``pid`` has reaped (cutime + cstime): a fork server's runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[13]) + int(fields[14])) / _TICKS


class _Meter:
    """CPU seconds spent by runs of ``launcher`` since the last reading."""

    def __init__(self, launcher: Launcher) -> None:
        self.launcher = launcher
        self.last = self._total()

    def _total(self) -> float:
        total = _children_cpu()
        if isinstance(self.launcher, ForkLauncher):
            total += sum(_reaped_cpu(pid) for pid in self.launcher.server_pids().values())
        return total

    def read(self) -> float:
        now = self._total()
        spent, self.last = now - self.last, now
        return spent


def _median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _python(*args: str, env: dict[str, str] | None = None) -> Callable[[], object]:
    def run() -> object:
        return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, check=True)

    return run


# Collection only: no request reaches the (absent) hub; the keys are only there for the options to be valid.
_COLLECT_ENV = {"OXEN_API_KEY": "collect", "OXEN_API_KEY_OTHER": "collect-2", "HYPOTHESIS_PROFILE": "replay"}


def _collection(runs: int) -> float:
    env = dict(os.environ, **_COLLECT_ENV)
    with tempfile.TemporaryDirectory() as scratch:
        args = suite_args("http://127.0.0.1:9", Path(scratch))
        return _median_seconds(_python("-m", "pytest", "--collect-only", "-q", *args, env=env), runs)


def _forked_collection(launcher: Launcher, runs: int) -> float:
    env = dict(clean_env({}), **_COLLECT_ENV)

    def collect() -> None:
        with tempfile.TemporaryDirectory() as scratch, open(os.devnull, "w") as null:
            args = [*suite_args("http://127.0.0.1:9", Path(scratch)), "--collect-only", "-q"]
            child = launcher.start("suite", args, env=env, cwd=ROOT, stdout=null.fileno(), stderr=null.fileno())
            if child.wait() != 0:
                raise RuntimeError("a forked --collect-only failed")

    return _median_seconds(collect, runs)


def _hub_start(launcher: Launcher, runs: int) -> float:
    def start() -> None:
        with hub(None, launcher=launcher):
            pass

    start()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with hub(None, launcher=launcher):
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def _row_line(outcome: Outcome, wall: float, cpu: float) -> str:
    plain = outcome.schemathesis.seconds if outcome.schemathesis else None
    strict = outcome.strict.seconds if outcome.strict else None
    parts = [f"suite {outcome.suite.seconds:5.1f} s"]
    parts.append(f"strict {strict:5.1f} s" if strict is not None else " " * 14)
    parts.append(f"st {plain:5.1f} s" if plain is not None else " " * 10)
    return f"{'  '.join(parts)}  row {wall:5.1f} s wall, {cpu:5.1f} s CPU  ({outcome.verdict})"


def _rows(label: str, launcher: Launcher, names: Sequence[str]) -> None:
    meter = _Meter(launcher)
    print(f"\nrows, {label} (each alone; a row runs its suite and schemathesis side by side):")
    for name in names:
        meter.read()
        started = time.perf_counter()
        outcome = run_row(name, root=ROOT, launcher=launcher)
        wall = time.perf_counter() - started
        print(f"  {name:40s} {_row_line(outcome, wall, meter.read())}")


def _matrix(fresh: bool, plain: bool = True) -> None:
    env = dict(os.environ, OXEN_SELFCHECK_FORK="0" if fresh else "1")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch, "selfcheck.md")
        # The last report orders the rows, longest first; the temporary one starts from a copy of it.
        previous = ROOT / "reports" / "selfcheck.json"
        if previous.is_file():
            out.with_suffix(".json").write_bytes(previous.read_bytes())
        before = _children_cpu()
        started = time.perf_counter()
        command = [sys.executable, "-m", "oxen_contract.selfcheck", "--jobs", "2", "--out", str(out)]
        command += [] if plain else ["--no-schemathesis"]
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        cpu = _children_cpu() - before
        scores = json.loads(out.with_suffix(".json").read_text())["scores"] if result.returncode in (0, 1) else {}
    label = ("fresh interpreters" if fresh else "fork servers") + ("" if plain else ", without plain schemathesis")
    shown = " ".join(["python -m oxen_contract.selfcheck --jobs 2", *command[len(command) if plain else -1 :]])
    print(f"\nwhole matrix, {label} ({shown}):")
    print(f"  wall {wall:6.1f} s, CPU {cpu:6.1f} s (exit {result.returncode})")
    if scores:
        print(
            f"  caught {scores['suite_caught']}/{scores['faults']}, false alarms {scores['suite_false_alarms']}/"
            f"{scores['benign']}, strict-only {scores['strict_passed_by_default']},{scores['strict_caught']}/"
            f"{scores['strict_only']}, hostile safe {scores['hostile_safe']}/{scores['hostile']}"
        )
    else:
        print(result.stdout[-2000:] + result.stderr[-2000:])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each start-up figure (median; default 3)")
    parser.add_argument("--row", action="append", default=[], metavar="NAME", help="rows to time (repeatable)")
    parser.add_argument("--matrix", action="store_true", help="also time the whole matrix with fork servers")
    parser.add_argument("--matrix-fresh", action="store_true", help="also time the whole matrix, fresh interpreters")
    parser.add_argument(
        "--matrix-without-schemathesis",
        action="store_true",
        help="also time the whole matrix with fork servers, without plain schemathesis (as tox's check session)",
    )
    args = parser.parse_args()
    runs = args.runs
    print(f"start-up of a fresh interpreter (median of {runs}):")
    for label, code in IMPORTS.items():
        print(f"  {label:76s} {_median_seconds(_python('-c', code), runs):5.2f} s")
    print(f"  {'suite start-up and collection (pytest tests/contract --collect-only)':76s} {_collection(runs):5.2f} s")

    fresh = FreshLauncher()
    started = time.perf_counter()
    forked = launcher_for(ROOT)
    assert isinstance(forked, ForkLauncher), "fork servers are off (OXEN_SELFCHECK_FORK=0)"
    forked.wait_ready()
    warm = time.perf_counter() - started
    warm_cpu = sum(_reaped_cpu(pid) for pid in forked.server_pids().values())
    own = [_proc_cpu(pid) for pid in forked.server_pids().values()]
    print(f"\nfork servers (suite, schemathesis, hub) ready in {warm:.2f} s wall, {sum(own) + warm_cpu:.2f} s CPU")

    print(f"\nsuite start-up and collection, forked (median of {runs}): {_forked_collection(forked, runs):5.2f} s")
    print(f"\nhub start, until it says where it listens (median of {runs}):")
    print(f"  fresh interpreter {_hub_start(fresh, runs):5.2f} s, forked {_hub_start(forked, runs):5.2f} s")

    names = args.row or list(DEFAULT_ROWS)
    _rows("fresh interpreters", fresh, names)
    _rows("forked from the fork servers", forked, names)
    forked.close()
    if args.matrix:
        _matrix(fresh=False)
    if args.matrix_fresh:
        _matrix(fresh=True)
    if args.matrix_without_schemathesis:
        _matrix(fresh=False, plain=False)


def _proc_cpu(pid: int) -> float:
    """CPU seconds ``pid`` itself used (utime + stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


if __name__ == "__main__":
    main()
