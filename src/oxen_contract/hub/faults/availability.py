"""Outages: a hub that refuses service on a route while it answers everything else, breaking no rule.

Its run alone must end unavailable (75) naming the route, never as contract violations; the self-check combines it
with a fault to prove the other half: a violation seen while the hub answered is never hidden behind a later refusal.
The app checks the switch before the caller's key, as a rate limiter in front of a service does.
"""

from __future__ import annotations

from ._base import Fault, Switch

OUTAGES: tuple[Fault, ...] = (
    Fault(
        "search-rate-limited",
        "a route that keeps answering 429 past the retries while the hub answers is rate-limited, not broken",
        Switch.SEARCH_RATE_LIMITED.value,
        outage=True,
        ops=frozenset({"search"}),
        switches=frozenset({Switch.SEARCH_RATE_LIMITED}),
    ),
)
