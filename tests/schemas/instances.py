"""Valid model objects with every optional field present, so that each clause has something to break."""

from __future__ import annotations

import copy
from typing import Any

CUSTOM_MODEL: dict[str, Any] = {
    "created": 1767225600,
    "id": "alice:sandbox/ft-1-1",
    "object": "model",
    "owned_by": "alice",
    "capabilities": {"input": ["text", "image"], "output": ["text"]},
    "deployments": [{"status": "active"}],
    "description": "A fine-tune of a small chat model",
    "developer": {"name": "alice", "logo": "https://example.test/alice.png"},
    "display_name": "Sandbox ft-1",
    "endpoint": "/chat/completions",
    "fine_tuning": {"actions": ["chat_sft"], "cost_per_second": 0.0125},
    "image_url": "https://example.test/model.png",
    "model_type": "custom",
    "pricing": {
        "method": "token",
        "input_cost_per_token": 0.000001,
        "output_cost_per_token": 0.000002,
        "cost_per_second": 0.01,
        "cost_per_image": 0.04,
        "cost_per_second_high_res": 0.02,
        "cost_per_second_with_audio": 0.03,
        "cost_per_image_grid": {"high": {"4K": 1.47}},
        "cost_per_second_by_resolution": {"480p": 0.096},
    },
    "released_at": "2025-06-19T00:00:00Z",
    "request_schema": {"type": "object", "properties": {"temperature": {"type": "number"}}},
    "showcase": {
        "gallery": [
            {
                "src": "https://example.test/1.png",
                "alt": "a lighthouse",
                "category": "landscape",
                "details": "1024x1024",
                "prompt": "a lighthouse at dusk",
                "title": "Lighthouse",
            }
        ],
        "hero_image": "https://example.test/hero.png",
        "tagline": "Small and quick",
    },
    "source_model": "oxen-chat-small",
    "summary": "Answers questions about the sandbox",
}

BASE_MODEL: dict[str, Any] = {
    **copy.deepcopy(CUSTOM_MODEL),
    "id": "oxen-chat-small",
    "owned_by": "oxen",
    "model_type": "base",
    "deployments": [],
    "source_model": None,
}
