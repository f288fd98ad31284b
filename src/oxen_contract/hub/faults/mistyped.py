"""Faults that mistype the nested and optional members of the model object: one fault per operation.

The contract types members far below the top level (capabilities, developer, fine_tuning, pricing maps, showcase),
and a suite may check only the top. Each fault here breaks several sibling clauses at once, so that a handful of
entries covers every nested member, each in a different operation's answer.
"""

from __future__ import annotations

from ..records import JsonObject
from ._base import DELETE, Fault
from .bends import in_a_list

# Each bend sets its fields whatever the model held, so that base and custom models (which leave developer,
# fine_tuning and showcase null) break alike.


def _nested_mistyped(model: JsonObject) -> JsonObject:
    return {
        **model,
        "capabilities": {"input": "text", "output": [1]},
        "developer": {"name": 7, "logo": 7},
        "fine_tuning": {"actions": "text_generation", "cost_per_second": "0.01"},
    }


def _fields_mistyped(model: JsonObject) -> JsonObject:
    return {
        **model,
        "capabilities": {"input": [1], "output": "text"},
        "fine_tuning": {"actions": [1], "cost_per_second": 0.01},
        "pricing": {**model["pricing"], "cost_per_second": "0.01"},
        "deployments": [deployment["status"] for deployment in model["deployments"]],
        "description": 42,
        "image_url": 42,
        "released_at": 1767225600,
        "source_model": {"id": model.get("source_model")},
        "summary": False,
    }


def _containers_mistyped(model: JsonObject) -> JsonObject:
    pricing = {**model["pricing"], "cost_per_image_grid": "high:4K=1.47", "cost_per_second_by_resolution": "0.096/s"}
    return {
        **model,
        "capabilities": [],
        "developer": "",
        "fine_tuning": False,
        "request_schema": "{}",
        "deployments": {"status": "active"},
        "pricing": pricing,
        "showcase": {"gallery": "hero.png", "hero_image": None, "tagline": None},
    }


def _price_maps_mistyped(model: JsonObject) -> JsonObject:
    pricing = {
        **model["pricing"],
        "cost_per_image_grid": {"high": "1.47", "low": {"4K": "cheap"}},
        "cost_per_second_by_resolution": {"480p": "0.096"},
    }
    return {**model, "pricing": pricing, "showcase": "hero.png"}


_BAD_GALLERY = [
    "hero.png",
    {"alt": "a cat"},
    {"src": 1, "alt": 2, "category": 3, "details": 4, "prompt": 5, "title": 6},
]


def _showcase_mistyped(model: JsonObject) -> JsonObject:
    return {**model, "showcase": {"gallery": _BAD_GALLERY, "hero_image": 1, "tagline": 2}, "pricing": "token"}


MISTYPED: tuple[Fault, ...] = (
    Fault(
        "retrieve-nested-fields-mistyped",
        "capabilities.input is an array and capabilities.output holds strings; developer.name and developer.logo, "
        "fine_tuning.actions and fine_tuning.cost_per_second are typed",
        'the retrieve answer has capabilities {"input": "text", "output": [1]}, developer {"name": 7, "logo": 7}, '
        'fine_tuning {"actions": "text_generation", "cost_per_second": "0.01"}',
        ops=frozenset({"retrieve"}),
        model=_nested_mistyped,
    ),
    Fault(
        "activate-fields-mistyped",
        "capabilities.input holds strings and capabilities.output is an array; fine_tuning.actions holds strings; "
        "pricing costs are numbers; each deployment is an object; description, image_url, released_at, source_model "
        "and summary are strings or null",
        'the activate answer has capabilities {"input": [1], "output": "text"}, fine_tuning.actions [1], '
        'pricing.cost_per_second "0.01", deployments as bare status strings, description 42, image_url 42, '
        'released_at 1767225600, source_model {"id": ...}, summary false',
        ops=frozenset({"activate"}),
        model=_fields_mistyped,
    ),
    Fault(
        "deactivate-answers-a-list",
        "the model is a JSON object",
        "the deactivate answer is the model inside a one-element array",
        ops=frozenset({"deactivate"}),
        reply=in_a_list,
    ),
    Fault(
        "delete-containers-mistyped",
        "capabilities, developer, fine_tuning and request_schema are objects; deployments is an array; the pricing "
        "maps and showcase.gallery are objects and arrays",
        'the delete answer has capabilities [], developer "", fine_tuning false, request_schema "{}", '
        'deployments {"status": "active"}, pricing.cost_per_image_grid "high:4K=1.47", '
        'pricing.cost_per_second_by_resolution "0.096/s", showcase.gallery "hero.png"',
        ops=DELETE,
        model=_containers_mistyped,
    ),
    Fault(
        "list-price-maps-and-showcase-mistyped",
        "pricing map values are resolution tiers and numbers; showcase is an object or null",
        'list answers pricing.cost_per_image_grid {"high": "1.47", "low": {"4K": "cheap"}}, '
        'pricing.cost_per_second_by_resolution {"480p": "0.096"}, showcase "hero.png"',
        ops=frozenset({"list"}),
        model=_price_maps_mistyped,
    ),
    Fault(
        "search-showcase-and-pricing-mistyped",
        "gallery items are objects with string src and alt and string-or-null texts; hero_image and tagline are "
        "strings or null; pricing is an object",
        'search answers showcase.gallery ["hero.png", {"alt": "a cat"}, {"src": 1, "alt": 2, "category": 3, '
        '"details": 4, "prompt": 5, "title": 6}], hero_image 1, tagline 2, and pricing "token"',
        ops=frozenset({"search"}),
        model=_showcase_mistyped,
    ),
)
