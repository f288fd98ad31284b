"""What one row of the fault matrix found, what that means, and how rows travel as JSON.

A row is a hub with one fault (or benign variant, hostile hub, or none: ``no-fault``) and every run against it:
the contract suite, plain schemathesis beside it, the suite again under ``--strict-contract`` for a strict-only
fault, and the hub's audit where the namespaces hold models the run did not make. A verdict case (``verdicts.py``) is
a row too: a hub and a setup the self-check arranges, judged by the suite's exit status, summary line and output
(``VerdictCheck``). ``runner.py`` and ``verdict_runs.py`` produce rows,
``report.py`` renders them; pytest-xdist workers hand them to the controller as one JSON file each.

What a row must show depends on the kind of its fault (``Fault.kind``):

==============  =======================================================================================================
kind            the row is ok when
==============  =======================================================================================================
fault           the suite exits 1 naming a clause of the fault's row of ``EXPECTED_CLAUSES`` (or exits 78 naming it,
                for a fault of ``SETUP_ERRORS``)
strict-only     the suite exits 0 by default, and a second run with ``--strict-contract`` exits 1 naming the clause
benign          the suite exits 0 (so does ``no-fault``, the hub without faults)
hostile         the suite ends with the verdict ``HOSTILE_ENDS`` names (its exit status, 1 or 78, and the words
                of its output), with no INTERNALERROR or Python traceback, within ``HOSTILE_SECONDS``, and the
                hub's audit shows no harm: no deploy POST past ``--max-provisions``; no DELETE reached a model the
                run did not make (pre-seeded, or a colleague's that appeared during the run); every model the run's
                deploys made is deleted or named in a ``LEAK '<id>'`` line of the suite's output; no spelling of a
                key (as sent, JSON-escaped, percent-encoded, as Basic credentials) in its output or report. Plain
                schemathesis is not run (it follows redirects and deletes what it finds)
verdict         the suite exits with the case's status, its summary line holds the case's words (and its output the
                case's other words), it prints no INTERNALERROR and no Python traceback, the hub's audit counts the
                deploy POSTs the case names, and it does no harm (as for a hostile hub). Plain schemathesis is not run
==============  =======================================================================================================

A benign hub whose namespaces hold models the run did not make (``benign-crowded-namespaces``) is judged on the audit
too. The hub hands its audit over as a JSON file (``--audit PATH``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .expected import HOSTILE_ENDS, SETUP_ERRORS

__all__ = [
    "HOSTILE_SECONDS",
    "NO_FAULT",
    "Outcome",
    "Safety",
    "SchemathesisRun",
    "SuiteRun",
    "VerdictCheck",
    "exit_words",
    "load_outcomes",
    "outcome_from_json",
    "row_names",
    "write_outcome",
]

NO_FAULT = "no-fault"
# A hostile row's verdict must come within this: a handful of --request-timeout waits (the self-check's is 3 s) and a
# loaded machine fit many times over; a wait a lure stretches (a head dripped in at a byte a second) does not.
HOSTILE_SECONDS = 120.0
_EXIT_WORDS = {
    1: "contract violations",
    2: "interrupted",
    4: "usage error",
    70: "suite error",
    75: "hub unavailable",
    78: "setup error",
}


@dataclass(frozen=True, slots=True)
class SuiteRun:
    """What the contract suite did against one hub."""

    exit_code: int
    seconds: float
    first_failure_seconds: float | None
    clauses: tuple[str, ...]
    failed_tests: tuple[str, ...]
    caught_by: str | None
    tail: str
    # The plugin's verdict line, without its "[oxen-contract]" prefix; "" when it printed none.
    verdict_line: str = ""
    # The clause of each warning the run's contract report lists (lenient inputs, and rules a careful hub keeps
    # where the docs are silent): failures only under --strict-contract. None without a readable report.
    warned: tuple[str, ...] | None = None
    # The ids the output names in "[oxen-contract] LEAK 'ID': ..." lines: models the run says it left, or deleted late.
    leaked: tuple[str, ...] = ()
    # Where a spelling of the run's keys appeared in its output or report ("output: percent-encoded"): never anywhere.
    key_shown: tuple[str, ...] = ()
    # Run with -x (``--first-failure``): stopped at its first failing test, so ``failed_tests`` and ``clauses`` are
    # that test's alone.
    first_failure_only: bool = False
    # Of the words the row demands its output say (``HOSTILE_ENDS``), those it said; and the INTERNALERROR or traceback
    # it showed (never: an expected condition prints none).
    said: tuple[str, ...] = ()
    crashed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Safety:
    """What the hub's audit shows the suite did to models it did not make, how many deploys it sent, what it left."""

    deploy_posts: int
    max_provisions: int
    # The models the run's deploys really made, whatever their answers said.
    created: tuple[str, ...]
    # Live custom models that some DELETE named though no deploy of this hub created them (answered or refused):
    # pre-seeded ones, and a colleague's that appeared during the run.
    reached_others: tuple[str, ...]
    # Models the run did not make (held before any request, or appeared during it) that a DELETE really deleted.
    preexisting_deleted: tuple[str, ...]
    # Why the audit could not be read; a run whose effects are unknown is not safe.
    error: str = ""
    # Models that appeared during the run by no request of it (a colleague's deploy).
    appeared: tuple[str, ...] = ()
    # Models the run's deploys made that are still there and that no LEAK line of its output names: left unknowingly.
    unaccounted: tuple[str, ...] = ()
    # Where the suite's output or report showed a spelling of a key (a hub that echoes it): "output: percent-encoded".
    key_shown: tuple[str, ...] = ()

    @property
    def safe(self) -> bool:
        return not self.harm

    def _whose(self, model_id: str) -> str:
        return "a colleague made during the run" if model_id in self.appeared else "the hub held before the run"

    @property
    def harm(self) -> tuple[str, ...]:
        """What the run did that it must not (or why that is unknown), one phrase each; empty when it did no harm."""
        harm = [f"the hub's audit could not be read: {self.error}"] if self.error else []
        harm += [f"DELETE reached {model_id!r}, which no deploy of the run created" for model_id in self.reached_others]
        harm += [f"deleted {model_id!r}, which {self._whose(model_id)}" for model_id in self.preexisting_deleted]
        if self.deploy_posts > self.max_provisions:
            harm.append(f"{self.deploy_posts} deploy POSTs, over --max-provisions {self.max_provisions}")
        harm += [
            f"left {model_id!r}, which a deploy of the run made, neither deleted nor named in a LEAK line"
            for model_id in self.unaccounted
        ]
        harm += [f"a key was shown ({where})" for where in self.key_shown]
        return tuple(harm)


@dataclass(frozen=True, slots=True)
class SchemathesisRun:
    """What plain ``st run --checks all`` reported against one hub: one ``CODE title: operation`` per failure."""

    exit_code: int
    seconds: float
    failures: tuple[str, ...]
    tail: str


@dataclass(frozen=True, slots=True)
class VerdictCheck:
    """What a verdict case demands of its run, and what the run fell short in: it holds when nothing is listed."""

    exit_status: int
    # The words its summary line must hold.
    words: tuple[str, ...]
    # The line judged: the plugin's verdict line, else a usage error's line; "" when the run printed neither.
    summary: str
    # Demanded words the run did not print (in the summary line, or in its output), and demands it could not meet.
    missing: tuple[str, ...] = ()
    # What must never show and did: INTERNALERROR, a Python traceback.
    shown: tuple[str, ...] = ()
    # The deploy POSTs the hub's audit must count; None: any number within --max-provisions.
    deploy_posts: int | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One row: the fault (or benign variant, or ``no-fault``), what the suite must name, and every run of it."""

    name: str
    # Fault.kind ("fault", "strict-only", "benign", "hostile"), "no-fault", or "verdict" (a verdict case).
    kind: str
    rule: str
    expected: tuple[str, ...]
    suite: SuiteRun
    schemathesis: SchemathesisRun | None
    # The second run of a strict-only row, with --strict-contract.
    strict: SuiteRun | None = None
    # The hub's audit, for rows whose namespaces hold models the run did not make, and for verdict cases.
    safety: Safety | None = None
    # A verdict case's demands and shortfalls.
    check: VerdictCheck | None = None

    @property
    def benign(self) -> bool:
        return self.kind == "benign"

    @property
    def harmful(self) -> bool:
        """A fault the suite must fail on by default."""
        return self.kind == "fault"

    @property
    def judged(self) -> SuiteRun | None:
        """The run whose failure catches the fault: the --strict-contract run of a strict-only row, else the suite."""
        return self.strict if self.kind == "strict-only" else self.suite

    @property
    def named(self) -> tuple[str, ...]:
        """The expected clauses the judged run's output names."""
        run = self.judged
        return () if run is None else tuple(clause for clause in self.expected if clause in run.clauses)

    @property
    def covered(self) -> tuple[str, ...]:
        """The clauses this row proves the suite enforces: for a caught fault, those of its row the output names."""
        return self.named if self.verdict == "caught" else ()

    @property
    def verdict(self) -> str:
        """One word or two, by kind (see the module docstring); ``ok`` says which are good."""
        if self.kind == "hostile":
            return self._hostile_verdict()
        if self.kind == "verdict":
            return self._case_verdict()
        if self.kind == "fault":
            return self._caught(self.suite)
        # A strict-only fault, a benign variant and the hub without faults must all pass by default.
        code = self.suite.exit_code
        if code != 0:
            return {1: "false alarm", 78: "setup error"}.get(code, "error")
        if self.safety is not None and not self.safety.safe:
            return "harmed"
        return self._caught(self.strict) if self.kind == "strict-only" else "passed"

    def _caught(self, run: SuiteRun | None) -> str:
        if run is None:
            return "not run"
        if not self.expected:
            return "unmapped"
        if run.exit_code == 0:
            return "missed"
        if run.exit_code == 1 or (run.exit_code == 78 and self.name in SETUP_ERRORS):
            return "caught" if self.named else "unnamed"
        return {78: "setup error"}.get(run.exit_code, "error")

    def _hostile_verdict(self) -> str:
        if self.safety is None:
            return "error"
        if not self.safety.safe:
            return "harmed"
        code = self.suite.exit_code
        if code in (1, 78) and self.suite.seconds > HOSTILE_SECONDS:
            return "too slow"
        if self.suite.crashed:
            return "crashed"
        status, words = HOSTILE_ENDS.get(self.name, (None, ""))
        if code in (1, 78) and status is not None and code != status:
            return "wrong exit"
        if code in (1, 78) and words not in self.suite.said:
            return "unsaid"
        return "safe" if code in (1, 78) else "missed" if code == 0 else "error"

    def _case_verdict(self) -> str:
        check = self.check
        if check is None:
            return "not run"
        if check.shown:
            return "crashed"
        if self.suite.exit_code != check.exit_status:
            return "wrong exit"
        if check.missing:
            return "unsaid"
        posts = None if self.safety is None else self.safety.deploy_posts
        if check.deploy_posts is not None and posts != check.deploy_posts:
            return "audit differs"
        return "harmed" if self.safety is not None and not self.safety.safe else "held"

    @property
    def ok(self) -> bool:
        return self.verdict in ("caught", "passed", "safe", "held")


def row_names() -> list[str]:
    """Every row but ``no-fault``, in report order: the catalog's entries, then the verdict cases.

    An outage of the catalog is no row of its own: it only ever shows in verdict cases, beside a fault or alone.
    """
    from ..hub import FAULTS
    from .verdicts import VERDICT_CASES

    return [fault.name for fault in FAULTS if fault.kind != "outage"] + [case.name for case in VERDICT_CASES]


def exit_words(code: int) -> str:
    """An exit status of the suite with what it means (verdict.py)."""
    word = "passed" if code == 0 else _EXIT_WORDS.get(code, "killed" if code < 0 else "run did not complete")
    return f"exit {code} ({word})"


def _suite_from_json(suite: dict[str, Any] | None) -> SuiteRun | None:
    if suite is None:
        return None
    warned = suite.get("warned")
    lists = {
        key: tuple(suite.get(key, ())) for key in ("clauses", "failed_tests", "leaked", "key_shown", "said", "crashed")
    }
    return SuiteRun(**{**suite, **lists, "warned": None if warned is None else tuple(warned)})


def _safety_from_json(data: dict[str, Any]) -> Safety:
    lists = ("created", "reached_others", "preexisting_deleted", "appeared", "unaccounted", "key_shown")
    return Safety(**{**data, **{key: tuple(data.get(key, ())) for key in lists}})


def _check_from_json(data: dict[str, Any]) -> VerdictCheck:
    lists = ("words", "missing", "shown")
    return VerdictCheck(**{**data, **{key: tuple(data.get(key, ())) for key in lists}})


def outcome_from_json(data: dict[str, Any]) -> Outcome:
    plain = data.get("schemathesis")
    safety = data.get("safety")
    check = data.get("check")
    suite = _suite_from_json(data["suite"])
    assert suite is not None
    return Outcome(
        name=data["name"],
        kind=data["kind"],
        rule=data["rule"],
        expected=tuple(data["expected"]),
        suite=suite,
        schemathesis=None if plain is None else SchemathesisRun(**{**plain, "failures": tuple(plain["failures"])}),
        strict=_suite_from_json(data.get("strict")),
        safety=None if safety is None else _safety_from_json(safety),
        check=None if check is None else _check_from_json(check),
    )


def load_outcomes(directory: Path, order: Sequence[str] = ()) -> list[Outcome]:
    """Rows written one file each (``<name>.json``), in ``order`` (the catalog's), then by name."""
    rows = [outcome_from_json(json.loads(p.read_text(encoding="utf-8"))) for p in sorted(directory.glob("*.json"))]
    rank = {name: index for index, name in enumerate(order)}
    return sorted(rows, key=lambda o: (rank.get(o.name, len(rank)), o.name))


def write_outcome(outcome: Outcome, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{outcome.name}.json"
    path.write_text(json.dumps(asdict(outcome), indent=1), encoding="utf-8")
    return path
