"""openai_compat.py: which listed models the SDK retrieves, a small catalogue whole and a large one by shape."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("openai", reason="the OpenAI SDK check needs the extra: pip install 'oxen-contract[openai]'")

from oxen_contract.clients.openai_compat import SDK_RETRIEVES, retrieve_sample, shape  # noqa: E402
from oxen_contract.hub.synthetic import catalog_of  # noqa: E402


def _model(model_id: Any, **fields: Any) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1, "owned_by": "oxen", **fields}


def test_a_catalogue_of_up_to_fifty_models_is_retrieved_whole_in_list_order() -> None:
    listed = [model.to_json() for model in catalog_of(SDK_RETRIEVES)]
    assert retrieve_sample(listed) == [model["id"] for model in listed]


def test_past_fifty_models_the_first_of_each_shape_is_retrieved_and_every_shape_is() -> None:
    listed = [model.to_json() for model in catalog_of(1000)]
    chosen = retrieve_sample(listed)
    assert len(chosen) < SDK_RETRIEVES
    assert {shape(model) for model in listed} == {shape(model) for model in listed if model["id"] in chosen}
    # The first of each, in list order.
    assert chosen == sorted(chosen, key=[model["id"] for model in listed].index)


def test_past_fifty_shapes_at_most_fifty_models_are_retrieved() -> None:
    marks = "-_.:~!$@+,"
    ids = [f"{m}{a}{b}x" for m in "mM" for i, a in enumerate(marks) for b in marks[i:]]
    listed = [_model(model_id) for model_id in ids]
    assert len({shape(model) for model in listed}) == len(ids) > SDK_RETRIEVES
    assert retrieve_sample(listed) == [model["id"] for model in listed[:SDK_RETRIEVES]]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (_model("gpt-4o"), _model("alice:sandbox/ft-1-2")),
        (_model("qwen3-8b"), _model("Qwen3-8B")),
        (_model("flux"), _model("flüx")),
        (_model("a"), _model("b", created="1")),
        (_model("a"), {key: value for key, value in _model("b").items() if key != "owned_by"}),
        (_model("a"), _model(7)),
    ],
    ids=["punctuation", "capitals", "past-ascii", "field-type", "field-missing", "id-not-text"],
)
def test_models_whose_ids_or_sdk_fields_read_differently_are_of_different_shapes(
    one: dict[str, Any], other: dict[str, Any]
) -> None:
    assert shape(one) != shape(other)


def test_models_that_differ_only_in_names_numbers_and_fields_the_sdk_does_not_read_are_of_one_shape() -> None:
    assert shape(_model("gpt-4o-mini", created=5, pricing={})) == shape(_model("claude-3-haiku", description=None))
