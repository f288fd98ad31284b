"""Seed data: the base models, each namespace's sandbox fine-tune, and the models a crowded namespace holds.

Written for this project (the names are plausible, the prices invented) so that the suite meets the shapes a real
hub serves: all three endpoints, all four pricing methods, nulls where real entries have them, and the newer
vendor fields (showcase, price maps) on some models only.
"""

from __future__ import annotations

import json
from typing import Any

from .records import Capabilities, Developer, FineTune, FineTuning, GalleryItem, Model, Pricing, Showcase, custom_model

SANDBOX_REPO = "sandbox"
SANDBOX_FINE_TUNE = "ft-1"
SANDBOX_STEP = 1
# The seeded fine-tunes were "trained" from this model; it must be fine-tunable.
SANDBOX_BASE_MODEL = "meta-llama/llama-3.1-8b-instruct"
_SEED_CREATED = 1735689600  # 2025-01-01, before anything the deterministic clock creates

_TEXT = Capabilities(input=("text",), output=("text",))
_VISION = Capabilities(input=("text", "image"), output=("text",))
_TEXT_TO_IMAGE = Capabilities(input=("text",), output=("image",))
_IMAGE_EDIT = Capabilities(input=("text", "image"), output=("image",))
_TEXT_TO_VIDEO = Capabilities(input=("text", "image"), output=("video",))

_OPENAI = Developer("openai", "https://assets.example.test/logos/openai.svg")
_ANTHROPIC = Developer("anthropic", "https://assets.example.test/logos/anthropic.svg")
_GOOGLE = Developer("google", "https://assets.example.test/logos/google.svg")
_META = Developer("meta", "https://assets.example.test/logos/meta.svg")
_ALIBABA = Developer("alibaba", None)
_BFL = Developer("black-forest-labs", "https://assets.example.test/logos/bfl.png")

_CHAT_SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "max_tokens": {"type": "integer", "minimum": 1},
        },
    },
    sort_keys=True,
)
_IMAGE_SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {
            "size": {"type": "string", "enum": ["1024x1024", "1536x1024", "1024x1536"]},
            "num_images": {"type": "integer", "minimum": 1, "maximum": 4},
        },
    },
    sort_keys=True,
)
_VIDEO_SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {
            "duration": {"type": "integer", "enum": [5, 8, 10]},
            "resolution": {"type": "string", "enum": ["480p", "720p", "1080p"]},
        },
    },
    sort_keys=True,
)


def _base(model_id: str, n: int, **fields: Any) -> Model:
    # Each base model gets its own registration time, a day apart, in catalog order.
    return Model(id=model_id, created=_SEED_CREATED + 86400 * n, owned_by="oxen", model_type="base", **fields)


BASE_MODELS: tuple[Model, ...] = (
    _base(
        "gpt-4.1-mini",
        0,
        display_name="GPT-4.1 mini",
        endpoint="/chat/completions",
        capabilities=_VISION,
        pricing=Pricing("token", input_cost_per_token=4e-07, output_cost_per_token=1.6e-06),
        description="Small, fast general-purpose chat model with a long context window.",
        developer=_OPENAI,
        image_url="https://assets.example.test/models/gpt-4.1-mini.png",
        released_at="2025-04-14T00:00:00Z",
        request_schema=_CHAT_SCHEMA,
        summary="Fast and affordable chat.",
        provider_name="openai",
    ),
    _base(
        "gpt-4o",
        1,
        display_name="GPT-4o",
        endpoint="/chat/completions",
        capabilities=_VISION,
        pricing=Pricing("token", input_cost_per_token=2.5e-06, output_cost_per_token=1e-05),
        description="Multimodal flagship chat model.",
        developer=_OPENAI,
        released_at="2024-05-13T00:00:00Z",
        request_schema=_CHAT_SCHEMA,
        provider_name="openai",
    ),
    _base(
        "claude-sonnet-4",
        2,
        display_name="Claude Sonnet 4",
        endpoint="/chat/completions",
        capabilities=_VISION,
        pricing=Pricing("token", input_cost_per_token=3e-06, output_cost_per_token=1.5e-05),
        description=None,
        developer=_ANTHROPIC,
        image_url="https://assets.example.test/models/claude-sonnet-4.png",
        released_at="2025-05-22T00:00:00Z",
        request_schema=_CHAT_SCHEMA,
        summary="Balanced reasoning model.",
        provider_name="anthropic",
    ),
    _base(
        "claude-3-5-haiku",
        3,
        display_name="Claude 3.5 Haiku",
        endpoint="/chat/completions",
        capabilities=_TEXT,
        pricing=Pricing("token", input_cost_per_token=8e-07, output_cost_per_token=4e-06),
        description="The quickest model of its family.",
        developer=_ANTHROPIC,
        released_at=None,
        provider_name="anthropic",
    ),
    _base(
        "gemini-2.5-flash",
        4,
        display_name="Gemini 2.5 Flash",
        endpoint="/chat/completions",
        capabilities=_VISION,
        pricing=Pricing("token", input_cost_per_token=3e-07, output_cost_per_token=2.5e-06),
        description="Fast thinking model for high-volume tasks.",
        developer=_GOOGLE,
        image_url="https://assets.example.test/models/gemini-2.5-flash.png",
        released_at="2025-06-17T00:00:00Z",
        request_schema=_CHAT_SCHEMA,
        provider_name="google",
    ),
    _base(
        SANDBOX_BASE_MODEL,
        5,
        display_name="Llama 3.1 8B Instruct",
        endpoint="/chat/completions",
        capabilities=_TEXT,
        pricing=Pricing("time", cost_per_second=0.00031),
        description="Open-weights instruction model, served on Oxen GPUs; fine-tunable.",
        developer=_META,
        fine_tuning=FineTuning(actions=("text_generation",), cost_per_second=0.0009),
        released_at="2024-07-23T00:00:00Z",
        request_schema=None,
        provider_name="oxen",
    ),
    _base(
        "qwen3-8b",
        6,
        display_name="Qwen3 8B",
        endpoint="/chat/completions",
        capabilities=_TEXT,
        pricing=Pricing("time", cost_per_second=0.00028, cost_per_second_high_res=None),
        description=None,
        developer=_ALIBABA,
        fine_tuning=FineTuning(actions=("text_generation", "reasoning"), cost_per_second=0.0008),
        released_at="2025-04-29T00:00:00Z",
        summary="Open-weights model with a thinking mode.",
        provider_name="oxen",
    ),
    _base(
        "gpt-image-1",
        7,
        display_name="GPT Image 1",
        endpoint="/images/generate",
        capabilities=_IMAGE_EDIT,
        pricing=Pricing(
            "per_image",
            cost_per_image=0.042,
            cost_per_image_grid=(
                ("low", (("1024x1024", 0.011), ("1536x1024", 0.016))),
                ("high", (("1024x1024", 0.167), ("1536x1024", 0.25))),
            ),
        ),
        description="Image generation and editing from text and image prompts.",
        developer=_OPENAI,
        image_url="https://assets.example.test/models/gpt-image-1.png",
        released_at="2025-04-23T00:00:00Z",
        request_schema=_IMAGE_SCHEMA,
        showcase=Showcase(
            gallery=(
                GalleryItem("https://assets.example.test/showcase/gpt-image-1/fox.png", "A paper fox in a forest"),
                GalleryItem(
                    "https://assets.example.test/showcase/gpt-image-1/poster.png",
                    "A retro travel poster",
                    category="design",
                    prompt="A 1960s travel poster of a lighthouse at dusk",
                    title="Poster",
                ),
            ),
            hero_image="https://assets.example.test/showcase/gpt-image-1/hero.png",
            tagline="Images that follow instructions",
        ),
        provider_name="openai",
    ),
    _base(
        "black-forest-labs/flux.1-dev",
        8,
        display_name="FLUX.1 [dev]",
        endpoint="/images/generate",
        capabilities=_TEXT_TO_IMAGE,
        pricing=Pricing("per_image", cost_per_image=0.025),
        description="Open-weights text-to-image model; fine-tunable with LoRA.",
        developer=_BFL,
        fine_tuning=FineTuning(actions=("image_generation",), cost_per_second=0.0014),
        image_url=None,
        released_at="2024-08-01T00:00:00Z",
        request_schema=_IMAGE_SCHEMA,
        showcase=Showcase(
            gallery=(
                GalleryItem(
                    "https://assets.example.test/showcase/flux/neon.png",
                    "A neon street at night",
                    category="photography",
                    details="1024x1024, 28 steps",
                ),
            ),
            hero_image=None,
            tagline=None,
        ),
        provider_name="fal",
    ),
    _base(
        "imagen-4",
        9,
        display_name="Imagen 4",
        endpoint="/images/generate",
        capabilities=_TEXT_TO_IMAGE,
        pricing=Pricing(
            "per_image",
            cost_per_image=0.04,
            cost_per_image_grid=(("standard", (("1K", 0.04), ("2K", 0.08))), ("high", (("2K", 0.12), ("4K", 1.47)))),
        ),
        description="Photorealistic text-to-image model.",
        developer=_GOOGLE,
        released_at="2025-05-20T00:00:00Z",
        request_schema=_IMAGE_SCHEMA,
        showcase=None,
        provider_name="google",
    ),
    _base(
        "qwen-image-edit",
        10,
        display_name="Qwen Image Edit",
        endpoint="/images/generate",
        capabilities=_IMAGE_EDIT,
        pricing=Pricing("time", cost_per_second=0.0011),
        description="Instruction-based image editing.",
        developer=_ALIBABA,
        fine_tuning=FineTuning(actions=("image_editing",), cost_per_second=0.0016),
        released_at=None,
        request_schema=None,
        provider_name="oxen",
    ),
    _base(
        "veo-3",
        11,
        display_name="Veo 3",
        endpoint="/videos/generate",
        capabilities=_TEXT_TO_VIDEO,
        pricing=Pricing("per_video_output_second", cost_per_second=0.4, cost_per_second_with_audio=0.75),
        description="Video generation with synchronized audio.",
        developer=_GOOGLE,
        image_url="https://assets.example.test/models/veo-3.png",
        released_at="2025-05-20T00:00:00Z",
        request_schema=_VIDEO_SCHEMA,
        showcase=Showcase(
            gallery=(
                GalleryItem(
                    "https://assets.example.test/showcase/veo-3/waves.mp4",
                    "Waves breaking on rocks",
                    category="nature",
                    details=None,
                    prompt="Slow-motion waves at golden hour",
                    title="Waves",
                ),
            ),
            hero_image="https://assets.example.test/showcase/veo-3/hero.jpg",
            tagline="Video with sound",
        ),
        summary="Cinematic clips from a sentence.",
        provider_name="google",
    ),
    _base(
        "wan2.2-t2v",
        12,
        display_name="Wan 2.2 Text-to-Video",
        endpoint="/videos/generate",
        capabilities=_TEXT_TO_VIDEO,
        pricing=Pricing(
            "per_video_output_second",
            cost_per_second=0.096,
            cost_per_second_by_resolution=(("480p", 0.096), ("720p", 0.2)),
        ),
        description=None,
        developer=_ALIBABA,
        fine_tuning=FineTuning(actions=("video_generation",), cost_per_second=0.0031),
        released_at="2025-07-28T00:00:00Z",
        request_schema=_VIDEO_SCHEMA,
        provider_name="oxen",
    ),
    _base(
        "kling-2.1",
        13,
        display_name="Kling 2.1",
        endpoint="/videos/generate",
        capabilities=_TEXT_TO_VIDEO,
        pricing=Pricing("time", cost_per_second=0.05, cost_per_second_high_res=0.09),
        description="Image-to-video model.",
        developer=None,
        released_at=None,
        request_schema=None,
        provider_name="fal",
    ),
)

BASE_MODELS_BY_ID: dict[str, Model] = {model.id: model for model in BASE_MODELS}


def sandbox_fine_tune(namespace: str) -> FineTune:
    """The completed fine-tune every configured namespace owns at NAMESPACE/sandbox, with a checkpoint at step 1."""
    return FineTune(
        owner=namespace,
        repo=SANDBOX_REPO,
        id=SANDBOX_FINE_TUNE,
        base_model=SANDBOX_BASE_MODEL,
        created=_SEED_CREATED,
        steps=(SANDBOX_STEP,),
    )


# Deployed "last month" (December 2025), before anything the deterministic clock creates, and by no suite run.
_PRESEEDED = (("prod", 1765756800), ("old", 1764547200))  # 2025-12-15, 2025-12-01


def preseeded_model_id(namespace: str, label: str) -> str:
    """The id of a model a crowded namespace holds from the start: label is "prod" or "old"."""
    return f"{namespace}:{SANDBOX_REPO}/{SANDBOX_FINE_TUNE}-{label}"


def preseeded_models(namespace: str, *, old_status: str = "active") -> tuple[Model, ...]:
    """The custom models a crowded namespace already holds, deployed from its sandbox fine-tune: prod, old.

    Both are active, unless ``old_status`` says what became of the old one (a hub that hides inactive models).
    """
    fine_tune = sandbox_fine_tune(namespace)
    base = BASE_MODELS_BY_ID[fine_tune.base_model]
    return tuple(
        custom_model(
            base,
            model_id=preseeded_model_id(namespace, label),
            fine_tune=fine_tune,
            step=None,
            created=created,
            status=old_status if label == "old" else "active",
        )
        for label, created in _PRESEEDED
    )
