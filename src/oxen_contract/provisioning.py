"""Disposable custom models: made by deploying a fine-tune, capped per run, recorded in a ledger, cleaned up.

The suite is pointed at real hubs, where deploying costs money and deleting the wrong model loses someone's work. So
it deletes only ids this module handed out (deployed in this run or named with --disposable-model), writes each
deploy to a ledger before using the model (a crashed run's leftovers are deleted by the next run), and at the end of
the session deletes whatever it made that is still there and reports it as a leak.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .client import Exchange, HubClient
from .config import RunConfig
from .failures import ProvisioningError
from .report import curl_line, excerpt

__all__ = ["Ledger", "Provisioner", "ProvisioningError", "ProvisionsExhausted"]

# A fresh deploy may need a moment before retrieve finds it.
_READY_POLLS = 10
_READY_PAUSE = 1.0


class ProvisionsExhausted(ProvisioningError):
    """The run may not deploy another model (--max-provisions) and was given none to spare."""


@dataclass(slots=True)
class Ledger:
    """Append-only JSON lines of ``{"hub", "id", "event"}``; survives a crash of the run that writes it."""

    path: Path
    hub_url: str

    def record(self, model_id: str, event: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"hub": self.hub_url, "id": model_id, "event": event, "at": int(time.time())})
        with self.path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")
            file.flush()
            os.fsync(file.fileno())

    def outstanding(self) -> list[str]:
        """Ids provisioned on this hub and never recorded as deleted; unreadable lines are skipped, not fatal."""
        if not self.path.is_file():
            return []
        pending: dict[str, None] = {}
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict) or entry.get("hub") != self.hub_url or not isinstance(entry.get("id"), str):
                continue
            if entry.get("event") == "provisioned":
                pending[entry["id"]] = None
            elif entry.get("event") == "deleted":
                pending.pop(entry["id"], None)
        return list(pending)


@dataclass(slots=True)
class Provisioner:
    """Hands out model ids the run may delete; never more deploys than --max-provisions."""

    client: HubClient
    config: RunConfig
    ledger: Ledger | None
    log: Any = print
    deploys: int = 0
    made: list[str] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    _given: deque[str] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._given.extend(self.config.disposable_models)

    @property
    def owns(self) -> frozenset[str]:
        """Every id this run may delete."""
        return frozenset(self.made) | frozenset(self.config.disposable_models)

    def unavailable_reason(self) -> str | None:
        if not self.config.can_provision:
            return (
                "no disposable custom model: pass --fine-tune OWNER/REPO/FT_ID[@STEP] (env OXEN_CONTRACT_FINE_TUNE) "
                "to deploy one, or --disposable-model ID for one this run may delete"
            )
        if not self._given and self.deploys >= self.config.max_provisions:
            return f"--max-provisions {self.config.max_provisions} reached: raise it to run this test too"
        return None

    def fresh_model(self) -> str:
        """A model id nobody else uses, that the caller may delete."""
        reason = self.unavailable_reason()
        if reason:
            raise ProvisionsExhausted(reason)
        if self._given:
            return self._given.popleft()
        fine_tune = self.config.fine_tune
        assert fine_tune is not None
        self.deploys += 1
        if fine_tune.step is None:
            answer = self.client.deploy_fine_tune(fine_tune.owner, fine_tune.repo, fine_tune.fine_tune_id)
            model_id = _pick(answer, ("deployment", "model_slug"))
        else:
            answer = self.client.deploy_checkpoint(
                fine_tune.owner, fine_tune.repo, fine_tune.fine_tune_id, fine_tune.step
            )
            model_id = _pick(answer, ("model", "id"))
        if self.ledger:
            self.ledger.record(model_id, "provisioned")
        self.made.append(model_id)
        self.log(f"provisioned {model_id!r} from fine-tune {fine_tune} ({self.deploys}/{self.config.max_provisions})")
        self._wait_until_retrievable(model_id)
        return model_id

    def _wait_until_retrievable(self, model_id: str) -> None:
        for attempt in range(_READY_POLLS):
            if self.client.retrieve(model_id).status != 404:
                return
            if attempt + 1 < _READY_POLLS:
                time.sleep(_READY_PAUSE)
        raise ProvisioningError(f"deployed {model_id!r} but retrieve still answers 404 after {_READY_POLLS} tries")

    def forget(self, model_id: str) -> None:
        """Record that ``model_id`` is gone (the hub answered 200 to its delete, or 404)."""
        self.deleted.add(model_id)
        if self.ledger and model_id in self.made:
            self.ledger.record(model_id, "deleted")

    def dispose(self, model_id: str) -> bool:
        """Delete ``model_id`` if it still exists; True when it was still there."""
        if model_id not in self.owns:
            raise ProvisioningError(f"refusing to delete {model_id!r}: this run did not provision it")
        if self.client.retrieve(model_id).status == 404:
            self.forget(model_id)
            return False
        answer = self.client.delete(model_id)
        if answer.status in (200, 404):
            self.forget(model_id)
        self.log(f"cleanup: deleted {model_id!r} (answered {answer.status})")
        return True

    def sweep_leftovers(self) -> list[str]:
        """Delete what earlier runs provisioned on this hub and never deleted; the ids that were still there."""
        if not self.ledger:
            return []
        self.log(f"checking the ledger {self.ledger.path} for models an earlier run left behind")
        found = []
        for model_id in self.ledger.outstanding():
            self.made.append(model_id)
            if self.dispose(model_id):
                found.append(model_id)
        return found

    def sweep_leaks(self) -> list[str]:
        """At session end: delete every model this run made that is still there; those are leaks."""
        return [model_id for model_id in self.made if model_id not in self.deleted and self.dispose(model_id)]


def _pick(answer: Exchange, path: tuple[str, str]) -> str:
    where = ".".join(path)
    problem = None
    body: Any = None
    if answer.status != 200:
        problem = f"answered {answer.status}"
    else:
        try:
            body = answer.json()
        except ValueError:
            problem = "answered a body that is not JSON"
    value = body
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if problem is None and (not isinstance(value, str) or not value):
        problem = f"answered without a model id at {where}"
    if problem:
        raise ProvisioningError(
            f"cannot provision a disposable model: {answer.method} {answer.path} {problem}\n"
            f"  body: {excerpt(answer.text)}\n"
            f"  reproduce with: {curl_line(answer.method, answer.url, answer.credential)}"
        )
    assert isinstance(value, str)
    return value
