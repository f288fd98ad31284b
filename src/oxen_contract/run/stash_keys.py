"""The session's shared state, as pytest stash keys: the one place the plugin's modules meet."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from ..settings.config import RunConfig
from .verdict import Verdict

if TYPE_CHECKING:
    from ..checking.tally import Tally  # noqa: F401
    from ..clients.client import HubClient  # noqa: F401 - named in the quoted key types below
    from ..disposables.ledger import Ledger  # noqa: F401
    from .run_recorder import RunRecorder  # noqa: F401

RUN_CONFIG = pytest.StashKey[RunConfig]()
SESSION_NOTES = pytest.StashKey[list[str]]()
# A live run's progress (activation.say), printed before the notes at the end of the run.
SESSION_LOG = pytest.StashKey[list[str]]()
SESSION_TALLY = pytest.StashKey["Tally"]()
STARTED = pytest.StashKey[float]()
# A probe after a failure costs a request; one every PROBE_INTERVAL seconds is enough to tell an outage.
PROBE_INTERVAL = 10.0
# When the last probe was sent (time.monotonic()) and what it found (None: the hub answered).
LAST_PROBE = pytest.StashKey[tuple[float, str | None]]()
HUB_CLIENT = pytest.StashKey["HubClient"]()
# The hub client the probes go through, on a budget of its own (HubClient.for_probes).
PROBE_CLIENT = pytest.StashKey["HubClient"]()
# What cleanup did, in words: an interrupted run says it instead of a verdict.
SESSION_CLEANUP = pytest.StashKey[str]()
LEDGER_HELD = pytest.StashKey["Ledger"]()
SESSION_LEAKS = pytest.StashKey[list[dict[str, Any]]]()
# Deploys the run could neither prove nor rule out (provisioning.Unsettled), as JSON: named in the report.
SESSION_UNSETTLED = pytest.StashKey[list[dict[str, Any]]]()
RUN_RECORDER = pytest.StashKey["RunRecorder"]()
VERDICT = pytest.StashKey[Verdict]()
WORKER_TALLIES = pytest.StashKey[list[tuple[str, dict[str, Any]]]]()
HUB_URL_SEEN = pytest.StashKey[str]()
SUITE_ACTIVE = pytest.StashKey[bool]()
CHECKED_BEFORE = pytest.StashKey[dict[str, int]]()
SUITE_REQUESTED = pytest.StashKey[bool]()
DEFERRED_USAGE_ERROR = pytest.StashKey[pytest.UsageError]()
GENERATION_THAWED = pytest.StashKey[Callable[[], None]]()
# Puts back the signal handlers a live run replaced (activation._stop_cleanly_on_signals).
SIGNALS_RESTORED = pytest.StashKey[Callable[[], None]]()
WORKER_TALLY = "oxen_contract_tally"
WORKER_LEAKS = "oxen_contract_leaks"
WORKER_UNSETTLED = "oxen_contract_unsettled"
