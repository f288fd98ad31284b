"""How the contract suite scales with the catalogue and the distance, beside plain schemathesis on the same hubs.

For each catalogue size and added latency, starts a fresh local hub (``--catalog-size N --latency-seconds S``,
deterministic), runs the contract suite live against it as a nightly would (``--hub-url``, child process), then plain
schemathesis (``st run contracts/openapi.yaml --workers C``) against another fresh hub with the same options, and
prints for each: wall time, CPU time and peak memory of the run's process, requests the hub answered, answers
checked. Prints figures, asserts nothing: performance targets live here, not in timed tests. Usage:

    python benchmarks/catalog_scale.py [--sizes 4,100,300,1000] [--latencies 0,0.1] [--concurrency 4]
        [--no-schemathesis] [--checkout PATH]

``--checkout PATH`` runs the suite of another checkout (e.g. ``git archive BASE | tar -x -C PATH``) against this
checkout's hub: how today's suite compares, on the same machine in the same state. Plain schemathesis sends no DELETE
and no deploy (``--exclude-method DELETE``, only the models routes): it would delete what it finds. Figures taken
while the machine is busy are not figures: the 1-minute load average is printed before and after every run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOKENS = {"alice": "bench-key-alice", "bob": "bench-key-bob"}
# The deterministic clock's start: the hub's Date is this plus one second per request answered before.
EPOCH = 1767225600
RUN_TIMEOUT = 1800.0


@dataclass(frozen=True, slots=True)
class Figures:
    runner: str
    wall: float
    cpu: float
    peak_mb: float
    requests: int
    answers: int | None
    exit_code: int
    load_before: float
    load_after: float

    def row(self, size: int, latency: float) -> str:
        answers = "" if self.answers is None else str(self.answers)
        per_answer = "" if not self.answers else f"{1000 * self.cpu / self.answers:.1f}"
        return (
            f"| {size:>5} | {latency * 1000:>4.0f} ms | {self.runner} | {self.wall:7.1f} | {self.cpu:6.1f} | "
            f"{self.requests:>6} | {answers:>6} | {per_answer:>6} | {self.peak_mb:6.0f} | {self.exit_code} | "
            f"{self.load_before:.2f} → {self.load_after:.2f} |"
        )


HEADER = (
    "| models | latency | runner | wall s | CPU s | requests | answers | CPU ms/answer | peak MB | exit | load |\n"
    "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"
)


@contextmanager
def _hub(size: int, latency: float) -> Iterator[str]:
    """A fresh deterministic local hub of this checkout, in a child process; its URL."""
    args = [sys.executable, "-m", "oxen_contract.hub", "--port", "0", "--deterministic"]
    args += ["--catalog-size", str(size), "--latency-seconds", str(latency)]
    env = _env({"OXEN_LOCAL_HUB_TOKENS": ",".join(f"{key}={ns}" for ns, key in TOKENS.items())})
    env["PYTHONPATH"] = str(ROOT / "src")
    with subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as hub:
        assert hub.stdout is not None
        line = hub.stdout.readline()
        if "listening on " not in line:
            hub.kill()
            sys.exit(f"the local hub did not start: {line!r}")
        try:
            yield line.rpartition("listening on ")[2].strip()
        finally:
            hub.terminate()
            hub.wait(10)


def _env(extra: dict[str, str]) -> dict[str, str]:
    # Nothing of the caller's shell or tox shapes a run: each says what it gets.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OXEN_", "PYTEST_", "PYTHONPATH"))}
    return {**env, **extra}


def _requests_answered(url: str) -> int:
    """How many requests the hub answered so far: its deterministic clock ticks one second per request."""
    answer = httpx.get(f"{url}/api/ai/models", headers={"Authorization": f"Bearer {TOKENS['alice']}"}, timeout=60)
    return int(parsedate_to_datetime(answer.headers["date"]).timestamp()) - EPOCH


def _measured(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> tuple[int, float, float, float]:
    """Run ``args``; its exit code, wall seconds, CPU seconds (user + system) and peak resident MB."""
    started = time.perf_counter()
    with log.open("w") as out:
        child = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                child.kill()
            time.sleep(0.05)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss is in KiB on Linux.
    return child.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _suite(url: str, concurrency: int, checkout: Path, scratch: Path) -> Figures:
    report = scratch / "contract-report.md"
    args = [sys.executable, "-m", "pytest", "tests/contract", "--hub-url", url, "--disable-recording", "-q"]
    # As --local-hub runs: both deploy routes, five deploys (the deploy probe spends one), the hub's one clock.
    args += ["--fine-tune", "alice/sandbox/ft-1", "--fine-tune", "alice/sandbox/ft-1@1", "--max-provisions", "5"]
    args += ["--allow-protection-probes", "--clock-skew", "0", "--ledger", str(scratch / "ledger.jsonl")]
    args += ["--contract-report", str(report), "-p", "no:cacheprovider"]
    env = _env({"OXEN_API_KEY": TOKENS["alice"], "OXEN_API_KEY_OTHER": TOKENS["bob"], "HYPOTHESIS_PROFILE": "replay"})
    # Through the environment: a checkout from before --concurrency ignores it.
    env["OXEN_CONTRACT_CONCURRENCY"] = str(concurrency)
    if checkout != ROOT:
        env["PYTHONPATH"] = str(checkout / "src")
    load = os.getloadavg()[0]
    code, wall, cpu, peak = _measured(args, env, checkout, scratch / "suite.log")
    answers = None
    if report.with_suffix(".json").is_file():
        coverage = json.loads(report.with_suffix(".json").read_text(encoding="utf-8")).get("coverage", {})
        answers = sum(count for statuses in coverage.values() for count in statuses.values())
    if code != 0:
        print(f"  suite exit {code}: see {scratch / 'suite.log'}", file=sys.stderr)
    runner = f"suite, --concurrency {concurrency}" if checkout == ROOT else f"suite of {checkout.name}"
    requests = _requests_answered(url)
    return Figures(runner, wall, cpu, peak, requests, answers, code, load, os.getloadavg()[0])


def _schemathesis(url: str, concurrency: int, scratch: Path) -> Figures:
    args = [sys.executable, "-m", "schemathesis.cli", "run", str(ROOT / "contracts" / "openapi.yaml"), "--url", url]
    # The models routes without DELETE: plain schemathesis deletes what it finds, and deploys cost money.
    args += ["--include-path-regex", "^/api/ai/models", "--exclude-method", "DELETE"]
    args += ["--checks", "all", "-H", f"Authorization: Bearer {TOKENS['alice']}", "--max-examples", "12"]
    args += ["--workers", str(concurrency), "--seed", "1", "--generation-database", "none", "--no-color"]
    load = os.getloadavg()[0]
    code, wall, cpu, peak = _measured(args, _env({}), scratch, scratch / "st.log")
    requests = _requests_answered(url)
    runner = f"st run, --workers {concurrency}"
    return Figures(runner, wall, cpu, peak, requests, requests, code, load, os.getloadavg()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4,100,300,1000", help="catalogue sizes (default 4,100,300,1000)")
    parser.add_argument("--latencies", default="0,0.1", help="seconds added to every answer (default 0,0.1)")
    parser.add_argument("--concurrency", type=int, default=4, help="the suite's --concurrency, st's --workers")
    parser.add_argument("--no-schemathesis", action="store_true", help="run the suite only")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="run this checkout's suite (default: this one)")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    latencies = [float(latency) for latency in options.latencies.split(",")]
    checkout = options.checkout.resolve()
    print(f"# {' '.join(sys.argv)}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores, load {os.getloadavg()}")
    print(HEADER, flush=True)
    results: dict[tuple[int, float], Figures] = {}
    for latency in latencies:
        for size in sizes:
            with tempfile.TemporaryDirectory(prefix="oxen-catalog-scale-") as scratch:
                with _hub(size, latency) as url:
                    figures = _suite(url, options.concurrency, checkout, Path(scratch))
                results[size, latency] = figures
                print(figures.row(size, latency), flush=True)
                if not options.no_schemathesis:
                    with _hub(size, latency) as url:
                        print(_schemathesis(url, options.concurrency, Path(scratch)).row(size, latency), flush=True)
    smallest, largest = min(sizes), max(sizes)
    for latency in latencies:
        small, large = results[smallest, latency], results[largest, latency]
        print(
            f"# {largest} vs {smallest} models at {latency * 1000:.0f} ms: wall ×{large.wall / small.wall:.2f}, "
            f"CPU ×{large.cpu / small.cpu:.2f}"
        )
    print(f"# self: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB peak in the benchmark itself")


if __name__ == "__main__":
    main()
