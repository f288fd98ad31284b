"""``python -m oxen_contract.mutants``: the mutation run, its report, and how the survivors stand in the ledger.

Prepare a fresh copy of the project in ``--work``, run the suite once unmutated under coverage (it must pass), run
mutmut, and write ``reports/mutants.md`` and ``.json``. ``--report-only`` rewrites the report from the last run's work
directory (after the ledger changed, say) without testing anything. Exits 0 once the report is written, 1 when the
clean run or mutmut failed; whether every survivor is in the ledger is ``tests/mutants/test_ledger.py``'s to say.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from ..argparsing import OneLineErrorParser, positive_count
from .ledger import Accounting, account, read_ledger
from .report import RunInfo, write_reports
from .results import read_mutants
from .run import Settings, clean_run, find_root, prepare, read_coverage, run_mutmut, settings

DEFAULT_WORK = Path("build/mutmut")
DEFAULT_OUT = Path("reports/mutants.md")
DEFAULT_LEDGER = Path("contracts/MUTANTS.md")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="python -m oxen_contract.mutants",
        description="Run mutmut over the local hub with the contract suite as the test, and write the mutation report "
        "(Markdown, and JSON beside it).",
    )
    parser.add_argument(
        "--work", type=Path, default=DEFAULT_WORK, metavar="DIR", help=f"scratch copy (default: {DEFAULT_WORK})"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, metavar="PATH", help=f"Markdown report path (default: {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--ledger", type=Path, default=DEFAULT_LEDGER, metavar="PATH", help=f"the ledger (default: {DEFAULT_LEDGER})"
    )
    parser.add_argument(
        "--max-children",
        type=positive_count("worker"),
        default=os.cpu_count() or 1,
        metavar="N",
        help="mutants tested at once (default: CPU count)",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the report from the work directory's last run"
    )
    return parser


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        root = find_root()
        config = settings(root)
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    work = args.work if args.work.is_absolute() else root / args.work
    out = args.out if args.out.is_absolute() else root / args.out
    ledger_path = args.ledger if args.ledger.is_absolute() else root / args.ledger
    seconds: dict[str, float] = {}
    if args.report_only:
        if not (work / "mutants").is_dir():
            parser.error(f"no mutmut run in {work}: run without --report-only first")
    else:
        status = _test(root, work, config, args.max_children, seconds)
        if status:
            return status
    coverage = read_coverage(work) or None
    mutants = read_mutants(work, coverage)
    accounting: Accounting | None = None
    if ledger_path.is_file():
        ledger = read_ledger(ledger_path)
        accounting = account(ledger, (mutant for mutant in mutants if mutant.outcome == "survived"))
    info = RunInfo(
        command=shlex.join(["python", "-m", "oxen_contract.mutants", *(argv if argv is not None else sys.argv[1:])]),
        test_command=shlex.join(config.test_command),
        mutmut=f"mutmut {metadata.version('mutmut')}" if _installed("mutmut") else "mutmut",
        modules=config.only_mutate,
        max_children=args.max_children,
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        seconds=seconds or _previous_seconds(out),
    )
    figures = write_reports(info, mutants, accounting, out)
    _say(
        f"{figures['made']} mutants made, {figures['reached']} reached, {figures['killed']} killed "
        f"({figures['killed_by']}), {figures['survived']} survived "
        f"({figures['survived_allowed']} allowed by the docs, {figures['survived_gaps']} gaps, "
        f"{figures['survived_in_neither_list']} in neither list), {figures['not_reached']} not reached"
    )
    if accounting is not None and accounting.unaccounted:
        _say(f"{len(accounting.unaccounted)} survivor(s) in neither list of {args.ledger}: see the report")
    _say(f"written: {out} and {out.with_suffix('.json')}")
    return 0


def _test(root: Path, work: Path, config: Settings, max_children: int, seconds: dict[str, float]) -> int:
    started = time.monotonic()
    _say(f"copying the project to {work}")
    try:
        prepare(root, work)
    except OSError as exc:
        _say(f"cannot prepare the mutation run: {exc}")
        return 1
    _say(f"clean run, under coverage: {shlex.join(config.test_command)}")
    status = clean_run(work, config, work / "clean-run.log")
    seconds["clean run"] = round(time.monotonic() - started, 1)
    if status != 0:
        _say(f"the contract suite fails without any mutant (exit {status}): see {work / 'clean-run.log'}")
        return 1
    started = time.monotonic()
    _say(f"mutmut run --max-children {max_children} (log: {work / 'mutmut.log'})")
    status = run_mutmut(work, work / "mutmut.log", max_children=max_children, say=_say)
    seconds["mutmut"] = round(time.monotonic() - started, 1)
    if status != 0:
        _say(f"mutmut failed (exit {status}): see {work / 'mutmut.log'}")
        return 1
    return 0


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _previous_seconds(out: Path) -> dict[str, float]:
    try:
        previous = json.loads(out.with_suffix(".json").read_text("utf-8")).get("seconds", {})
    except (OSError, ValueError):
        return {}
    return {str(phase): float(value) for phase, value in previous.items()}


if __name__ == "__main__":
    sys.exit(main())
