"""Strict-only faults: each breaks a rule that no source states as a must, so a run only warns about it by default.

Under ``--strict-contract`` the suite must fail on every one of them; without it, it must pass with a warning. They
are kept apart from the faults so that the line between a broken hub and a lenient one is drawn in one place.
"""

from __future__ import annotations

from ..records import JsonObject
from ._base import MODEL_ANSWERS, Fault, Switch, switch_fault


def _without_pricing_method(model: JsonObject) -> JsonObject:
    pricing = model.get("pricing")
    if not isinstance(pricing, dict):
        return model
    return {**model, "pricing": {k: v for k, v in pricing.items() if k != "method"}}


STRICT_ONLY: tuple[Fault, ...] = (
    # Requests the documentation does not allow, accepted: no source says a hub must refuse them (see the benign
    # variants, one per leniency), so only --strict-contract fails on them.
    Fault(
        "invalid-query-accepted",
        "search needs its search parameter and deployment_status accepts only live: other requests are refused",
        f"{Switch.SEARCH_WITHOUT_TERM.value}; {Switch.ANY_DEPLOYMENT_STATUS.value}",
        strict_only=True,
        ops=frozenset({"search", "retrieve"}),
        switches=frozenset({Switch.SEARCH_WITHOUT_TERM, Switch.ANY_DEPLOYMENT_STATUS}),
    ),
    # What one namespace sees of another, and what a filter leaves out: no source promises either.
    switch_fault(
        "list-filter-drops-last-match",
        "a filtered list holds every listed model that matches the filter",
        Switch.FILTER_DROPS_LAST,
        ops={"list"},
        strict_only=True,
    ),
    Fault(
        "search-shows-other-namespaces",
        "a search answers only models the list shows; another namespace's custom models stay hidden",
        f"{Switch.SEARCH_EVERY_NAMESPACE.value}; {Switch.CROWDED.value}",
        strict_only=True,
        ops=frozenset({"search"}),
        switches=frozenset({Switch.SEARCH_EVERY_NAMESPACE, Switch.CROWDED}),
    ),
    switch_fault(
        "retrieve-shows-other-namespaces",
        "another namespace's custom model is not found by retrieve",
        Switch.RETRIEVE_EVERY_NAMESPACE,
        ops={"retrieve"},
        strict_only=True,
    ),
    switch_fault(
        "list-shows-other-namespaces",
        "another namespace's custom models stay out of the list",
        Switch.LIST_EVERY_NAMESPACE,
        ops={"list"},
        strict_only=True,
    ),
    switch_fault(
        "own-models-hidden",
        "the caller's own custom model shows in its list and in a search for it",
        Switch.OWN_MODELS_HIDDEN,
        ops={"list", "search"},
        strict_only=True,
    ),
    # A documented field that stops coming breaks no schema (the contract requires nothing below the top level):
    # the run reports it as a vanished field.
    Fault(
        "pricing-method-vanishes",
        "a documented field that no answer carries is reported as vanished (pricing.method here)",
        "every model answer's pricing omits method",
        strict_only=True,
        ops=MODEL_ANSWERS,
        model=_without_pricing_method,
    ),
)
