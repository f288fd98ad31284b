"""Bends that more than one family uses: one definition each, so that the same slip reads the same everywhere.

A bend used by a single family stays in that family's module, next to the entries it serves.
"""

from __future__ import annotations

from dataclasses import replace

from ..records import JsonObject, Reply
from ._base import ModelBend


def drop(key: str) -> ModelBend:
    def bend(model: JsonObject) -> JsonObject:
        return {k: v for k, v in model.items() if k != key}

    return bend


def set_to(key: str, value: object) -> ModelBend:
    def bend(model: JsonObject) -> JsonObject:
        return {**model, key: value}

    return bend


def created_as_string(model: JsonObject) -> JsonObject:
    return {**model, "created": str(model["created"])}


def other_id(model: JsonObject) -> JsonObject:
    # A plausible slip: answering with the base model's id instead of the deleted one.
    return {**model, "id": model.get("source_model") or f"{model['id']}-other"}


def in_a_list(reply: Reply) -> Reply:
    return replace(reply, payload=[reply.payload])
