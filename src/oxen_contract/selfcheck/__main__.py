"""``python -m oxen_contract.selfcheck``: run the fault matrix and print and write the mutation report.

One command a release manager or CI runs to see, for every fault of the local hub, whether the contract suite (and
plain schemathesis, side by side) catches it, whether a benign variant draws a false alarm, whether a strict-only
fault passes by default and is caught under ``--strict-contract``, whether a hostile hub gets a verdict out of
the suite without harm, and whether each verdict case (``verdicts.py``) ends with its exit status and summary line. It
exits 0 only when every row is as it must be (see ``rows.py``) and the hub without faults passes. Rows run in a
thread pool, the longest first (``schedule.py``): each row's work happens in child processes, forked from fork servers
that imported their modules once (``launchers.py``), so threads are enough to use every core.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from ..settings.argparsing import OneLineErrorParser, find_checkout, positive_count, say
from .matrix import run_row
from .report import write_report
from .rows import NO_FAULT, Outcome, row_names
from .runner import launcher_for
from .schedule import longest_first, previous_seconds
from .scores import scores

DEFAULT_OUT = Path("reports/selfcheck.md")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="python -m oxen_contract.selfcheck",
        description="Run the contract suite and plain schemathesis against the local hub with each fault and benign "
        "variant, and write the mutation report (Markdown, and JSON beside it).",
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="run only this fault or verdict case; repeatable"
    )
    parser.add_argument(
        "--jobs",
        type=positive_count("job"),
        default=os.cpu_count() or 1,
        metavar="N",
        help="rows run at once (default: CPU count)",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, metavar="PATH", help=f"Markdown report path (default: {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--no-schemathesis",
        action="store_true",
        help="skip the plain schemathesis side (never run against hostile hubs: it deletes whatever it finds)",
    )
    parser.add_argument(
        "--first-failure",
        action="store_true",
        help="stop each fault's suite run at its first failing test (-x): faster; 'caught by' names that test alone",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    known = row_names()
    unknown = [name for name in args.only if name not in known]
    if unknown:
        parser.error(f"unknown fault or verdict case {unknown[0]!r} (see oxen-local-hub --list-faults)")
    try:
        root = find_checkout()
    except FileNotFoundError as exc:
        parser.error(str(exc))
    names = [NO_FAULT, *(name for name in known if not args.only or name in args.only)]
    order = longest_first(names, previous_seconds(args.out.with_suffix(".json")))
    started = time.monotonic()
    done: dict[str, Outcome] = {}
    launcher = launcher_for(root)
    try:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = {
                pool.submit(
                    run_row,
                    name,
                    schemathesis=not args.no_schemathesis,
                    root=root,
                    launcher=launcher,
                    first_failure=args.first_failure,
                ): name
                for name in order
            }
            for future in as_completed(futures):
                outcome = future.result()
                done[outcome.name] = outcome
                seconds = outcome.suite.seconds + (outcome.strict.seconds if outcome.strict else 0.0)
                say(f"[{len(done)}/{len(names)}] {outcome.name} ({outcome.kind}): {outcome.verdict} ({seconds:.1f} s)")
    finally:
        launcher.close()
    wall = time.monotonic() - started
    outcomes = [done[name] for name in names]
    command = shlex.join(["python", "-m", "oxen_contract.selfcheck", *(argv if argv is not None else sys.argv[1:])])
    text = write_report(outcomes, args.out, wall_seconds=round(wall, 1), command=command, jobs=args.jobs)
    say("")
    say(text)
    say(f"written: {args.out} and {args.out.with_suffix('.json')}")
    return 0 if scores(outcomes).perfect else 1


if __name__ == "__main__":
    sys.exit(main())
