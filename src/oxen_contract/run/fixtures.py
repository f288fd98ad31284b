"""The suite's fixtures: the hub, its client and guard, the verifier, disposable models, cassettes.

Each is named for what it gives. Heavy imports stay inside them so that ``pytest --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from ..checking.skips import skip_by_settings
from ..settings.config import LOCAL_NAMESPACE, LOCAL_OTHER_NAMESPACE, Mode, RunConfig
from .activation import activate_suite, say
from .stash_keys import (
    HUB_CLIENT,
    HUB_URL_SEEN,
    LEDGER_HELD,
    RUN_CONFIG,
    SESSION_CLEANUP,
    SESSION_LEAKS,
    SESSION_NOTES,
    SESSION_TALLY,
    SESSION_UNSETTLED,
)

# Every fixture, for the plugin's star import (which would skip the underscored one).
__all__ = [
    "_shared_model_id",
    "concurrent_reads",
    "contract",
    "contract_vcr_config",
    "disposable_model",
    "hub",
    "hub_is_reachable",
    "hub_ready",
    "hub_url",
    "live_config",
    "other_namespace_key",
    "protection_probes",
    "provisioner",
    "request_guard",
    "retrieves_ahead",
    "run_config",
    "session_cassette",
    "shared_model",
    "verifier",
]


@pytest.fixture(scope="session")
def run_config(request: pytest.FixtureRequest) -> RunConfig:
    """The run's resolved settings (mode, hub, provisioning, variant)."""
    activate_suite(request.config)
    return request.config.stash[RUN_CONFIG]


@pytest.fixture(scope="session")
def contract() -> Any:
    """The contracts, loaded once by the package's only reader of contracts/."""
    from ..checking.contracts import load_contract

    return load_contract()


@pytest.fixture(scope="session")
def hub_url(request: pytest.FixtureRequest, run_config: RunConfig) -> Iterator[str]:
    """The base URL the suite talks to; with --local-hub, a local reference hub started for the session."""
    if not run_config.local_hub:
        yield run_config.hub_url
        return
    from ..hub import LocalHub
    from ..settings.config import LOCAL_OTHER_TOKEN, LOCAL_TOKEN

    tokens = {LOCAL_TOKEN: LOCAL_NAMESPACE, LOCAL_OTHER_TOKEN: LOCAL_OTHER_NAMESPACE}
    with LocalHub(tokens, deterministic=True) as local:
        say(request.config, f"local reference hub listening on {local.url}")
        request.config.stash[HUB_URL_SEEN] = local.url
        yield local.url


@pytest.fixture(scope="session")
def live_config(run_config: RunConfig, hub_url: str) -> RunConfig:
    """The run's settings with the hub URL known (a local hub's port is picked at start)."""
    return dataclasses.replace(run_config, hub_url=hub_url)


@pytest.fixture(scope="session")
def contract_vcr_config(live_config: RunConfig) -> dict[str, Any]:
    """What tests/contract/conftest.py hands pytest-recording as ``vcr_config``."""
    from ..recording.cassettes import vcr_config_for

    return vcr_config_for(live_config)


@pytest.fixture(scope="session")
def session_cassette(
    request: pytest.FixtureRequest, live_config: RunConfig, contract_vcr_config: dict[str, Any]
) -> Iterator[Any]:
    """The cassette for exchanges that belong to the session, not to one test; None in live runs."""
    if live_config.mode == Mode.LIVE:
        yield None
        return
    from ..recording.cassette_damage import SESSION_CASSETTE
    from ..recording.cassettes import SessionCassette

    record_mode = str(request.config.getoption("record_mode", default="none") or "none")
    cassette = SessionCassette(live_config.cassette_dir / SESSION_CASSETTE, record_mode, contract_vcr_config)
    yield cassette
    if live_config.mode == Mode.RECORD:
        cassette.save()


@pytest.fixture(scope="session")
def verifier(request: pytest.FixtureRequest, contract: Any, live_config: RunConfig) -> Iterator[Any]:
    """Checks answers against the contract in the run's variant; also used by the schemathesis checks."""
    from ..checking.checks import Verifier, use_verifier

    keys = [key for key in (live_config.token, live_config.other_token) if key is not None]
    tally = request.config.stash[SESSION_TALLY]
    checker = Verifier(contract, strict=live_config.strict_contract, keys=keys, tally=tally)
    use_verifier(checker)
    yield checker
    use_verifier(None)


@pytest.fixture(scope="session")
def request_guard(live_config: RunConfig) -> Any:
    """What may leave the process (transport.RequestGuard): deletes of verified ids only, deploys within the cap."""
    from ..http.guard import RequestGuard

    keys = [key for key in (live_config.token, live_config.other_token) if key]
    return RequestGuard(
        live_config.hub_url, max_deploys=live_config.max_provisions, timeout=live_config.request_timeout, keys=keys
    )


@pytest.fixture(scope="session")
def hub(request: pytest.FixtureRequest, live_config: RunConfig, request_guard: Any) -> Iterator[Any]:
    """An httpx client for the hub with the run's keys: one method per documented operation."""
    from ..checking.exchange import Credential
    from ..clients.client import HubClient
    from ..http.retries import Pace, RequestBudget

    keys = {Credential.KEY: live_config.token}
    if live_config.other_token:
        keys[Credential.OTHER] = live_config.other_token
    # One pace for the run: every client sends on this budget or a twin of it (cleanup, probes, the fuzzer, the SDK).
    budget = RequestBudget(live_config.max_requests, pace=Pace(live_config.concurrency))
    client = HubClient(live_config.hub_url, keys, guard=request_guard, budget=budget)
    request.config.stash[HUB_CLIENT] = client
    yield client
    del request.config.stash[HUB_CLIENT]
    client.close()
    if live_config.live:
        request.config.stash[SESSION_NOTES].append(_requests_note(budget, live_config))


@pytest.fixture
def concurrent_reads(hub: Any) -> Iterator[Callable[[Callable[[Any], Any], Iterable[Any]], Iterator[Any]]]:
    """``concurrent_reads(fetch, items)``: each item fetched, up to --concurrency at once; the answers in items' order.

    For independent reads only (retrieves, searches, filtered lists): check the answers in the test's thread. Whatever
    is still pending when the test ends, failed or not, is cancelled then (``fanout.py``).
    """
    with contextlib.ExitStack() as stack:

        def reads(fetch: Callable[[Any], Any], items: Iterable[Any], ahead: Any = None) -> Iterator[Any]:
            answers: Iterator[Any] = stack.enter_context(hub.side_by_side(fetch, items, ahead))
            return answers

        yield reads


# The test whose reads are started ahead: it retrieves every listed model, a thousand on a large catalogue.
_READS_AHEAD_FOR = "test_every_listed_model_retrieves_as_itself"


@pytest.fixture(scope="session")
def retrieves_ahead(request: pytest.FixtureRequest, live_config: RunConfig, hub: Any) -> Iterator[Any]:
    """The retrieves of the models the run's first list names, started in the background (``fanout.ReadAhead``).

    Only live, with room for more than one request at a time (replay and recording keep their cassettes' order), no
    --max-requests (reads ahead would spend a cap the tests need), and the retrieving test selected. The test takes an
    answer only for a model its own list still names, and retrieves the rest itself; None: nothing was started.
    """
    from ..disposables.provenance import listed_models

    selected = any(getattr(item, "originalname", "") == _READS_AHEAD_FOR for item in request.session.items)
    if hub.budget.pace.limit <= 1 or live_config.max_requests is not None or not selected:
        yield None
        return
    models = listed_models(hub.list())
    ids = [model["id"] for model in models or () if isinstance(model, dict) and isinstance(model.get("id"), str)]
    ahead = hub.read_ahead(hub.retrieve, ids)
    yield ahead
    ahead.close()


@pytest.fixture(scope="session")
def hub_is_reachable(request: pytest.FixtureRequest, run_config: RunConfig) -> None:
    # Before anything else in a live run: an unreachable hub is an outage, not a hundred contract failures; a key the
    # hub refuses on the list, which every caller may use, is a setup error, not seven contract failures.
    if not run_config.live:
        return
    from ..checking.failures import SetupError
    from ..http.retries import HubUnavailable

    hub = request.getfixturevalue("hub")
    say(request.config, f"probing {hub.base_url}")
    reason = hub.probe()
    if reason:
        request.session.shouldstop = f"hub unavailable: {reason}"
        raise HubUnavailable(reason)
    refused = hub.not_ready()
    if refused:
        request.session.shouldstop = refused
        raise SetupError(refused)


@pytest.fixture(scope="session")
def provisioner(
    request: pytest.FixtureRequest,
    live_config: RunConfig,
    hub: Any,
    request_guard: Any,
    session_cassette: Any,
    verifier: Any,
) -> Iterator[Any]:
    """Hands out disposable models (deploys capped by --max-provisions), and cleans up what the run made."""
    from ..disposables.provisioning import Provisioner

    config = request.config
    made = Provisioner(
        hub,
        live_config,
        config.stash.get(LEDGER_HELD, None),
        log=lambda message: say(config, message),
        check_answer=verifier.deploy_answer,
    )
    # The guard lets a DELETE out only for what the provisioner verified.
    request_guard.may_delete = lambda: made.owns
    notes = config.stash[SESSION_NOTES]
    leftovers = made.sweep_leftovers() if live_config.mode != Mode.REPLAY else []
    if leftovers:
        notes.append(f"deleted {len(leftovers)} model(s) left by an earlier run: {', '.join(leftovers)}")
    yield made
    if live_config.mode == Mode.REPLAY:
        return  # nothing was made on any hub
    with session_cassette.active() if session_cassette else contextlib.nullcontext():
        made.sweep_leaks()
    notes.extend(made.notes)
    notes.extend(leak.line() for leak in made.leaks)
    notes.extend(unsettled.line() for unsettled in made.unsettled)
    config.stash[SESSION_LEAKS] = [dataclasses.asdict(leak) for leak in made.leaks]
    config.stash[SESSION_UNSETTLED] = [unsettled.to_json() for unsettled in made.unsettled]
    config.stash[SESSION_CLEANUP] = made.cleanup_said()
    notes.append(
        f"sent {request_guard.deploy_posts} deploy request(s) of --max-provisions {live_config.max_provisions}; "
        f"{len(made.made)} model(s) proved the run's"
    )


@pytest.fixture(scope="session")
def hub_ready(request: pytest.FixtureRequest, run_config: RunConfig, hub_is_reachable: None) -> None:
    """Before the suite's first test: the hub answers and takes the key, and earlier runs' leftovers are swept.

    The contract suite's conftest uses it automatically; nothing else in a session pays for it.
    """
    # Only a remote hub keeps a ledger; sweeping first means a crashed run's models go even if no test deploys.
    if run_config.ledger_path is not None:
        request.getfixturevalue("provisioner")


@pytest.fixture(scope="session")
def _shared_model_id(provisioner: Any, session_cassette: Any) -> Iterator[list[str]]:
    holder: list[str] = []
    yield holder
    if holder and provisioner.config.mode != Mode.REPLAY:
        with session_cassette.active() if session_cassette else contextlib.nullcontext():
            provisioner.dispose(holder[0])


@pytest.fixture
def shared_model(provisioner: Any, session_cassette: Any, _shared_model_id: list[str]) -> str:
    """A disposable custom model shared by tests that must not delete it; made once per session."""
    from ..checking.failures import ProvisionsExhausted

    if not _shared_model_id:
        try:
            with session_cassette.active() if session_cassette else contextlib.nullcontext():
                _shared_model_id.append(provisioner.fresh_model(shared=True))
        except ProvisionsExhausted as reason:
            skip_by_settings(str(reason))
    return _shared_model_id[0]


@pytest.fixture
def disposable_model(provisioner: Any) -> Iterator[str]:
    """A fresh disposable custom model the test may delete; deleted afterwards if the test did not."""
    from ..checking.failures import ProvisionsExhausted

    try:
        model_id = provisioner.fresh_model()
    except ProvisionsExhausted as reason:
        skip_by_settings(str(reason))
    yield model_id
    if model_id not in provisioner.deleted and provisioner.config.mode != Mode.REPLAY:
        provisioner.dispose(model_id)


@pytest.fixture
def other_namespace_key(live_config: RunConfig) -> str:
    """The credential label of a second namespace's key; skips when OXEN_API_KEY_OTHER is not set."""
    from ..checking.exchange import Credential

    if not live_config.other_token:
        skip_by_settings("cross-namespace check: set OXEN_API_KEY_OTHER to a key of a second namespace")
    return Credential.OTHER


@pytest.fixture
def protection_probes(live_config: RunConfig) -> None:
    """Skips unless probes that try to delete what must stay are allowed (--allow-protection-probes)."""
    if not live_config.allow_protection_probes:
        skip_by_settings(
            "protection probe: a broken hub would really delete the model; pass --allow-protection-probes to run it"
        )


def _requests_note(budget: Any, run: RunConfig) -> str:
    """How much the run asked of the hub: every request sent, and how much of --max-requests it took."""
    cap = f"--max-requests {budget.limit}" if budget.limit is not None else "no --max-requests"
    others = budget.run_sent - budget.sent
    pace = budget.pace.limit
    slowed = f", lowered to {pace} after a 429" if pace < run.concurrency else ""
    return (
        f"sent {budget.run_sent} request(s) to the hub: {budget.sent} of {cap}, {others} for cleanup and health "
        f"probes; at most {run.concurrency} at once{slowed}"
    )
