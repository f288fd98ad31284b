"""Wall time of the contract suite: replayed from cassettes, and live against the local reference hub.

Prints figures, asserts nothing: performance targets live here, not in timed tests. Usage:

    python benchmarks/suite_wall_time.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPLAY = ["tests/contract", "--block-network"]
LIVE = ["tests/contract", "--local-hub", "--allow-protection-probes"]


def _timed(args: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"pytest {' '.join(args)} failed:\n{result.stdout[-2000:]}")
    return elapsed


def _requests_per_run() -> int:
    # Every exchange of a run is one interaction in the cassettes (a replay sends exactly these).
    return sum(path.read_text(encoding="utf-8").count("\n- request:") for path in (ROOT / "cassettes").rglob("*.yaml"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each mode (default 3)")
    runs = parser.parse_args().runs
    floor = min(_timed(["--co", "-q", "tests/schemas/test_single_reader.py"]) for _ in range(runs))
    replay = [_timed(REPLAY) for _ in range(runs)]
    live = [_timed(LIVE) for _ in range(runs)]
    print(f"pytest start-up floor:         {floor:6.2f} s")
    print(f"replay wall time (median/{runs}): {statistics.median(replay):6.2f} s  (min {min(replay):.2f})")
    print(f"live, local hub (median/{runs}):  {statistics.median(live):6.2f} s  (min {min(live):.2f})")
    print(f"requests sent per run:         {_requests_per_run():6d}")


if __name__ == "__main__":
    main()
