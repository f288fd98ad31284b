"""The hub's one clock: the time every answer's ``Date`` header states and every model a request creates is given.

A suite that proves a model is its own compares the model's ``created`` with the hub's time, read from the ``Date``
header of the answer just before its deploy; the two must come from one clock that only moves forward. In
deterministic mode (recording cassettes, the self-check, mutation runs) answers must also be byte-identical run to
run, so that clock is fixed: the request answered n-th (counting from 0) is answered at ``EPOCH + n`` seconds, and a
model it creates is registered then. The count is kept in the store, so a hub reopened on its ``--db`` file carries
on where it stopped instead of going back in time. In real mode the time is the wall clock's, read once per request.

Every request takes one tick as it arrives, whatever it asks for (an unknown route, a 401), so that the time an
answer states depends only on how many requests came before it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email.utils import formatdate

from .store import Store

__all__ = ["EPOCH", "Clock", "Tick", "http_date"]

# 2026-01-01T00:00:00Z: where the deterministic clock starts.
EPOCH = 1767225600


@dataclass(frozen=True, slots=True)
class Tick:
    """One request's moment: how many requests the hub answered before it, and the time (Unix seconds)."""

    number: int
    now: int


def http_date(seconds: int) -> str:
    """``seconds`` as an RFC 9110 IMF-fixdate, e.g. ``Thu, 01 Jan 2026 00:00:00 GMT``."""
    return formatdate(seconds, usegmt=True)


class Clock:
    """Hands each request its tick: from the count in the store when deterministic, else from the wall clock."""

    def __init__(self, store: Store, *, deterministic: bool) -> None:
        self._store = store
        self._deterministic = deterministic
        self._lock = threading.Lock()
        self._count = 0
        self._last = EPOCH

    def tick(self) -> Tick:
        """The arriving request's moment; the clock moves on by one request."""
        if not self._deterministic:
            with self._lock:
                number = self._count
                self._count += 1
            return Tick(number, int(time.time()))
        with self._store.write() as tx:
            number = tx.next_tick()
        with self._lock:
            self._last = max(self._last, EPOCH + number)
        return Tick(number, EPOCH + number)

    def now(self) -> int:
        """The time now, without moving on (for an answer whose request already took its tick)."""
        if not self._deterministic:
            return int(time.time())
        with self._lock:
            return self._last
