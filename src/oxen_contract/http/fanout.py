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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from .retries import Pace

__all__ = ["side_by_side"]

Item = TypeVar("Item")
Answer = TypeVar("Answer")


@contextmanager
def side_by_side(fetch: Callable[[Item], Answer], items: Iterable[Item], pace: Pace) -> Iterator[Iterator[Answer]]:
    """``fetch`` every item, up to the pace's limit at once; inside the block, iterate the answers in the items' order.

    An item whose fetch raised raises the same when its turn comes. Leaving the block (a check failed, the test
    stopped) cancels the fetches not yet started and waits for those in flight, so no request outlives the test.
    """
    todo = list(items)
    width = min(pace.limit, len(todo))
    if width <= 1:
        yield (fetch(item) for item in todo)
        return
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="oxen-contract-read") as pool:
        futures = [pool.submit(fetch, item) for item in todo]
        try:
            yield (future.result() for future in futures)
        finally:
            for future in futures:
                future.cancel()
