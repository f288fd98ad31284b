"""How long a run waits for a busy hub, and how many requests it may send.

A 429 or 503 is retried, as Retry-After asks, a bounded number of times within a bounded wait; a hub that keeps
answering 429 is unavailable (``HubUnavailable``), which the verdict tells apart from a broken contract. Every attempt,
retries included, takes one request from the run's ``RequestBudget`` (``--max-requests``); cleanup has a budget of
its own, so that a run that spent its cap still deletes what it made.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import TypeVar

from .skips import RequestsSpent

__all__ = [
    "CLEANUP_REQUESTS",
    "PROBE_REQUESTS",
    "MAX_RETRIES",
    "MAX_RETRY_SECONDS",
    "RETRY_STATUSES",
    "RUN_WAIT_SECONDS",
    "HubUnavailable",
    "RequestBudget",
    "RequestsSpent",
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


class HubUnavailable(RuntimeError):
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


class RequestBudget:
    """--max-requests: how many requests the run may still send (None: no cap).

    Cleanup has a budget of its own (``CLEANUP_REQUESTS``): a run that spent its cap must still delete what it made.
    """

    def __init__(
        self, limit: int | None, *, purpose: str = "--max-requests", wait_limit: float = RUN_WAIT_SECONDS
    ) -> None:
        self.limit = limit
        self.sent = 0
        self.purpose = purpose
        # Seconds the run may spend waiting as busy answers ask (Retry-After), over all its requests.
        self.wait_limit = wait_limit
        self.waited = 0.0
        self._lock = threading.Lock()

    def take(self) -> None:
        with self._lock:
            if self.limit is not None and self.sent >= self.limit:
                raise RequestsSpent(f"{self.purpose} {self.limit} reached: this run may send no more requests")
            self.sent += 1

    def may_wait(self, seconds: float) -> bool:
        """Take ``seconds`` of the run's waiting; False (taking nothing) once that would pass its wait limit."""
        with self._lock:
            if self.waited + seconds > self.wait_limit:
                return False
            self.waited += seconds
            return True


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
    past that is HubUnavailable, anything else is the answer.
    """
    waited = 0.0
    for attempt in range(MAX_RETRIES + 1):
        budget.take()
        response = send()
        if status_of(response) not in retry_statuses or attempt == MAX_RETRIES:
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
