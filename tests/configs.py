"""Run configurations for tests that build a plugin object by hand (no pytest session to resolve one)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from oxen_contract.checking.exchange import Credential
from oxen_contract.http.redaction import ApiKey
from oxen_contract.settings.config import Mode, RunConfig


def run_config(hub_url: str, key: str, other_key: str | None = None, **changes: Any) -> RunConfig:
    """A live recording run against ``hub_url`` as namespace alice, with ``changes`` to any field."""
    config = RunConfig(
        mode=Mode.RECORD,
        hub_url=hub_url,
        local_hub=False,
        token=ApiKey(key, Credential.KEY),
        other_token=ApiKey(other_key, Credential.OTHER) if other_key else None,
        namespace="alice",
        fine_tunes=(),
        disposable_models=(),
        max_provisions=1,
        allow_protection_probes=False,
        strict_contract=False,
        request_timeout=5.0,
        ledger_path=None,
        cassette_dir=Path("cassettes"),
    )
    return dataclasses.replace(config, **changes)
