"""Made-up rows of the matrix, for the tests of the self-check's parsing, judging and report."""

from __future__ import annotations

from dataclasses import replace

from oxen_contract.hub.faults import FAULTS_BY_NAME
from oxen_contract.selfcheck import EXPECTED_CLAUSES, NO_FAULT, Outcome
from oxen_contract.selfcheck.expected import HOSTILE_ENDS
from oxen_contract.selfcheck.rows import Safety, SchemathesisRun, SuiteRun, VerdictCheck
from oxen_contract.selfcheck.verdicts import VERDICT_CASES_BY_NAME


def suite_run(
    code: int,
    clauses: tuple[str, ...] = (),
    caught_by: str | None = None,
    warned: tuple[str, ...] = (),
    leaked: tuple[str, ...] = (),
) -> SuiteRun:
    failed = (caught_by,) if caught_by else ()
    verdict = f"CONTRACT HELD: 3 checks (exit status {code})"
    return SuiteRun(code, 5.0, 2.0 if code else None, clauses, failed, caught_by, "", verdict, warned, leaked)


def outcome(
    name: str,
    code: int,
    clauses: tuple[str, ...] = (),
    *,
    st: int = 1,
    benign: bool = False,
    strict: SuiteRun | None = None,
    safety: Safety | None = None,
    warned: tuple[str, ...] = (),
) -> Outcome:
    kind = NO_FAULT if name == NO_FAULT else "benign" if benign else FAULTS_BY_NAME[name].kind
    expected = EXPECTED_CLAUSES.get(name, ()) if kind in ("fault", "strict-only") else ()
    plain = SchemathesisRun(st, 6.0, ("ST103 Undocumented status code: DELETE /x",) if st else (), "")
    plain_run = None if kind == "hostile" else plain
    suite = suite_run(code, clauses, "tests/x.py::t", warned)
    if name in HOSTILE_ENDS:  # the run says what its lure calls for
        suite = replace(suite, said=(HOSTILE_ENDS[name][1],))
    return Outcome(name, kind, "rule in words", expected, suite, plain_run, strict=strict, safety=safety)


def safety(
    *,
    reached: tuple[str, ...] = (),
    deleted: tuple[str, ...] = (),
    deploys: int = 1,
    appeared: tuple[str, ...] = (),
    unaccounted: tuple[str, ...] = (),
) -> Safety:
    return Safety(deploys, 3, ("alice:sandbox/ft-1-1",), reached, deleted, appeared=appeared, unaccounted=unaccounted)


STRICT = "invalid-query-accepted"
STRICT_CLAUSE = "rule:invalid-input-is-refused"
PROD = "alice:sandbox/ft-1-prod"
COLLEAGUE = "alice:sandbox/ft-1-7"


def verdict_outcome(
    name: str,
    code: int,
    *,
    missing: tuple[str, ...] = (),
    shown: tuple[str, ...] = (),
    safety: Safety | None = None,
) -> Outcome:
    """A verdict case's row, its run ending with ``code``, short of ``missing`` and showing ``shown``."""
    case = VERDICT_CASES_BY_NAME[name]
    summary = f"{' '.join(case.summary)} (exit status {code})"
    check = VerdictCheck(case.exit_status, case.summary, summary, missing, shown, case.deploy_posts)
    run = SuiteRun(code, 5.0, None, (), (), None, "", summary)
    return Outcome(name, "verdict", case.why, (), run, None, safety=safety, check=check)
