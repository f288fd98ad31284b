"""retries.py: a busy hub is waited for as it asks, within bounds; every attempt spends the run's request budget."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oxen_contract.retries import (
    MAX_RETRIES,
    MAX_RETRY_SECONDS,
    HubUnavailable,
    RequestBudget,
    retry_delay,
    send_with_retries,
)

Answer = tuple[int, dict[str, str]]


def _send(answers: list[Answer], budget: RequestBudget, slept: list[float]) -> Answer:
    replies: Iterator[Answer] = iter(answers)
    return send_with_retries(
        lambda: next(replies),
        lambda answer: answer[0],
        lambda answer: answer[1],
        budget=budget,
        sleep=slept.append,
        label="GET /api/ai/models",
    )


def test_retry_after_in_seconds_or_as_an_http_date_is_honoured_and_backoff_fills_in() -> None:
    assert retry_delay({"retry-after": "2"}, 0) == 2.0
    assert retry_delay({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0) == 0.0  # a date in the past: now
    assert retry_delay({"retry-after": "not a date"}, 2) == 2.0
    assert retry_delay({}, 0) == 0.5


def test_each_attempt_takes_one_request_from_the_budget() -> None:
    budget, slept = RequestBudget(None), []
    assert _send([(503, {}), (429, {"retry-after": "0"}), (200, {})], budget, slept) == (200, {})
    assert budget.sent == 3
    assert slept == [0.5, 0.0]


def test_a_429_after_the_last_retry_is_the_hub_unavailable() -> None:
    with pytest.raises(HubUnavailable, match="still answers 429"):
        _send([(429, {"retry-after": "0"})] * (MAX_RETRIES + 1), RequestBudget(None), [])


def test_a_wait_past_the_bound_is_not_taken_and_the_answer_stands() -> None:
    slept: list[float] = []
    wait = str(MAX_RETRY_SECONDS + 1)
    assert _send([(503, {"retry-after": wait}), (200, {})], RequestBudget(None), slept) == (503, {"retry-after": wait})
    assert slept == []


def test_a_spent_budget_stops_the_run_from_sending_and_names_the_option() -> None:
    budget = RequestBudget(1)
    budget.take()
    with pytest.raises(pytest.skip.Exception, match="--max-requests 1 reached"):
        _send([(200, {})], budget, [])


def test_the_run_s_waiting_on_busy_answers_is_bounded_over_all_its_requests() -> None:
    # A hub that answers each request 429 with Retry-After: 9 three times, then passes it (the outsider attack on
    # issue 18, finding 6b): every request waits 27 s, and a run of a few hundred requests would take hours.
    budget = RequestBudget(None, wait_limit=60.0)
    slept: list[float] = []

    def one_request() -> int:
        answers = iter([429, 429, 429, 200])
        return send_with_retries(
            lambda: next(answers),
            lambda status: status,
            lambda status: {"retry-after": "9"},
            budget=budget,
            sleep=slept.append,
            label="GET h/api/ai/models",
        )

    assert one_request() == 200 and one_request() == 200
    with pytest.raises(HubUnavailable, match="the run has waited 54 s of its 60 on busy answers"):
        one_request()
    assert sum(slept) <= 60.0
