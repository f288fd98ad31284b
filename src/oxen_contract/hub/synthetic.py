"""A catalogue of any size (``oxen-local-hub --catalog-size N``), to measure how a client scales with it.

A real hub lists hundreds of base models (chat, image and video); the seeded catalogue holds a handful. Larger ones
are grown from it: each generated model takes the shape of one seeded model, in turn (its endpoint, capabilities,
pricing method and price maps, the fields it leaves null, its showcase) under a name, prices and dates of its own, so
no two models answer the same JSON, as in a real catalogue. A smaller one keeps the seeded models that span the most:
every endpoint, the fine-tunable base the sandbox fine-tunes were trained from (deploys need it), a showcase and a
price grid.
"""

from __future__ import annotations

from dataclasses import replace

from .catalog import BASE_MODELS, SANDBOX_BASE_MODEL
from .records import Model, Pricing

__all__ = ["catalog_of"]

# Kept first when the catalogue is cut down, in this order: what the suite's filters and shapes need most.
_SPANNING = (SANDBOX_BASE_MODEL, "gpt-image-1", "veo-3", "gpt-4.1-mini")
# How generated models are told apart from the model they were grown from, as vendors name their variants.
_TAGS = ("preview", "turbo", "mini", "pro", "lite", "instruct", "distill")
# After every seeded model (a day apart from 2025-01-01), an hour apart: all before anything a run deploys.
_FIRST_GENERATED = BASE_MODELS[-1].created + 86400


def catalog_of(size: int) -> tuple[Model, ...]:
    """``size`` base models: the seeded catalogue, cut down or grown (see the module's docstring)."""
    if size < 1:
        raise ValueError(f"a catalogue holds at least the sandbox fine-tunes' base model; got {size} models")
    if size <= len(BASE_MODELS):
        order = [*_SPANNING, *(model.id for model in BASE_MODELS if model.id not in _SPANNING)]
        chosen = set(order[:size])
        return tuple(model for model in BASE_MODELS if model.id in chosen)
    return BASE_MODELS + tuple(_grown(index) for index in range(size - len(BASE_MODELS)))


def _grown(index: int) -> Model:
    template = BASE_MODELS[index % len(BASE_MODELS)]
    round_ = index // len(BASE_MODELS)
    tag = _TAGS[round_ % len(_TAGS)]
    number = round_ // len(_TAGS) + 1
    owner, _, stem = template.id.rpartition("/")
    model_id = f"{owner + '/' if owner else ''}{stem}-{tag}-{number}"
    factor = 1 + (index % 9) / 10
    return replace(
        template,
        id=model_id,
        created=_FIRST_GENERATED + 3600 * index,
        display_name=f"{template.display_name} {tag.title()} {number}",
        description=None if template.description is None else f"{template.description} ({tag} {number})",
        image_url=None if template.image_url is None else template.image_url.replace(stem, f"{stem}-{tag}-{number}"),
        pricing=_scaled(template.pricing, factor),
    )


def _scaled(pricing: Pricing, factor: float) -> Pricing:
    def scaled(value: float | None) -> float | None:
        return None if value is None else round(value * factor, 12)

    return replace(
        pricing,
        input_cost_per_token=scaled(pricing.input_cost_per_token),
        output_cost_per_token=scaled(pricing.output_cost_per_token),
        cost_per_second=scaled(pricing.cost_per_second),
        cost_per_image=scaled(pricing.cost_per_image),
        cost_per_second_high_res=scaled(pricing.cost_per_second_high_res),
        cost_per_second_with_audio=scaled(pricing.cost_per_second_with_audio),
    )
