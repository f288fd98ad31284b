"""How long a run waits for a busy hub, and how many requests it may send.

A 429 or 503 is retried, as Retry-After asks, a bounded number of times within a bounded wait; a hub that keeps
answering 429 is unavailable (``HubUnavailable``), which the verdict tells apart from a broken contract. Every attempt,
retries included, takes one request from the run's ``RequestBudget`` (``--max-requests``); cleanup has a budget of
its own, so that a run that spent its cap still deletes what it made.

Independent reads may go out side by side (``fanout.py``), from several threads. So every attempt also passes the
run's ``Pace``, which all the run's budgets share: at most ``--concurrency`` requests in flight, whichever client
sends them; a 429 halves that for the rest of the run and holds every other request of the run back until its
Retry-After has passed, as a polite client of a shared hub does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import TypeVar

from ..checking.failures import OxenContractError
from ..checking.skips import RequestsSpent

__all__ = [
    "CLEANUP_REQUESTS",
    "PROBE_REQUESTS",
    "MAX_RETRIES",
    "MAX_RETRY_SECONDS",
    "RETRY_STATUSES",
    "RUN_WAIT_SECONDS",
    "HubUnavailable",
    "Pace",
    "RequestBudget",
    "RunStopped",
    "retry_delay",
    "send_with_retries",
]

# 429 and 503 are retried, honouring Retry-After, at most this often and this long per request.
RETRY_STATUSES = (429, 503)
MAX_RETRIES = 3
MAX_RETRY_SECONDS = 30.0
# And at most this long over the whole run: a hub that asks every request to wait would otherwise keep a run of a few
# hundred requests going for hours, each wait bounded and the run not (the outsider attack on issue 18, finding 6b).
RUN_WAIT_SECONDS = 180.0


class HubUnavailable(OxenContractError, RuntimeError):
    """The hub cannot be reached or keeps refusing service: an infrastructure problem, not a contract violation.

    ``request`` is (operation, method, url, credential label) when one request's connection failed: if the hub then
    answers its health probe, that route dropped the connection while the hub is up, a failure of the route.
    """

    def __init__(
        self, message: str, request: tuple[str, str, str, str] | None = None, *, rate_limited: str | None = None
    ) -> None:
        super().__init__(message)
        self.request = request
        # The route ("GET URL") that kept answering 429 past its retries, when that is what this is.
        self.rate_limited = rate_limited


class RunStopped(HubUnavailable):
    """A request a background thread was about to send after the run was interrupted: it is not sent."""


class Pace:
    """How many requests the run may have in flight at once (--concurrency), and when the next one may leave.

    Every attempt of every client holds a slot while it is sent (``slot``). A 429 lowers the limit for the rest of the
    run (halved, down to one), and its Retry-After holds back every other thread's next request until it has passed:
    the thread that met the 429 waits it out itself, through its own ``sleep``.
    """

    def __init__(self, limit: int = 1) -> None:
        if limit < 1:
            raise ValueError(f"a run sends at least one request at a time; got {limit}")
        self._limit = limit
        self._in_flight = 0
        self._not_before = 0.0  # time.monotonic()
        self._waited_out_by: int | None = None  # the thread that met the 429 and sleeps its Retry-After itself
        self._changed = threading.Condition()
        # Set when the run is interrupted: background reads send nothing more, and cleanup (the main thread) waits
        # for no Retry-After of theirs, so that it deletes or names the run's models before a CI runner's SIGKILL.
        self._stopping = False

    @property
    def limit(self) -> int:
        return self._limit

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the run's in-flight requests for the block; wait for one, and for any Retry-After, first."""
        with self._changed:
            while True:
                if self._stopping and threading.current_thread() is not threading.main_thread():
                    raise RunStopped("the run was interrupted: a read in the background sends nothing more")
                wait = self._not_before - time.monotonic()
                if wait > 0 and not self._stopping and threading.get_ident() != self._waited_out_by:
                    self._changed.wait(wait)
                elif self._in_flight >= self._limit:
                    self._changed.wait()
                else:
                    break
            self._in_flight += 1
        try:
            yield
        finally:
            with self._changed:
                self._in_flight -= 1
                self._changed.notify_all()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def stop(self) -> None:
        """The run was interrupted: no thread but the main one sends again, and none waits for a Retry-After."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()

    def rate_limited(self, delay: float) -> None:
        """The hub answered 429 asking for ``delay`` seconds: fewer requests at once, and none before then."""
        with self._changed:
            self._limit = max(1, self._limit // 2)
            not_before = time.monotonic() + delay
            if not_before > self._not_before:
                self._not_before = not_before
                self._waited_out_by = threading.get_ident()
            self._changed.notify_all()


class _RunTotals:
    """What a budget and its twins add up to: every request the run sent, and every second it waited as asked."""

    def __init__(self, wait_limit: float) -> None:
        self.count = 0
        self.waited = 0.0
        self.wait_limit = wait_limit
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1

    def may_wait(self, seconds: float) -> bool:
        with self._lock:
            if self.waited + seconds > self.wait_limit:
                return False
            self.waited += seconds
            return True


class RequestBudget:
    """--max-requests: how many requests the run may still send (None: no cap). Safe to share between threads.

    Cleanup has a budget of its own (``CLEANUP_REQUESTS``): a run that spent its cap must still delete what it made.
    Budgets made with ``twin`` share the run's ``pace``, its count of every request sent (``run_sent``) and its
    seconds of waiting on busy answers (``may_wait``, at most ``wait_limit`` over the run).
    """

    def __init__(
        self,
        limit: int | None,
        *,
        purpose: str = "--max-requests",
        pace: Pace | None = None,
        wait_limit: float = RUN_WAIT_SECONDS,
    ) -> None:
        self.limit = limit
        self.sent = 0
        self.purpose = purpose
        self.pace = pace or Pace()
        self._lock = threading.Lock()
        self._run = _RunTotals(wait_limit)  # shared with twins

    @property
    def waited(self) -> float:
        return self._run.waited

    @property
    def wait_limit(self) -> float:
        return self._run.wait_limit

    @property
    def wait_left(self) -> float:
        return max(0.0, self._run.wait_limit - self._run.waited)

    def may_wait(self, seconds: float) -> bool:
        """Take ``seconds`` of the run's waiting; False (taking nothing) once that would pass its wait limit."""
        return self._run.may_wait(seconds)

    def take(self) -> None:
        with self._lock:
            if self.limit is not None and self.sent >= self.limit:
                raise RequestsSpent(f"{self.purpose} {self.limit} reached: this run may send no more requests")
            self.sent += 1
        self._run.add()

    def twin(self, limit: int | None, *, purpose: str) -> RequestBudget:
        """A budget of its own (cleanup, probes) that keeps the run's pace and adds to the run's count."""
        twin = RequestBudget(limit, purpose=purpose, pace=self.pace)
        twin._run = self._run
        return twin

    @property
    def run_sent(self) -> int:
        """Every request sent under this budget or one of its twins."""
        return self._run.count


# Requests cleanup and the leftover sweep may send, apart from --max-requests: a retrieve and a delete per model, with
# retries, for a few dozen models.
CLEANUP_REQUESTS = 200
# Health probes sent to tell an outage from a broken contract, apart from --max-requests: a run that spent its cap
# still gets its failures sorted.
PROBE_REQUESTS = 60


def retry_delay(headers: Mapping[str, str], attempt: int) -> float:
    """Seconds to wait before retrying: Retry-After (seconds or an HTTP date) if given, else exponential backoff."""
    raw = str(headers.get("retry-after", "")).strip()
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            try:
                when = parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                pass
            else:
                return max(0.0, float(when.timestamp()) - time.time())
    return 0.5 * 2.0**attempt


Answer = TypeVar("Answer")


def send_with_retries(
    send: Callable[[], Answer],
    status_of: Callable[[Answer], int],
    headers_of: Callable[[Answer], Mapping[str, str]],
    *,
    budget: RequestBudget,
    sleep: Callable[[float], None],
    label: str,
    retry_statuses: tuple[int, ...] = RETRY_STATUSES,
) -> Answer:
    """One request under the run's retry policy, whatever sends it (httpx here, requests for schemathesis).

    429 and 503 are retried up to MAX_RETRIES times, waiting as Retry-After asks, within MAX_RETRY_SECONDS; a 429
    past that is HubUnavailable, anything else is the answer. Each attempt is sent in a slot of the budget's pace
    (at most --concurrency at once, run-wide), and a 429 slows the whole run down (``Pace.rate_limited``).
    """
    waited = 0.0
    for attempt in range(MAX_RETRIES + 1):
        with budget.pace.slot():
            budget.take()
            response = send()
        status = status_of(response)
        if status == 429:
            # Whether or not this request is retried (a deploy is not, here), the hub said the run is too fast. The
            # other threads are held back no longer than the run may still wait.
            hold = min(retry_delay(headers_of(response), attempt), MAX_RETRY_SECONDS, budget.wait_left)
            budget.pace.rate_limited(hold)
        if status not in retry_statuses or attempt == MAX_RETRIES:
            break
        delay = retry_delay(headers_of(response), attempt)
        if waited + delay > MAX_RETRY_SECONDS or not budget.may_wait(delay):
            break  # waiting as asked would pass the request's or the run's time bound: answer with what the hub said
        sleep(delay)
        waited += delay
    if status_of(response) == 429 and 429 in retry_statuses:
        spent = f"; the run has waited {budget.waited:g} s of its {budget.wait_limit:g} on busy answers"
        raise HubUnavailable(
            f"{label} still answers 429 Too Many Requests after {attempt} retries{spent}", rate_limited=label
        )
    return response
