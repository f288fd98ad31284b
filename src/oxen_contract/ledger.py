"""The provisioning ledger: what each run deployed on which hub, written before it is used, read by the next run.

A run holds an exclusive lock on the ledger for as long as it lives, so two runs (two laptops sharing a checkout, a
manual run during the nightly) never sweep each other's models: while the lock is held, every entry of another run
belongs to a run that is over. Entries are JSON lines::

    {"hub", "run", "at", "event": "intent", "attempt", "fine_tune", "snapshot"}   before a deploy POST
    {"hub", "run", "at", "event": "answered", "attempt", "id"}                    the deploy answer named this id
    {"hub", "run", "at", "event": "provisioned", "attempt", "id"}                 verified: the run may delete it
    {"hub", "run", "at", "event": "closed", "attempt", ["run_of_intent"]}         the deploy's outcome is settled
    {"hub", "run", "at", "event": "deleted", "id"}

An intent that was never closed (a deploy that timed out or answered 5xx, a kill between answer and record) is
reconciled by listing the namespace for the model it made; ``snapshot`` is what the namespace held before.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = ["Intent", "Ledger", "LedgerBusy", "Outstanding"]


class LedgerBusy(Exception):
    """Another run holds the ledger; its message says which, and what to do."""


@dataclass(frozen=True, slots=True)
class Intent:
    """A deploy that was about to be sent and whose outcome no entry settles."""

    run: str
    attempt: int
    at: float
    snapshot: frozenset[str]


@dataclass(slots=True)
class Outstanding:
    """What earlier runs left: verified models never deleted, and deploys never settled."""

    models: list[str] = field(default_factory=list)
    intents: list[Intent] = field(default_factory=list)


@dataclass(slots=True)
class Ledger:
    path: Path
    hub_url: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _lock: IO[str] | None = None

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def acquire(self) -> None:
        """Take the run's exclusive lock; LedgerBusy if another live run holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.lock_path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another run"
            handle.close()
            raise LedgerBusy(
                f"the ledger {self.path} is in use by {holder}: two runs against one ledger would delete each "
                "other's models. Wait for that run to end, or give this one its own --ledger PATH (and namespace)."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"run {self.run_id} (pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')})\n")
        handle.flush()
        self._lock = handle

    def release(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def record(self, event: str, **fields: Any) -> None:
        """Append one entry, durably, on a line of its own even if the last writer was killed mid-line."""
        entry = {"hub": self.hub_url, "run": self.run_id, "event": event, "at": round(time.time(), 3), **fields}
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab+") as file:
            file.seek(0, os.SEEK_END)
            if file.tell() > 0:
                file.seek(-1, os.SEEK_END)
                if file.read(1) != b"\n":
                    file.write(b"\n")
            file.write(line.encode("utf-8"))
            file.flush()
            os.fsync(file.fileno())

    def _entries(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        found = []
        for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a half-written line from a killed run: the lines after it still count
            if isinstance(entry, dict) and entry.get("hub") == self.hub_url:
                found.append(entry)
        return found

    def known_ids(self, *, exclude_run: str | None = None) -> set[str]:
        """Every id a run (but ``exclude_run``) recorded on this hub: answered, provisioned or deleted."""
        return {
            entry["id"]
            for entry in self._entries()
            if isinstance(entry.get("id"), str) and (exclude_run is None or entry.get("run") != exclude_run)
        }

    def outstanding(self, *, include_own: bool = False) -> Outstanding:
        """Models verified and never deleted, and intents never closed, of runs other than this one."""
        pending: dict[str, None] = {}
        intents: dict[tuple[str, int], Intent] = {}
        for entry in self._entries():
            run = str(entry.get("run", ""))
            event, model_id, attempt = entry.get("event"), entry.get("id"), entry.get("attempt")
            if event == "deleted" and isinstance(model_id, str):
                pending.pop(model_id, None)
            elif isinstance(attempt, int) and event in ("provisioned", "closed"):
                # A close may be written by a later run, in the name of the run whose deploy it settles.
                intents.pop((str(entry.get("run_of_intent") or run), attempt), None)
            if run == self.run_id and not include_own:
                continue
            if event == "provisioned" and isinstance(model_id, str):
                pending[model_id] = None
            elif event == "intent" and isinstance(attempt, int):
                snapshot = entry.get("snapshot")
                ids = frozenset(i for i in snapshot if isinstance(i, str)) if isinstance(snapshot, list) else None
                if ids is not None:
                    intents[(run, attempt)] = Intent(run, attempt, float(entry.get("at", 0)), ids)
        return Outstanding(models=list(pending), intents=list(intents.values()))
