"""The verdict cases: each way issue 19 saw a run end misleadingly, as a hub and a setup, with the ending it must have.

A fault row proves the suite *notices* a broken promise; a verdict case proves the run *ends* as a release manager
needs: the right exit status, a summary line that says what happened, no crash, no harm. Each case names the local
hub's faults (or none), what the self-check arranges around the run (extra arguments, local files, a URL, a signal),
the exit status (``verdict.py``) and the words its summary line must hold, words its output must hold elsewhere, and
the deploy POSTs the hub's audit must count where that is the point. ``verdict_runs.py`` runs them; a case holds when
every demand is met, the run prints no INTERNALERROR or Python traceback, and the hub's audit shows no harm.

The summary line is the plugin's last ``[oxen-contract] ... (exit status N)`` line; a usage error has none, and its
one ``ERROR:`` line (pytest's) or ``Error:`` line (the ``oxen-contract`` command's) is judged instead.

``ISSUE_CASES`` maps each case of issue 19's "Why" to the rows that guard it: verdict cases, or faults of the catalog
where the fault matrix already judges what the case demands (undecodable JSON must fail naming ``rule:body-is-json``,
which is what a fault row is: exit 1 naming the fault's clause).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "ISSUE_CASES",
    "KNOWN_VERDICT_FAILURES",
    "NEVER_SHOWN",
    "VERDICT_CASES",
    "VERDICT_CASES_BY_NAME",
    "Command",
    "Setup",
    "Target",
    "VerdictCase",
]

# What no run may print, whatever its case: a hook that raised, or an exception no rule explained.
NEVER_SHOWN = ("INTERNALERROR", "Traceback (most recent call last)")


class Target(enum.Enum):
    """Where the run is pointed."""

    HUB = "the hub's URL"
    API_AI = "the hub's URL with /api/ai appended (the OpenAI SDK's base URL)"
    BELOW_PREFIX = "the root of a hub that serves the API only below /oxen, as behind a gateway"
    REPLAY = "no hub: the cassettes, replayed"


class Setup(enum.Enum):
    """What the self-check arranges before or during the run, beyond arguments."""

    LEDGER_LINE_AT_NULL = 'the ledger holds one line, an earlier run\'s deploy intent whose "at" is null'
    LEDGER_IS_A_FOLDER = "--ledger names a folder"
    BASELINE = "--baseline: the JSON report of a run against the hub without faults"
    BASELINE_CLAUSE_NULL = "--baseline: that report with its first clause null"
    BASELINE_TRUNCATED = "--baseline: that report cut off halfway"
    INTERRUPT = "Ctrl-C (SIGINT to the run) once the hub's audit shows the run's first deploy"


class Command(enum.Enum):
    """How the suite is started."""

    # `python -m pytest tests/contract` at the checkout's root, with the matrix's live options (runner.suite_args).
    SUITE = "pytest tests/contract"
    # The `oxen-contract` console entry point, in a fresh interpreter (nothing imported before it, as installed), from
    # an empty working folder (no project config: pytest's defaults, not this checkout's filterwarnings).
    CLI = "oxen-contract, fresh, from an empty folder"


@dataclass(frozen=True, slots=True)
class VerdictCase:
    name: str
    # What issue 19 saw go wrong, in a few words.
    why: str
    exit_status: int
    # Words the summary line must hold.
    summary: tuple[str, ...]
    faults: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    setup: Setup | None = None
    target: Target = Target.HUB
    command: Command = Command.SUITE
    # Instead of the matrix's --fine-tune (runner.FINE_TUNE).
    fine_tune: str | None = None
    # Words the output must hold, anywhere.
    output: tuple[str, ...] = ()
    # The deploy POSTs the hub's audit must count.
    deploy_posts: int | None = None

    @property
    def arranged(self) -> str:
        """The hub and everything around the run, in words (the report's column)."""
        parts = [f"faults {', '.join(self.faults)}" if self.faults else "no fault"]
        parts += [self.target.value] if self.target is not Target.HUB else []
        parts += [f"`{' '.join(self.args)}`"] if self.args else []
        parts += [f"`--fine-tune {self.fine_tune}`"] if self.fine_tune else []
        parts += [self.setup.value] if self.setup else []
        parts += [f"started as {self.command.value}"] if self.command is not Command.SUITE else []
        return "; ".join(parts)


_HELD = "CONTRACT HELD"
_VIOLATIONS = "CONTRACT VIOLATIONS"
_SETUP = "SETUP ERROR"
_RATE_LIMITED = "rate-limited (429 past retries while the hub answered)"
_SEARCH = "/api/ai/models/search"
# The delete answer's `created` a string: caught by the delete lifecycle, the run's first test.
_VIOLATION = "delete-created-as-string"
# A correct hub (benign) that never sends showcase or the price maps, and says description null.
_NEVER_SENT = "optional-fields-never-sent"
# A fine-tune the hub does not have (a typo of the sandbox's repo).
_MISTYPED_FINE_TUNE = "alice/sandbox/ft-typo"
_BASELINE_WARNING = ("warning: baseline report", "the report is written without a baseline")

VERDICT_CASES: tuple[VerdictCase, ...] = (
    # 1. A violation, then an outage-like rate limit.
    VerdictCase(
        "verdict-violation-then-rate-limited",
        "a contract failure seen while the hub answered was hidden behind a route's later 429s (HUB UNAVAILABLE)",
        1,
        (_VIOLATIONS, _RATE_LIMITED, _SEARCH),
        faults=(_VIOLATION, "search-rate-limited"),
    ),
    VerdictCase(
        "verdict-rate-limited-route",
        "a route answering 429 past its retries while the hub answers, and no violation: unavailable, route named",
        75,
        ("HUB UNAVAILABLE", _RATE_LIMITED, _SEARCH, "no contract failure was seen while it answered"),
        faults=("search-rate-limited",),
    ),
    # 2. Nothing checked, yet CONTRACT HELD.
    VerdictCase(
        "verdict-max-requests-spent",
        "--max-requests spent in the first test: 86 tests skipped, yet CONTRACT HELD, exit 0",
        78,
        (_SETUP, "test(s) skipped because --max-requests ran out", "--allow-partial"),
        args=("--max-requests", "14"),
    ),
    VerdictCase(
        "verdict-max-requests-spent-allowed",
        "the same run, with --allow-partial: a partial pass that says what went unchecked",
        0,
        ("PARTIAL PASS (--allow-partial)", "test(s) skipped when --max-requests ran out"),
        args=("--max-requests", "14", "--allow-partial"),
    ),
    # 3. A crash with no verdict. The 11th request is the delete lifecycle's first DELETE, whose answer fails: the
    # failure comes as the budget is spent, and a suite that probes the hub on that spent budget raises Skipped in a
    # hook (INTERNALERROR, exit 3). A change in the suite's first requests moves the cap that hits it.
    VerdictCase(
        "verdict-failure-as-max-requests-runs-out",
        "a failure on the last request --max-requests allowed: the probe raised Skipped in a hook (INTERNALERROR)",
        1,
        (_VIOLATIONS,),
        faults=(_VIOLATION,),
        args=("--max-requests", "11"),
        output=("--max-requests 11 reached",),
    ),
    # 4. A local file's problem blamed on the hub.
    VerdictCase(
        "verdict-ledger-line-at-null",
        'a ledger line with "at": null: 87 tests failed as CONTRACT VIOLATIONS',
        0,
        (_HELD,),
        setup=Setup.LEDGER_LINE_AT_NULL,
        output=("ledger:1 is not a ledger entry",),
    ),
    VerdictCase(
        "verdict-ledger-is-a-folder",
        "--ledger naming a folder: CONTRACT VIOLATIONS",
        4,
        ("--ledger", "it is a folder"),
        setup=Setup.LEDGER_IS_A_FOLDER,
    ),
    VerdictCase(
        "verdict-baseline-clause-null",
        "a baseline whose clauses hold a null: AttributeError at session end, exit 1, no report",
        0,
        (_HELD,),
        setup=Setup.BASELINE_CLAUSE_NULL,
        output=_BASELINE_WARNING,
    ),
    VerdictCase(
        "verdict-baseline-truncated",
        "a truncated baseline: exit 4, every later night too",
        0,
        (_HELD,),
        setup=Setup.BASELINE_TRUNCATED,
        output=_BASELINE_WARNING,
    ),
    # 5. A strict run fails a correct hub; a field that stopped coming is told against a baseline.
    VerdictCase(
        "verdict-strict-passes-optional-fields-never-sent",
        "--strict-contract failed a correct hub that never sends optional fields and says description null",
        0,
        (_HELD,),
        faults=(_NEVER_SENT,),
        args=("--strict-contract",),
    ),
    VerdictCase(
        "verdict-strict-passes-required-fields-only",
        "the same, for a hub that sends only the four required fields",
        0,
        (_HELD,),
        faults=("optional-fields-absent",),
        args=("--strict-contract",),
    ),
    VerdictCase(
        "verdict-strict-fails-fields-that-stopped-coming",
        "documented fields the baseline run saw stop coming: a failure under --strict-contract",
        1,
        (_VIOLATIONS, "rule:documented-fields-keep-coming", "no longer came", "showcase"),
        faults=(_NEVER_SENT,),
        args=("--strict-contract",),
        setup=Setup.BASELINE,
    ),
    VerdictCase(
        "verdict-fields-that-stopped-coming-warn",
        "the same without --strict-contract: the run's verdict, and a warning",
        0,
        (_HELD, "documented field(s) that stopped coming"),
        faults=(_NEVER_SENT,),
        setup=Setup.BASELINE,
        output=("no longer came", "a failure under --strict-contract"),
    ),
    # 6. A wrong hub URL reads as a broken hub.
    VerdictCase(
        "verdict-hub-url-ends-in-api-ai",
        "--hub-url http://HOST/api/ai: 2,190 lines of 'listModels answered 404', CONTRACT VIOLATIONS",
        4,
        ("--hub-url takes the hub's root",),
        target=Target.API_AI,
    ),
    VerdictCase(
        "verdict-hub-url-not-the-hubs-root",
        "a hub URL whose list answers 404 (the API lives below a path): CONTRACT VIOLATIONS",
        78,
        (_SETUP, "answered 404", "--hub-url must be the hub's root"),
        target=Target.BELOW_PREFIX,
    ),
    # 7. A warning as error crashes the tool as "violations". The warning was pytest's "Module already imported so
    # cannot be rewritten: oxen_contract", which only an installed package draws (tox installs it; an editable
    # checkout's modules are marked for no rewriting): from a checkout the case holds -W error to the rest.
    VerdictCase(
        "verdict-warnings-are-errors",
        "-W error: PytestAssertRewriteWarning, a traceback, exit 1",
        0,
        (_HELD,),
        args=("-W", "error"),
        command=Command.CLI,
    ),
    # 8. Narrowing a run is a partial pass, not a setup error.
    VerdictCase(
        "verdict-narrowed-live-run",
        "-k test_list: SETUP ERROR advising --fine-tune",
        0,
        ("PARTIAL PASS (narrowed: ", "test(s) deselected"),
        args=("-k", "test_list"),
    ),
    VerdictCase(
        "verdict-narrowed-replay",
        "oxen-contract --replay -k test_list: SETUP ERROR advising --fine-tune, which cannot apply in replay",
        0,
        ("PARTIAL PASS (narrowed: ", "test(s) deselected", "replay"),
        args=("--replay", "-k", "test_list"),
        target=Target.REPLAY,
        command=Command.CLI,
    ),
    # 10. Ctrl-C. The delete hangs past --request-timeout, so the signal lands mid-test with a model on the hub.
    VerdictCase(
        "verdict-interrupted",
        "Ctrl-C: 'the run ended with pytest status 2', nothing about the verdict or cleanup",
        2,
        ("INTERRUPTED: no verdict", "deleted", "left"),
        faults=("delete-hangs",),
        setup=Setup.INTERRUPT,
    ),
    # 11. A fine-tune the hub does not have: one deploy, one setup error naming it.
    VerdictCase(
        "verdict-fine-tune-not-found",
        "a mistyped fine-tune: all 3 deploys spent on the same 404, 190 lines of traceback",
        78,
        (_SETUP, _MISTYPED_FINE_TUNE, "answered 404"),
        fine_tune=_MISTYPED_FINE_TUNE,
        deploy_posts=1,
    ),
)

VERDICT_CASES_BY_NAME: MappingProxyType[str, VerdictCase] = MappingProxyType({c.name: c for c in VERDICT_CASES})

# Issue 19's "Why", case by case -> the rows that guard it (verdict cases, or faults the fault matrix judges).
ISSUE_CASES: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "a violation reported as an outage": ("verdict-violation-then-rate-limited", "verdict-rate-limited-route"),
        "nothing checked, yet CONTRACT HELD": ("verdict-max-requests-spent", "verdict-max-requests-spent-allowed"),
        "a crash with no verdict": ("verdict-failure-as-max-requests-runs-out",),
        "a local file's problem blamed on the hub": (
            "verdict-ledger-line-at-null",
            "verdict-ledger-is-a-folder",
            "verdict-baseline-clause-null",
            "verdict-baseline-truncated",
        ),
        "a strict run fails a correct hub": (
            "verdict-strict-passes-optional-fields-never-sent",
            "verdict-strict-passes-required-fields-only",
            "verdict-strict-fails-fields-that-stopped-coming",
            "verdict-fields-that-stopped-coming-warn",
        ),
        "a wrong hub URL reads as a broken hub": (
            "verdict-hub-url-ends-in-api-ai",
            "verdict-hub-url-not-the-hubs-root",
        ),
        "a warning as error crashes the tool": ("verdict-warnings-are-errors",),
        "narrowing a run is a setup error": ("verdict-narrowed-live-run", "verdict-narrowed-replay"),
        "deeply nested JSON (and NaN, and invalid UTF-8) crash": (
            "search-body-nested-too-deep",
            "activate-body-holds-nan",
            "deactivate-body-not-utf8",
        ),
        "Ctrl-C says nothing": ("verdict-interrupted",),
        "a fine-tune that cannot be deployed is tried three times": ("verdict-fine-tune-not-found",),
    }
)

# Verdict cases the suite is known to end wrongly, and why: the matrix lets such a row fail (a non-strict xfail) and
# the report marks it, until the suite ends it as demanded.
KNOWN_VERDICT_FAILURES: MappingProxyType[str, str] = MappingProxyType({})
