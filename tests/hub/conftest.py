"""Fixtures for the hub's tests: fresh in-process hubs and clients that call them through ASGI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette

from oxen_contract.hub import create_app

from ._helpers import TOKENS, HubClient

MakeClient = Callable[..., HubClient]


@pytest.fixture
def make_client() -> Iterator[MakeClient]:
    """A factory of clients over fresh hubs (deterministic unless told otherwise), closed after the test."""
    made: list[Starlette] = []

    def make(*faults: str, **options: Any) -> HubClient:
        options.setdefault("deterministic", True)
        app = create_app(TOKENS, faults, **options)
        client = HubClient(app)
        made.append(app)
        return client

    yield make
    for app in made:
        app.state.store.close()


@pytest.fixture
def client(make_client: MakeClient) -> HubClient:
    """A client of a fresh deterministic hub without faults."""
    return make_client()
