"""``python -m oxen_contract.mutants``: the mutation run, its report, and how the survivors stand in the ledger.

Prepare a fresh copy of the project in ``--work``, run the suite once unmutated under coverage (it must pass), run
mutmut, play the differential probe (``probe.py``) against every survivor, and write ``reports/mutants.md`` and
``.json``. ``--report-only`` rewrites the report from the last run's work directory (after the ledger changed, say)
without testing anything; it probes again only if the probe's script changed since. Exits 0 once the report is
written, 1 when the clean run, mutmut or the probe failed; whether every survivor is in the ledger, and filed where
the probe bears it out, is ``tests/mutants/test_ledger.py``'s to say.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from ..settings.argparsing import OneLineErrorParser, find_checkout, positive_count, say
from .ledger import Accounting, account, read_ledger
from .report import RunInfo, write_reports
from .results import Mutant, read_mutants
from .run import TARGETS, Settings, clean_run, prepare, probe_mutants, read_coverage, run_mutmut, settings

# Where each target works, reports and keeps its ledger: (work directory, Markdown report, ledger).
DEFAULTS = {
    "hub": (Path("build/mutmut"), Path("reports/mutants.md"), Path("contracts/MUTANTS.md")),
    "safety": (Path("build/mutmut-safety"), Path("reports/mutants-safety.md"), Path("contracts/MUTANTS-safety.md")),
}


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="python -m oxen_contract.mutants",
        description="Run mutmut over the local hub with the contract suite as the test (or, --target safety, over "
        "the code that decides what a run may delete, with its unit tests), and write the mutation report (Markdown, "
        "and JSON beside it).",
    )
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="hub",
        help="hub: the local hub's answer-making modules, the contract suite as the test (default); safety: "
        "provenance, provisioning and the ledger, their unit tests as the test",
    )
    parser.add_argument(
        "--work", type=Path, metavar="DIR", help="scratch copy (default: build/mutmut, build/mutmut-safety)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help="Markdown report path (default: reports/mutants.md, reports/mutants-safety.md)",
    )
    parser.add_argument(
        "--ledger",
        type=Path,
        metavar="PATH",
        help="the ledger (default: contracts/MUTANTS.md, contracts/MUTANTS-safety.md)",
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        root = find_checkout()
        config = settings(root, args.target)
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    default_work, default_out, default_ledger = DEFAULTS[args.target]
    work, out, ledger_path = (
        given if given.is_absolute() else root / given
        for given in (args.work or default_work, args.out or default_out, args.ledger or default_ledger)
    )
    probed = args.target == "hub"
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
    started = time.monotonic()
    try:
        # The probe plays requests to the hub: the safety target's survivors are accounted for by reason alone.
        mutants = _probed(work, mutants) if probed else mutants
    except RuntimeError as exc:
        say(str(exc))
        return 1
    if probed and not args.report_only:
        seconds["probe"] = round(time.monotonic() - started, 1)
    accounting: Accounting | None = None
    if ledger_path.is_file():
        ledger = read_ledger(ledger_path)
        accounting = account(ledger, (m for m in mutants if m.outcome == "survived"), probed=probed)
    info = RunInfo(
        command=shlex.join(["python", "-m", "oxen_contract.mutants", *(argv if argv is not None else sys.argv[1:])]),
        test_command=shlex.join(config.test_command),
        mutmut=f"mutmut {metadata.version('mutmut')}" if _installed("mutmut") else "mutmut",
        modules=config.only_mutate,
        max_children=args.max_children,
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        seconds=seconds or _previous_seconds(out),
        target=args.target,
    )
    say(_summary(write_reports(info, mutants, accounting, out)))
    if accounting is not None and accounting.unaccounted:
        say(f"{len(accounting.unaccounted)} survivor(s) in neither list of {ledger_path.name}: see the report")
    say(f"written: {out} and {out.with_suffix('.json')}")
    return 0


def _summary(figures: dict[str, object]) -> str:
    """The run in one line: what was made, reached, killed and survived, and the kill rate that counts."""
    return (
        f"{figures['made']} mutants made, {figures['reached']} reached, {figures['killed']} killed "
        f"({figures['killed_by']}), {figures['survived']} survived "
        f"({figures['survived_equivalent']} equivalent, {figures['survived_allowed_by_clause']} allowed by a clause, "
        f"{figures['survived_misfiled']} misfiled, {figures['survived_gaps']} gaps, "
        f"{figures['survived_in_neither_list']} in neither list), {figures['not_reached']} not reached; "
        f"killed {figures['killed']} of the {figures['must_kill']} neither equivalent nor allowed "
        f"({figures['kill_rate_not_allowed']})"
    )


def _test(root: Path, work: Path, config: Settings, max_children: int, seconds: dict[str, float]) -> int:
    started = time.monotonic()
    say(f"copying the project to {work}")
    try:
        prepare(root, work, config)
    except OSError as exc:
        say(f"cannot prepare the mutation run: {exc}")
        return 1
    say(f"clean run, under coverage: {shlex.join(config.test_command)}")
    status = clean_run(work, config, work / "clean-run.log")
    seconds["clean run"] = round(time.monotonic() - started, 1)
    if status != 0:
        say(f"the contract suite fails without any mutant (exit {status}): see {work / 'clean-run.log'}")
        return 1
    started = time.monotonic()
    say(f"mutmut run --max-children {max_children} (log: {work / 'mutmut.log'})")
    status = run_mutmut(work, work / "mutmut.log", max_children=max_children, say=say)
    seconds["mutmut"] = round(time.monotonic() - started, 1)
    if status != 0:
        say(f"mutmut failed (exit {status}): see {work / 'mutmut.log'}")
        return 1
    return 0


def _probed(work: Path, mutants: list[Mutant]) -> list[Mutant]:
    """The mutants, each survivor with the differences the probe found (played again only if the script changed)."""
    script = hashlib.sha256(Path(__file__).with_name("probe.py").read_bytes()).hexdigest()
    survivors = [mutant.id for mutant in mutants if mutant.outcome == "survived"]
    kept = work / "probe" / "differences.json"
    try:
        saved = json.loads(kept.read_text("utf-8"))
    except (OSError, ValueError):
        saved = {}
    found: dict[str, list[str]] = saved.get("differences", {}) if saved.get("script") == script else {}
    missing = [mutant_id for mutant_id in survivors if mutant_id not in found]
    if missing:
        say(f"the differential probe: {len(missing)} survivor(s) against the clean hub (log: {work / 'probe.log'})")
        found.update(probe_mutants(work, missing, work / "probe.log")["differences"])
        kept.write_text(json.dumps({"script": script, "differences": found}, ensure_ascii=False) + "\n", "utf-8")
    return [
        dataclasses.replace(mutant, differences=tuple(found[mutant.id])) if mutant.id in found else mutant
        for mutant in mutants
    ]


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
