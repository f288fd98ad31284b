"""retries.py: a busy hub is waited for as it asks, within bounds; every attempt spends the run's request budget.

Every attempt also holds one of the run's --concurrency slots, whatever thread sends it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from oxen_contract.http.retries import (
    MAX_RETRIES,
    MAX_RETRY_SECONDS,
    HubUnavailable,
    Pace,
    RequestBudget,
    RunStopped,
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


def test_a_budget_shared_by_threads_counts_every_request_and_never_lets_one_past_its_cap() -> None:
    budget = RequestBudget(500)
    cleanup = budget.twin(None, purpose="the cleanup budget of")
    spent: list[int] = []

    def take_until_spent(twin: RequestBudget) -> None:
        for _ in range(200):
            try:
                twin.take()
            except pytest.skip.Exception:
                spent.append(1)

    threads = [threading.Thread(target=take_until_spent, args=(budget,)) for _ in range(4)]
    threads.append(threading.Thread(target=take_until_spent, args=(cleanup,)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (budget.sent, len(spent), cleanup.sent) == (500, 300, 200)
    assert budget.run_sent == cleanup.run_sent == 700


def test_no_more_requests_are_in_flight_at_once_than_the_pace_allows_whichever_thread_sends() -> None:
    pace = Pace(3)
    budget = RequestBudget(None, pace=pace)
    in_flight, most = [0], [0]
    lock = threading.Lock()

    def send() -> Answer:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.01)
        with lock:
            in_flight[0] -= 1
        return (200, {})

    def sender() -> None:
        for _ in range(5):
            send_with_retries(send, lambda a: a[0], lambda a: a[1], budget=budget, sleep=time.sleep, label="GET /")

    threads = [threading.Thread(target=sender) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 3
    assert budget.sent == 40


def test_a_429_halves_the_run_s_concurrency_for_the_rest_of_the_run_down_to_one() -> None:
    budget, slept = RequestBudget(None, pace=Pace(4)), []
    _send([(429, {"retry-after": "0"}), (200, {})], budget, slept)
    assert budget.pace.limit == 2
    _send([(429, {"retry-after": "0"}), (429, {"retry-after": "0"}), (200, {})], budget, slept)
    assert budget.pace.limit == 1
    # A deploy is not retried here, and its 429 slows the run down all the same.
    send_with_retries(
        lambda: (429, {}),
        lambda a: a[0],
        lambda a: a[1],
        budget=budget,
        sleep=slept.append,
        label="POST",
        retry_statuses=(),
    )
    assert budget.pace.limit == 1


def test_a_retry_after_holds_back_every_other_thread_s_next_request_until_it_has_passed() -> None:
    pace = Pace(4)
    budget = RequestBudget(None, pace=pace)
    answers = iter([(429, {"retry-after": "0.3"}), (200, {})])
    sent_at: list[float] = []

    def other() -> None:
        with pace.slot():
            sent_at.append(time.monotonic())

    started = time.monotonic()
    # The thread that met the 429 waits it out through its own sleep (here: not at all).
    _send_with(lambda: next(answers), budget, [])
    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert sent_at[0] - started >= 0.25


def _send_with(send: Callable[[], Answer], budget: RequestBudget, slept: list[float]) -> Answer:
    return send_with_retries(
        send, lambda answer: answer[0], lambda answer: answer[1], budget=budget, sleep=slept.append, label="GET /"
    )


def test_an_interrupted_run_s_background_threads_send_nothing_more_and_cleanup_waits_for_no_retry_after() -> None:
    # The outsider attack on issue 22: a SIGTERM during a 429's hold kept read-ahead threads sending, and cleanup
    # waiting, for over a minute, longer than a CI runner waits before its SIGKILL.
    pace = Pace(4)
    met = threading.Thread(target=pace.rate_limited, args=(3600.0,))  # a Retry-After of an hour, met by a reader
    met.start()
    met.join()
    pace.stop()
    raised: list[BaseException] = []

    def background() -> None:
        try:
            with pace.slot():
                pass
        except RunStopped as error:
            raised.append(error)

    thread = threading.Thread(target=background)
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive() and len(raised) == 1
    started = time.monotonic()
    with pace.slot():  # cleanup, on the main thread: no hour-long wait
        pass
    assert time.monotonic() - started < 1
