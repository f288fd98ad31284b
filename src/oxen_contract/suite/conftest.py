"""Contract-suite wiring that pytest-recording must see at conftest level: cassette config and the fuzzed schemas."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oxen_contract.clients.fuzzing import IdPool, Sender, call_and_check, hub_schema_for, use_sender
from oxen_contract.http.transport import guarded_session
from oxen_contract.run.activation import activate_suite
from oxen_contract.settings.config import Mode


def pytest_configure(config: pytest.Config) -> None:
    # This conftest loads when the suite is collected, before its modules: set the session up for it now, so that
    # generation is frozen before anything of the suite draws.
    activate_suite(config)


@pytest.fixture(scope="session", autouse=True)
def _hub_ready(request: pytest.FixtureRequest, hub_ready: None, run_config: Any) -> None:
    """Every test of the suite starts after the hub was probed and earlier runs' leftovers were swept.

    Then, in a live run, the retrieves of every listed model start in the background (``retrieves_ahead``).
    """
    if run_config.mode == Mode.LIVE:
        request.getfixturevalue("retrieves_ahead")


@pytest.fixture(scope="module")
def vcr_config(contract_vcr_config: dict[str, Any]) -> dict[str, Any]:
    return contract_vcr_config


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest, run_config: Any) -> str:
    return str(run_config.cassette_dir / Path(str(request.node.path)).stem)


@pytest.fixture
def listed_models(hub: Any, verifier: Any) -> list[dict[str, Any]]:
    """The model objects the list operation answers (its answer checked on the way)."""
    models: list[dict[str, Any]] = verifier.answer(hub.list())["data"]
    return models


@pytest.fixture
def listed_ids(listed_models: list[dict[str, Any]]) -> list[str]:
    """The ids the list operation answers (its answer checked on the way)."""
    return [model["id"] for model in listed_models]


@pytest.fixture
def hub_schema(contract: Any, live_config: Any, listed_ids: list[str], shared_model: str) -> Any:
    """openapi.yaml's models operations but DELETE, fuzzing listed ids, the run's own model and generated ids."""
    pool = IdPool(listed=listed_ids, own=[shared_model])
    draws = {"max_examples": live_config.max_examples, "seed": live_config.seed}
    return hub_schema_for(contract, live_config.hub_url, pool, **draws).exclude(method="DELETE")


@pytest.fixture
def delete_schema(contract: Any, live_config: Any, disposable_model: str) -> Any:
    """openapi.yaml's DELETE operation, aimed only at a model this run provisioned for it."""
    draws = {"max_examples": live_config.max_examples, "seed": live_config.seed}
    return hub_schema_for(contract, live_config.hub_url, IdPool(doomed=disposable_model), **draws).include(
        method="DELETE"
    )


@pytest.fixture
def hub_call(live_config: Any, verifier: Any, request_guard: Any, hub: Any) -> Iterator[Any]:
    """Sends a schemathesis case with the run's key and raises one ContractFailure for whatever it breaks."""
    sender = Sender(guarded_session(request_guard), request_guard, live_config.token, hub.budget, verifier)
    use_sender(sender)
    yield lambda case: call_and_check(case, sender)
    use_sender(None)
    sender.session.close()


def _deploys_needed(item: pytest.Item) -> int:
    """How many models ``item`` deploys: one for a disposable model, one at least for a test that provisions itself."""
    if "disposable_model" in getattr(item, "fixturenames", ()):
        return 1
    function = getattr(item, "obj", None)
    try:
        asks = inspect.signature(function).parameters if callable(function) else {}
    except (TypeError, ValueError):
        asks = {}
    # The delete lifecycle asks the provisioner for its models itself, as many as the budget leaves, one at least.
    return 1 if "provisioner" in asks else 0


@pytest.fixture
def deploys_needed_later(request: pytest.FixtureRequest, _shared_model_id: list[str]) -> int:
    """The deploys the tests after this one need: each test's own models, and the shared model if not made yet."""
    items = request.session.items
    later = items[items.index(request.node) + 1 :] if request.node in items else []
    shared = not _shared_model_id and any("shared_model" in getattr(item, "fixturenames", ()) for item in later)
    return sum(_deploys_needed(item) for item in later) + shared
