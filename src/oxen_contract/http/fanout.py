"""Independent reads sent side by side, their answers handed back in the order they were asked for.

A catalogue of hundreds of models means hundreds of retrieves, and against a hub 100 ms away, requests sent one after
another take at least requests × latency. Reads that depend on nothing but the list (the per-model retrieves, the
search terms, the filters) are sent from a few threads at once. How many are in flight is the run's ``Pace``
(``retries.py``), which every request of the run passes whatever sends it: ``--concurrency`` at most, fewer once the
hub has answered 429. What a test does with the answers stays in its own thread and in the order of the items: the
verifier and the tally are never shared between threads, and the first failure a run names is the same at any
concurrency.

A pace of one (replay and recording, whose cassettes keep their order, or ``--concurrency 1``) sends each request
when its turn comes, in the test's thread, exactly as a plain loop would.

Reads can also start before the test that checks them (``ReadAhead``): the per-model retrieves of a large catalogue,
sent from the run's first list in the room the pace leaves beside the tests' own requests (one at a time, mostly),
so that a thousand retrieves 100 ms away cost little more wall time than four. The test still checks every answer
itself, in its own thread and its own list's order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from .retries import Pace

__all__ = ["ReadAhead", "side_by_side"]

Item = TypeVar("Item")
Answer = TypeVar("Answer")


class ReadAhead:
    """``fetch`` of each item, started now in the background, for a later ``side_by_side`` to take instead of sending.

    One thread fewer than the pace allows, so the tests' own requests, which go one at a time, always find room. A
    fetch that raised raises when it is taken. ``close`` (at the end of the session) cancels what has not started and
    waits for what is in flight, each request bounded by its deadline: no request outlives the run.
    """

    def __init__(self, fetch: Callable[[Item], Answer], items: Iterable[Item], pace: Pace) -> None:
        self._pace = pace
        self._pool = ThreadPoolExecutor(max_workers=max(1, pace.limit - 1), thread_name_prefix="oxen-contract-ahead")
        self._futures: dict[object, Future[object]] = {}
        for item in dict.fromkeys(items):
            self._futures[item] = self._pool.submit(fetch, item)

    def take(self, item: object) -> Future[object] | None:
        """The read started for ``item``, once (None: none was, or it was taken)."""
        return self._futures.pop(item, None)

    def close(self) -> None:
        for future in self._futures.values():
            future.cancel()
        # Interrupted, the run goes on to cleanup at once: a thread still sleeping out a Retry-After sends nothing
        # when it wakes (Pace.stop), so there is nothing to wait for.
        self._pool.shutdown(wait=not self._pace.stopping, cancel_futures=True)


@contextmanager
def side_by_side(
    fetch: Callable[[Item], Answer], items: Iterable[Item], pace: Pace, ahead: ReadAhead | None = None
) -> Iterator[Iterator[Answer]]:
    """``fetch`` every item, up to the pace's limit at once; inside the block, iterate the answers in the items' order.

    An item ``ahead`` already read is taken from it, not sent again. An item whose fetch raised raises the same when
    its turn comes. Leaving the block (a check failed, the test stopped) cancels the fetches not yet started and waits
    for those in flight, so no request outlives the test.
    """
    todo = list(items)
    started = [ahead.take(item) if ahead is not None else None for item in todo]
    width = min(pace.limit, sum(future is None for future in started))
    if width <= 1 and all(future is None for future in started):
        yield (fetch(item) for item in todo)
        return
    with ThreadPoolExecutor(max_workers=max(1, width), thread_name_prefix="oxen-contract-read") as pool:
        futures = [future or pool.submit(fetch, item) for item, future in zip(todo, started, strict=True)]
        try:
            yield (future.result() for future in futures)  # type: ignore[misc]
        finally:
            for future in futures:
                future.cancel()
