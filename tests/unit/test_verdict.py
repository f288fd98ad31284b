"""verdict.decide: one test per outcome branch, each on the facts that once got it wrong (issue 19)."""

from __future__ import annotations

from typing import Any

import pytest

from oxen_contract.run.verdict import (
    EXIT_HUB_UNAVAILABLE,
    EXIT_INTERRUPTED,
    EXIT_SETUP_ERROR,
    EXIT_SUITE_ERROR,
    RunFacts,
    counted,
    decide,
)

CHECKED = {"deleteModel": {200: 2, 404: 3}, "listModels": {200: 4}}


def _facts(**changes: Any) -> RunFacts:
    fields: dict[str, Any] = {"live": True, "answers": CHECKED, "checks": 120, "counts": {"passed": 85}}
    return RunFacts(**{**fields, **changes})


def test_a_run_that_checked_everything_and_saw_nothing_fail_holds() -> None:
    found = decide(_facts(counts={"passed": 85, "xfailed": 2, "subtests passed": 6}), 0)
    assert (found.outcome, found.exit_status) == ("contract held", 0)
    assert found.summary == (
        "CONTRACT HELD: 120 checks over 9 answers; deleteModel answers checked: 200×2, 404×3; "
        "85 passed, 2 xfailed, 6 subtests passed"
    )


def test_the_summary_line_says_what_the_report_holds_for_a_person() -> None:
    found = decide(_facts(attention=["2 warning(s)", "1 documented field(s) that stopped coming"]), 0)
    assert found.summary.endswith("; the report holds 2 warning(s), 1 documented field(s) that stopped coming")


def test_a_violation_seen_before_an_outage_is_still_a_violation_and_the_outage_is_said_after() -> None:
    found = decide(_facts(contract_failures=1, unavailable="GET h/api/ai/models answered 503"), 1)
    assert (found.outcome, found.exit_status) == ("contract violations", 1)
    assert found.summary.startswith(
        "CONTRACT VIOLATIONS: 1 test(s) found a violation; the hub became unavailable: GET h/"
    )


def test_a_violation_and_a_rate_limited_route_name_both() -> None:
    found = decide(_facts(contract_failures=1, rate_limited=["GET h/api/ai/models/search?search=a"]), 1)
    assert found.exit_status == 1 and "rate-limited (429 past retries while the hub answered): GET h/" in found.summary


def test_strict_findings_fail_the_run_without_a_failed_test() -> None:
    found = decide(_facts(strict_findings=["rule:documented-fields-keep-coming: 1 field"]), 0)
    assert found.exit_status == 1
    assert "(--strict-contract) rule:documented-fields-keep-coming" in found.summary


def test_an_exception_no_rule_explains_is_the_suite_s_own_fault() -> None:
    found = decide(_facts(suite_errors=["tests/contract/x.py::t: KeyError: 'data'"]), 1)
    assert (found.outcome, found.exit_status) == ("suite error", EXIT_SUITE_ERROR)
    assert "SUITE ERROR: the suite itself failed, not the hub: tests/contract/x.py::t: KeyError" in found.summary
    assert "traceback is in the test's report above" in found.summary


def test_an_outage_with_no_contract_failure_is_hub_unavailable() -> None:
    found = decide(_facts(unavailable="GET h/api/ai/models: ConnectError"), 1)
    assert (found.outcome, found.exit_status) == ("hub unavailable", EXIT_HUB_UNAVAILABLE)
    assert found.summary.startswith("HUB UNAVAILABLE: GET h/api/ai/models: ConnectError; no contract failure")


def test_a_route_rate_limited_while_the_hub_answers_is_named_as_such() -> None:
    found = decide(_facts(rate_limited=["GET h/api/ai/models/search"]), 1)
    assert found.exit_status == EXIT_HUB_UNAVAILABLE
    assert "rate-limited (429 past retries while the hub answered): GET h/api/ai/models/search" in found.summary


def test_a_setup_error_says_the_contract_could_not_be_checked() -> None:
    found = decide(_facts(setup_errors=["cannot provision a disposable model: ... answered 404"]), 1)
    assert (found.outcome, found.exit_status) == ("setup error", EXIT_SETUP_ERROR)
    assert found.summary.startswith("SETUP ERROR: the contract could not be checked: cannot provision")


def test_an_interrupted_run_gives_no_verdict_and_says_what_cleanup_did() -> None:
    said = "the run made 2 model(s) and deleted 1; left 1 ('a:b/c-2')"
    found = decide(_facts(interrupted=True, contract_failures=1, cleanup=said), 2)
    assert (found.outcome, found.exit_status) == ("interrupted", EXIT_INTERRUPTED)
    assert found.summary == f"INTERRUPTED: no verdict; {said}"


def test_a_run_pytest_could_not_complete_says_so() -> None:
    found = decide(_facts(), 3)
    assert (found.outcome, found.exit_status) == ("run did not complete", 3)


def test_tests_skipped_for_a_spent_request_cap_make_the_run_a_setup_error_not_held() -> None:
    found = decide(_facts(budget_skips=86, counts={"skipped": 86}), 0)
    assert (found.outcome, found.exit_status) == ("setup error", EXIT_SETUP_ERROR)
    assert "86 test(s) skipped because --max-requests ran out" in found.summary


def test_allow_partial_lets_a_capped_run_pass_as_partial() -> None:
    found = decide(_facts(budget_skips=3, allow_partial=True), 0)
    assert (found.outcome, found.exit_status) == ("partial pass", 0)
    assert "3 test(s) skipped when --max-requests ran out" in found.summary


def test_a_run_the_user_narrowed_is_a_partial_pass_saying_how_and_giving_no_advice() -> None:
    found = decide(_facts(narrowed="88 test(s) deselected", answers={"listModels": {200: 1}}), 0)
    assert (found.outcome, found.exit_status) == ("partial pass", 0)
    assert found.summary.startswith("PARTIAL PASS (narrowed: 88 test(s) deselected): nothing failed; deleteModel 200")
    assert "--fine-tune" not in found.summary


@pytest.mark.parametrize(
    ("replay", "advice"),
    [(False, "give the run a disposable model (--fine-tune"), (True, "the cassettes hold none of them")],
)
def test_an_unchecked_delete_operation_is_a_setup_error_with_advice_that_fits_the_mode(
    replay: bool, advice: str
) -> None:
    found = decide(_facts(answers={"listModels": {200: 1}}, replay=replay, live=not replay), 0)
    assert (found.outcome, found.exit_status) == ("setup error", EXIT_SETUP_ERROR)
    assert advice in found.summary
    assert ("--fine-tune" in found.summary) is not replay


def test_allow_partial_lets_an_unchecked_delete_operation_pass_saying_what_went_unchecked() -> None:
    found = decide(_facts(answers={"deleteModel": {404: 1}}, allow_partial=True), 0)
    assert (found.outcome, found.exit_status) == ("partial pass", 0)
    assert "deleteModel 200 answers were never checked" in found.summary


def test_counts_are_worded_in_pytest_s_order_with_unknown_categories_last() -> None:
    assert counted({"subtests passed": 6, "passed": 85, "xfailed": 2, "weird": 1}) == (
        "85 passed, 2 xfailed, 6 subtests passed, 1 weird"
    )
    assert counted({}) == "no tests ran"


def test_a_narrowed_run_names_the_skips_its_settings_chose() -> None:
    reason = "no disposable custom model: pass --fine-tune OWNER/REPO/FT_ID[@STEP]"
    found = decide(_facts(narrowed="only tests/contract/test_delete_lifecycle.py run", skip_reasons=[reason]), 0)
    assert found.exit_status == 0 and f"; skipped: {reason}" in found.summary


def test_tests_that_could_not_run_against_this_hub_make_a_partial_pass_that_says_why() -> None:
    reason = "retrieve answered 400 for this id, not 404: it is not sent to DELETE"
    found = decide(_facts(other_skips=[reason], counts={"passed": 75, "skipped": 10}), 0)
    assert (found.outcome, found.exit_status) == ("partial pass", 0)
    assert f"test(s) could not run against this hub: {reason}" in found.summary


def test_a_held_run_names_the_skips_its_settings_chose() -> None:
    reason = "protection probe: a broken hub would really delete the model; pass --allow-protection-probes to run it"
    found = decide(_facts(skip_reasons=[reason], counts={"passed": 81, "skipped": 4}), 0)
    assert found.outcome == "contract held" and found.summary.endswith(f"; skipped: {reason}")
