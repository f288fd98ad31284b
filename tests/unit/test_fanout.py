"""fanout.py: independent reads go out side by side, and come back in the order asked for, failures included."""

from __future__ import annotations

import threading
import time

import pytest

from oxen_contract.http.fanout import side_by_side
from oxen_contract.http.retries import Pace


def test_answers_come_back_in_the_order_of_the_items_whatever_order_they_arrive_in() -> None:
    def fetch(item: int) -> int:
        time.sleep(0.002 * (10 - item))  # the last asked answers first
        return item * item

    with side_by_side(fetch, range(10), Pace(4)) as answers:
        assert list(answers) == [item * item for item in range(10)]


def test_a_fetch_that_failed_raises_when_its_turn_comes_after_every_answer_before_it() -> None:
    def fetch(item: int) -> int:
        if item in (3, 5):
            raise LookupError(f"item {item}")
        return item

    seen: list[int] = []
    with pytest.raises(LookupError, match="item 3"), side_by_side(fetch, range(8), Pace(4)) as answers:
        for answer in answers:
            seen.append(answer)
    assert seen == [0, 1, 2]


def test_leaving_the_block_early_cancels_the_fetches_not_yet_started() -> None:
    started: list[int] = []
    release = threading.Event()

    def fetch(item: int) -> int:
        started.append(item)
        if item > 0:
            release.wait(5)  # in flight until after the block was left
        return item

    timer = threading.Timer(0.2, release.set)
    timer.start()
    with side_by_side(fetch, range(100), Pace(2)) as answers:
        assert next(answers) == 0
    timer.join()
    # Item 0, and at most the one item each of the two workers had taken when the block was left: of 100.
    assert {0, 1} <= set(started) <= {0, 1, 2}


def test_at_a_pace_of_one_each_item_is_fetched_in_the_caller_s_thread_when_its_turn_comes() -> None:
    threads: list[str] = []

    def fetch(item: int) -> int:
        threads.append(threading.current_thread().name)
        return item

    with side_by_side(fetch, range(3), Pace(1)) as answers:
        assert next(answers) == 0
        assert len(threads) == 1
        assert list(answers) == [1, 2]
    assert set(threads) == {threading.current_thread().name}


def test_the_reads_in_flight_never_outnumber_the_pace_lowered_by_a_429_on_the_way() -> None:
    pace = Pace(4)
    in_flight, most_after_429, limited = [0], [0], threading.Event()
    lock = threading.Lock()

    def fetch(item: int) -> int:
        with pace.slot():
            with lock:
                in_flight[0] += 1
                if limited.is_set():
                    most_after_429[0] = max(most_after_429[0], in_flight[0])
            if item == 4:
                pace.rate_limited(0.0)
                limited.set()
            time.sleep(0.005)
            with lock:
                in_flight[0] -= 1
        return item

    with side_by_side(fetch, range(40), pace) as answers:
        assert list(answers) == list(range(40))
    # Every read that left after the 429 found at most one other in flight.
    assert (pace.limit, most_after_429[0]) == (2, 2)
