"""The hub's own data model: frozen records and how they render as JSON.

The hub is a reference implementation written from the API description, not from the suite's schemas: if both
came from one file, the suite would only check that file against itself. So the model object is spelled out here
field by field, and everything the hub serves is rendered from these records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

JsonObject = dict[str, Any]
# Price maps are tuples of pairs, so that the records stay immutable and hashable.
PriceTiers = tuple[tuple[str, float], ...]
PriceGrid = tuple[tuple[str, PriceTiers], ...]

ENDPOINTS = ("/chat/completions", "/images/generate", "/videos/generate")
PRICING_METHODS = ("token", "time", "per_image", "per_video_output_second")
DEPLOYMENT_STATUSES = ("active", "inactive", "deploying", "deactivating", "error", "unknown")
MODEL_TYPES = ("base", "custom")


def render(value: object) -> bytes:
    """Render a JSON value the same way every time: sorted keys, compact, ASCII-only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


@dataclass(frozen=True, slots=True)
class Developer:
    name: str
    logo: str | None = None

    def to_json(self) -> JsonObject:
        return {"name": self.name, "logo": self.logo}


@dataclass(frozen=True, slots=True)
class Capabilities:
    input: tuple[str, ...]
    output: tuple[str, ...]

    def to_json(self) -> JsonObject:
        return {"input": list(self.input), "output": list(self.output)}


@dataclass(frozen=True, slots=True)
class FineTuning:
    actions: tuple[str, ...]
    cost_per_second: float

    def to_json(self) -> JsonObject:
        return {"actions": list(self.actions), "cost_per_second": self.cost_per_second}


@dataclass(frozen=True, slots=True)
class Pricing:
    method: str
    input_cost_per_token: float | None = None
    output_cost_per_token: float | None = None
    cost_per_second: float | None = None
    cost_per_image: float | None = None
    cost_per_second_high_res: float | None = None
    cost_per_second_with_audio: float | None = None
    # The two map fields are newer than the others: models that lack them leave them out entirely.
    cost_per_image_grid: PriceGrid | None = None
    cost_per_second_by_resolution: PriceTiers | None = None

    def to_json(self) -> JsonObject:
        out: JsonObject = {
            "method": self.method,
            "input_cost_per_token": self.input_cost_per_token,
            "output_cost_per_token": self.output_cost_per_token,
            "cost_per_second": self.cost_per_second,
            "cost_per_image": self.cost_per_image,
            "cost_per_second_high_res": self.cost_per_second_high_res,
            "cost_per_second_with_audio": self.cost_per_second_with_audio,
        }
        if self.cost_per_image_grid is not None:
            out["cost_per_image_grid"] = {quality: dict(tiers) for quality, tiers in self.cost_per_image_grid}
        if self.cost_per_second_by_resolution is not None:
            out["cost_per_second_by_resolution"] = dict(self.cost_per_second_by_resolution)
        return out


@dataclass(frozen=True, slots=True)
class GalleryItem:
    src: str
    alt: str
    category: str | None = None
    details: str | None = None
    prompt: str | None = None
    title: str | None = None

    def to_json(self) -> JsonObject:
        out: JsonObject = {"src": self.src, "alt": self.alt}
        for key in ("category", "details", "prompt", "title"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class Showcase:
    gallery: tuple[GalleryItem, ...]
    hero_image: str | None = None
    tagline: str | None = None

    def to_json(self) -> JsonObject:
        return {
            "gallery": [item.to_json() for item in self.gallery],
            "hero_image": self.hero_image,
            "tagline": self.tagline,
        }


@dataclass(frozen=True, slots=True)
class Model:
    id: str
    created: int
    owned_by: str
    model_type: str
    display_name: str
    endpoint: str
    capabilities: Capabilities
    pricing: Pricing
    description: str | None = None
    developer: Developer | None = None
    fine_tuning: FineTuning | None = None
    image_url: str | None = None
    released_at: str | None = None
    # Kept as JSON text so that the record stays immutable; rendered back to an object.
    request_schema: str | None = None
    showcase: Showcase | None = None
    source_model: str | None = None
    summary: str | None = None
    # None means "no deployment": base models answer "deployments": [].
    deployment_status: str | None = None
    # Internal: which provider serves the model. Only the provider_name filter reads it; it is never rendered.
    provider_name: str = "oxen"

    @property
    def is_base(self) -> bool:
        return self.model_type == "base"

    def with_status(self, status: str) -> Model:
        return replace(self, deployment_status=status)

    def to_json(self) -> JsonObject:
        return {
            "id": self.id,
            "object": "model",
            "created": self.created,
            "owned_by": self.owned_by,
            "model_type": self.model_type,
            "display_name": self.display_name,
            "description": self.description,
            "developer": None if self.developer is None else self.developer.to_json(),
            "endpoint": self.endpoint,
            "capabilities": self.capabilities.to_json(),
            "pricing": self.pricing.to_json(),
            "fine_tuning": None if self.fine_tuning is None else self.fine_tuning.to_json(),
            "image_url": self.image_url,
            "released_at": self.released_at,
            "request_schema": None if self.request_schema is None else json.loads(self.request_schema),
            "showcase": None if self.showcase is None else self.showcase.to_json(),
            "source_model": self.source_model,
            "summary": self.summary,
            "deployments": [] if self.deployment_status is None else [{"status": self.deployment_status}],
        }

    def matches(self, needle: str) -> bool:
        """Whether a search term occurs in the id, display name or description, ignoring case."""
        needle = needle.casefold()
        fields = (self.id, self.display_name, self.description or "")
        return any(needle in field.casefold() for field in fields)


@dataclass(frozen=True, slots=True)
class FineTune:
    owner: str
    repo: str
    id: str
    base_model: str
    created: int
    steps: tuple[int, ...] = (1,)
    status: str = "completed"

    def to_json(self) -> JsonObject:
        return {
            "id": self.id,
            "namespace": self.owner,
            "repo_name": self.repo,
            "base_model": self.base_model,
            "status": self.status,
            "created": self.created,
            "checkpoints": [{"step": step} for step in self.steps],
        }


def custom_model(
    base: Model, *, model_id: str, fine_tune: FineTune, step: int | None, created: int, status: str
) -> Model:
    """The model record a deploy creates: the base model's serving facts under the owner's name."""
    origin = f"{fine_tune.owner}/{fine_tune.repo} fine-tune {fine_tune.id}"
    if step is not None:
        origin += f" (checkpoint {step})"
    return Model(
        id=model_id,
        created=created,
        owned_by=fine_tune.owner,
        model_type="custom",
        display_name=f"{fine_tune.repo}/{fine_tune.id}",
        endpoint=base.endpoint,
        capabilities=base.capabilities,
        pricing=base.pricing,
        description=f"Deployed from {origin}, based on {base.id}",
        request_schema=base.request_schema,
        source_model=base.id,
        deployment_status=status,
        provider_name=base.provider_name,
    )


ERROR_TITLES = {
    "unauthenticated": "Unauthenticated",
    "invalid_params": "Invalid Parameters",
    "resource_not_found": "Resource Not Found",
    "unknown_error": "Unknown Error",
}


@dataclass(frozen=True, slots=True)
class ApiError:
    """An error answer before rendering; faults may change it, then it renders as error shape 1."""

    status: int
    type: str
    detail: str
    # Set when the model exists but the caller may not change it (a refusal rather than a miss).
    refusal: bool = False
    model_id: str | None = None

    def to_json(self) -> JsonObject:
        title = ERROR_TITLES.get(self.type, self.type.replace("_", " ").title())
        return {
            "error": {"type": self.type, "title": title, "detail": self.detail},
            "status": "error",
            "status_message": self.type,
        }


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer on its way out: a JSON payload, or raw bytes when a fault wants a body that is not JSON."""

    status: int
    payload: object = None
    raw: bytes | None = None
    media_type: str | None = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    # Seconds between the bytes of the body; 0 sends it at once.
    drip: float = 0.0

    @property
    def body(self) -> bytes:
        return self.raw if self.raw is not None else render(self.payload)
