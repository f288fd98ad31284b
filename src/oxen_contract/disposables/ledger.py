"""The provisioning ledger: what each run deployed on which hub, written before it is used, read by the next run.

A run holds an exclusive lock on the ledger for as long as it lives, so two runs (two laptops sharing a checkout, a
manual run during the nightly) never sweep each other's models: while the lock is held, every entry of another run
belongs to a run that is over. Entries are JSON lines::

    {"hub", "run", "at", "event": "intent", "attempt", "fine_tune", "snapshot", "hub_before", "hub_clock", "timeout"}
    {"hub", "run", "at", "event": "answered", "attempt", "id"}                the deploy answer named this id
    {"hub", "run", "at", "event": "provisioned", "attempt", "id", "created"}  proved the run's: it may delete it
    {"hub", "run", "at", "event": "closed", "attempt", ["run_of_intent", "adopted", "candidates"]}
    {"hub", "run", "at", "event": "deleted", "id"}
    {"hub", "run", "at", "event": "released", "id", "reason"}   not deleted, and no run can prove it: a person's now

``at`` is the runner's clock; ``hub_before`` is the hub's own time (its ``Date``) when the deploy was sent, which is
what a model's ``created`` is compared with (``provenance.py``), and ``created`` is the model's own, so that a later
run deletes a leftover only if the hub still answers the same model under that id. An intent never closed (a deploy
that timed out, a kill between answer and record) is reconciled by the next run.

Every entry is signed (``mac``: an HMAC of the entry under the run's API key, ``ApiKey.seal``). A ledger is a file: a
poisoned CI cache, a hand edit or another namespace's run could write a line naming someone's model. So a later run
acts (deletes, adopts) only on lines it can verify were written by a run holding the same key, and for a model only
when the whole chain is there: the run's intent (its snapshot, its hub time), then the model it proved. A line that
cannot be verified (lines of older versions, unsigned, among them) is read for what it names: never deleted, never
adopted, named for a person. A line of any other shape is never guessed at: it is kept, and reported with its line
number for a person to check.
"""

from __future__ import annotations

import hmac
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ..checking.failures import OxenContractError
from ..http.redaction import ApiKey

__all__ = ["Intent", "LeftModel", "Ledger", "LedgerBusy", "LedgerUnusable", "Outstanding", "Unreadable"]

_EVENTS = frozenset({"intent", "answered", "provisioned", "closed", "deleted", "released"})


class LedgerBusy(OxenContractError):
    """Another run holds the ledger; its message says which, and what to do."""


class LedgerUnusable(OxenContractError):
    """The ledger's path cannot hold a ledger (a folder, a path under a file, no write access)."""


@dataclass(frozen=True, slots=True)
class Intent:
    """A deploy that was about to be sent (and, in ``Outstanding.intents``, whose outcome no entry settles)."""

    run: str
    attempt: int
    at: float
    snapshot: frozenset[str]
    # The hub's time when the deploy was sent, from the Date of the list read just before (``hub_clock``), or the
    # run's clock where the hub sent none; None in a line written before the ledger recorded it.
    hub_before: float | None = None
    hub_clock: bool = False
    timeout: float | None = None
    # Whether the line verified under this run's key: only then may a run act on it.
    signed: bool = False


@dataclass(frozen=True, slots=True)
class LeftModel:
    """A model an ended run proved its own and never recorded as deleted."""

    run: str
    model_id: str
    # Its ``created`` when it was proved; None in a line written before the ledger recorded it.
    created: int | None
    signed: bool = False
    # The intent of the deploy that made it, when the ledger holds it (the chain a later run checks).
    intent: Intent | None = None


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A ledger line this version cannot read as an entry: kept as it is, and shown to a person."""

    line: int
    text: str

    def describe(self, path: Path) -> str:
        shown = self.text if len(self.text) <= 160 else self.text[:159] + "…"
        return f"{path}:{self.line} is not a ledger entry this version reads (kept as it is): {shown}"


@dataclass(slots=True)
class Outstanding:
    """What earlier runs left: proved models never deleted, deploys never settled, and lines that could not be read."""

    models: list[LeftModel] = field(default_factory=list)
    intents: list[Intent] = field(default_factory=list)
    unreadable: list[Unreadable] = field(default_factory=list)


@dataclass(slots=True)
class Ledger:
    path: Path
    hub_url: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # The run's key, which signs every entry and verifies what earlier runs wrote; None signs nothing.
    key: ApiKey | None = field(default=None, repr=False)
    _lock: FileLock | None = None

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def holder_path(self) -> Path:
        # Who holds the lock, for the message a second run gets: beside the lock file, which is filelock's alone.
        return self.path.with_name(self.path.name + ".holder")

    def acquire(self) -> None:
        """Take the run's exclusive lock; LedgerBusy if another live run holds it, LedgerUnusable if it cannot be."""
        self._check_usable()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LedgerUnusable(f"--ledger {self.path}: cannot hold the ledger there ({error.strerror})") from None
        # filelock rather than fcntl.flock: the same exclusive lock on every platform (flock is POSIX only), held by
        # the open file, so a crashed run's lock goes with its process.
        lock = FileLock(self.lock_path, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            try:
                holder = self.holder_path.read_text(encoding="utf-8").strip()
            except OSError:
                holder = ""
            raise LedgerBusy(
                f"the ledger {self.path} is in use by {holder or 'another run'}: two runs against one ledger would "
                "delete each other's models. Wait for that run to end, or give this one its own --ledger PATH (and "
                "namespace)."
            ) from None
        except OSError as error:
            raise LedgerUnusable(f"--ledger {self.path}: cannot hold the ledger there ({error.strerror})") from None
        self.holder_path.write_text(
            f"run {self.run_id} (pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')})\n", encoding="utf-8"
        )
        self._lock = lock

    def _check_usable(self) -> None:
        """Refuse, before the run, a path that can never hold the ledger: a run must not fail at its first deploy."""
        problem = None
        folder = self.path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if self.path.is_dir():
            problem = "it is a folder"
        elif not folder.is_dir():
            problem = f"{folder} is a file, not a folder"
        elif not os.access(folder, os.W_OK | os.X_OK):
            problem = f"{folder} is not a writable folder"
        elif self.path.exists() and not os.access(self.path, os.R_OK | os.W_OK):
            problem = "the file exists and cannot be read and written"
        if problem:
            raise LedgerUnusable(f"--ledger {self.path}: cannot hold the ledger there ({problem})")

    def release(self) -> None:
        if self._lock is not None:
            self.holder_path.unlink(missing_ok=True)
            self._lock.release()
            self._lock = None

    def record(self, event: str, **fields: Any) -> None:
        """Append one entry, durably, on a line of its own even if the last writer was killed mid-line."""
        entry = {"hub": self.hub_url, "run": self.run_id, "event": event, "at": round(time.time(), 3), **fields}
        if self.key:
            entry["mac"] = self.key.seal(_canonical(entry))
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

    def _lines(self) -> Iterator[tuple[int, str]]:
        if not self.path.is_file():
            return
        text = self.path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield number, line

    def _entries(self, unreadable: list[Unreadable] | None = None) -> list[dict[str, Any]]:
        """The entries of this hub, each checked for the shape its event needs; the others go to ``unreadable``."""
        found = []
        for number, line in self._lines():
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None  # a half-written line from a killed run, or an edit: the lines after it still count
            if not isinstance(entry, dict) or not isinstance(entry.get("hub"), str) or not _well_formed(entry):
                if unreadable is not None:
                    unreadable.append(Unreadable(number, line.strip()))
                continue
            if entry["hub"] == self.hub_url:
                entry["_signed"] = self._verifies(entry)
                found.append(entry)
        return found

    def _verifies(self, entry: dict[str, Any]) -> bool:
        mac = entry.get("mac")
        if not self.key or not isinstance(mac, str):
            return False
        unsigned = {name: value for name, value in entry.items() if name not in ("mac", "_signed")}
        return hmac.compare_digest(mac, self.key.seal(_canonical(unsigned)))

    def known_ids(self, *, exclude_run: str | None = None) -> set[str]:
        """Every id an entry of a run (but ``exclude_run``) names on this hub: answered, proved, deleted, candidate."""
        known: set[str] = set()
        for entry in self._entries():
            if exclude_run is not None and entry["run"] == exclude_run:
                continue
            if isinstance(entry.get("id"), str):
                known.add(entry["id"])
            if isinstance(entry.get("adopted"), str):
                known.add(entry["adopted"])
            known.update(i for i in entry.get("candidates") or () if isinstance(i, str))
        return known

    def outstanding(self, *, include_own: bool = False) -> Outstanding:
        """Models proved and never deleted, and intents never closed, of runs other than this one."""
        unreadable: list[Unreadable] = []
        # id -> (the entry that proved it, the (run, attempt) of its deploy)
        pending: dict[str, tuple[dict[str, Any], tuple[str, int] | None]] = {}
        intents: dict[tuple[str, int], Intent] = {}
        every_intent: dict[tuple[str, int], Intent] = {}
        for entry in self._entries(unreadable):
            run, event = str(entry["run"]), entry["event"]
            model_id, attempt = str(entry.get("id")), entry.get("attempt")
            if event == "intent" and entry["_signed"]:
                # Only a signed intent can back a model: an unsigned one must not complete a forged chain.
                every_intent.setdefault((run, int(entry["attempt"])), _intent(entry))
            if event in ("deleted", "released"):
                pending.pop(model_id, None)
            elif isinstance(attempt, int) and event in ("provisioned", "closed"):
                # A close may be written by a later run, in the name of the run whose deploy it settles.
                intents.pop((str(entry.get("run_of_intent") or run), attempt), None)
            if run == self.run_id and not include_own:
                continue
            if event == "provisioned":
                pending[model_id] = (entry, (run, attempt) if isinstance(attempt, int) else None)
            elif event == "intent":
                intents[(run, int(entry["attempt"]))] = _intent(entry)
        models = [
            LeftModel(
                str(entry["run"]),
                model_id,
                entry.get("created"),
                bool(entry["_signed"]),
                every_intent.get(deploy) if deploy is not None else None,
            )
            for model_id, (entry, deploy) in pending.items()
        ]
        return Outstanding(models=models, intents=list(intents.values()), unreadable=unreadable)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _optional(entry: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> bool:
    value = entry.get(key)
    return value is None or (isinstance(value, kind) and not isinstance(value, bool))


def _well_formed(entry: dict[str, Any]) -> bool:
    """Whether ``entry`` has every field its event needs, each of the type the readers above rely on."""
    event = entry.get("event")
    if event not in _EVENTS or not isinstance(entry.get("run"), str) or not _number(entry.get("at")):
        return False
    attempt_ok = isinstance(entry.get("attempt"), int) and not isinstance(entry.get("attempt"), bool)
    if event == "intent":
        snapshot = entry.get("snapshot")
        return (
            attempt_ok
            and isinstance(snapshot, list)
            and all(isinstance(item, str) for item in snapshot)
            and (entry.get("hub_before") is None or _number(entry.get("hub_before")))
            and (entry.get("timeout") is None or _number(entry.get("timeout")))
        )
    if event in ("answered", "provisioned"):
        return isinstance(entry.get("id"), str) and _optional(entry, "created", int)
    if event == "closed":
        candidates = entry.get("candidates")
        return attempt_ok and (candidates is None or isinstance(candidates, list))
    return isinstance(entry.get("id"), str)  # deleted, released


def _canonical(entry: dict[str, Any]) -> bytes:
    """The bytes an entry's seal covers: its fields, in one order, in one spelling."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _intent(entry: dict[str, Any]) -> Intent:
    hub_before = entry.get("hub_before")
    timeout = entry.get("timeout")
    return Intent(
        run=entry["run"],
        attempt=entry["attempt"],
        at=float(entry["at"]),
        snapshot=frozenset(entry["snapshot"]),
        hub_before=float(hub_before) if hub_before is not None else None,
        hub_clock=entry.get("hub_clock") is True,
        timeout=float(timeout) if timeout is not None else None,
        signed=bool(entry.get("_signed")),
    )
