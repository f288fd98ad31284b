"""Examples the sources print, kept once: the suite (the OpenAI SDK check) and the schema tests both use them."""

from __future__ import annotations

from typing import Any

__all__ = ["REFERENCE_DELETE_EXAMPLE"]

# [R]'s example answer of DELETE /api/ai/models/{id}, as printed on the reference page.
REFERENCE_DELETE_EXAMPLE: dict[str, Any] = {
    "created": 123,
    "id": "<string>",
    "object": "model",
    "owned_by": "<string>",
    "capabilities": {"input": ["<string>"], "output": ["<string>"]},
    "deployments": [{"status": "active"}],
    "description": "<string>",
    "developer": {"logo": "<string>", "name": "<string>"},
    "display_name": "<string>",
    "endpoint": "/chat/completions",
    "fine_tuning": {"actions": ["<string>"], "cost_per_second": 123},
    "image_url": "<string>",
    "model_type": "base",
    "pricing": {
        "cost_per_image": 123,
        "cost_per_second": 123,
        "cost_per_second_high_res": 123,
        "cost_per_second_with_audio": 123,
        "input_cost_per_token": 123,
        "method": "token",
        "output_cost_per_token": 123,
    },
    "released_at": "<string>",
    "request_schema": {},
    "source_model": "<string>",
    "summary": "<string>",
}
