"""The hub's state in SQLite, one transaction per request.

Why SQLite: the hub must keep its state across a restart and a kill -9 (``--db PATH``, WAL journal), and two
concurrent deletes of one model must give exactly one success. Writes therefore open with ``BEGIN IMMEDIATE``, which
takes the write lock before the first read, so "is it still there?" and "remove it" cannot interleave, even between
two hub processes sharing one file. In memory (the default) one connection serves every thread behind a lock.

Rows hold only what a deploy decides (id, owner, fine-tune, time, status); the model records are rebuilt from the
catalog, so the store never stores a rendering of the API. Deletion is a flag, which lets faults resurrect a model.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from .catalog import BASE_MODELS, BASE_MODELS_BY_ID, sandbox_fine_tune
from .records import FineTune, Model, custom_model

_SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT,
    source_model TEXT,
    repo TEXT,
    fine_tune_id TEXT,
    step INTEGER,
    created INTEGER NOT NULL,
    status TEXT,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS fine_tunes (
    owner TEXT NOT NULL,
    repo TEXT NOT NULL,
    id TEXT NOT NULL,
    base_model TEXT NOT NULL,
    created INTEGER NOT NULL,
    steps TEXT NOT NULL,
    PRIMARY KEY (owner, repo, id)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_MODEL_COLUMNS = "id, owner, source_model, repo, fine_tune_id, step, created, status, deleted"
_Row = tuple[str, str | None, str | None, str | None, str | None, int | None, int, str | None, int]


class StoreError(Exception):
    """The database file cannot be opened or initialised (a usage error for the command line)."""


@dataclass(frozen=True, slots=True)
class Stored:
    model: Model
    deleted: bool


class Tx:
    """The operations one request may perform, inside its transaction."""

    __slots__ = ("_catalog", "_db")

    def __init__(self, db: sqlite3.Connection, catalog: Mapping[str, Model] = BASE_MODELS_BY_ID) -> None:
        self._db = db
        # The base models this hub serves, by id: its rows hold only ids, the records come from here.
        self._catalog = catalog

    def models(self, namespace: str | None, *, every_namespace: bool = False) -> list[Model]:
        """Live base models, then the namespace's live custom models (or every namespace's), each in creation order."""
        rows = self._db.execute(
            f"SELECT {_MODEL_COLUMNS} FROM models WHERE deleted = 0 AND (owner IS NULL OR owner = ? OR ?) "
            "ORDER BY owner IS NOT NULL, seq",
            (namespace, every_namespace),
        ).fetchall()
        return [stored.model for row in rows if (stored := _from_row(row, self._catalog)) is not None]

    def get(self, model_id: str) -> Stored | None:
        row = self._db.execute(f"SELECT {_MODEL_COLUMNS} FROM models WHERE id = ?", (model_id,)).fetchone()
        return None if row is None else _from_row(row, self._catalog)

    def set_status(self, model_id: str, status: str) -> None:
        self._db.execute("UPDATE models SET status = ? WHERE id = ?", (status, model_id))

    def delete(self, model_id: str) -> bool:
        """Flag the model deleted; False when it already was (or never existed)."""
        cursor = self._db.execute("UPDATE models SET deleted = 1 WHERE id = ? AND deleted = 0", (model_id,))
        return cursor.rowcount == 1

    def fine_tune(self, owner: str, repo: str, fine_tune_id: str) -> FineTune | None:
        row = self._db.execute(
            "SELECT base_model, created, steps FROM fine_tunes WHERE owner = ? AND repo = ? AND id = ?",
            (owner, repo, fine_tune_id),
        ).fetchone()
        if row is None:
            return None
        steps = tuple(int(step) for step in row[2].split(",") if step)
        return FineTune(owner, repo, fine_tune_id, row[0], row[1], steps)

    def next_serial(self) -> int:
        """The next number of the hub's sequence (ids, deterministic clock); never reused, even across restarts."""
        row = self._db.execute(
            "INSERT INTO counters (name, value) VALUES ('serial', 1) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value"
        ).fetchone()
        return int(row[0])

    def next_tick(self) -> int:
        """How many requests the deterministic clock counted before this one; the count survives a restart."""
        row = self._db.execute(
            "INSERT INTO counters (name, value) VALUES ('clock', 0) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value"
        ).fetchone()
        return int(row[0])

    def live_ids(self) -> list[str]:
        """The ids of every model not deleted, whoever owns it, in creation order."""
        return [row[0] for row in self._db.execute("SELECT id FROM models WHERE deleted = 0 ORDER BY seq")]

    def add_custom(self, model: Model, fine_tune: FineTune, step: int | None, *, seed: bool = False) -> None:
        """Add a deployed model; with ``seed``, only if its id is new, so a reopened file keeps it as it was."""
        verb = "INSERT OR IGNORE" if seed else "INSERT"
        self._db.execute(
            f"{verb} INTO models ({_MODEL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
            (
                model.id,
                model.owned_by,
                model.source_model,
                fine_tune.repo,
                fine_tune.id,
                step,
                model.created,
                model.deployment_status,
            ),
        )


def _from_row(row: _Row, catalog: Mapping[str, Model]) -> Stored | None:
    model_id, owner, source_model, repo, fine_tune_id, step, created, status, deleted = row
    if owner is None:
        base = catalog.get(model_id)
        return None if base is None else Stored(base, bool(deleted))
    # A fine-tune's base is one of the seeded models, whether or not this hub lists it.
    base = BASE_MODELS_BY_ID.get(source_model or "")
    if base is None or repo is None or fine_tune_id is None:
        # A row written by a hub with another catalog: invisible rather than a crash.
        return None
    fine_tune = FineTune(owner, repo, fine_tune_id, base.id, created)
    model = custom_model(base, model_id=model_id, fine_tune=fine_tune, step=step, created=created, status=status or "")
    return Stored(model, bool(deleted))


class Store:
    """One SQLite database: seeded on open, then used through read() and write() transactions."""

    def __init__(
        self, db_path: str | None = None, *, namespaces: Iterable[str] = (), base_models: Iterable[Model] = BASE_MODELS
    ) -> None:
        self._lock = threading.Lock()
        # What the hub lists as its base models (``synthetic.catalog_of`` makes smaller and larger ones).
        self._catalog = {model.id: model for model in base_models}
        try:
            self._db = sqlite3.connect(
                db_path or ":memory:", isolation_level=None, check_same_thread=False, timeout=30.0
            )
            if db_path:
                self._db.execute("PRAGMA journal_mode = WAL")
                # NORMAL loses nothing on a process crash (kill -9), only on power loss, and keeps writes fast.
                self._db.execute("PRAGMA synchronous = NORMAL")
            with self.write() as tx:
                # Statement by statement: executescript() would commit in the middle of the transaction.
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        tx._db.execute(statement)
                self._seed(tx, namespaces, self._catalog.values())
        except sqlite3.Error as exc:
            raise StoreError(f"cannot use database {db_path!r}: {exc}") from None

    @staticmethod
    def _seed(tx: Tx, namespaces: Iterable[str], base_models: Iterable[Model]) -> None:
        # INSERT OR IGNORE: on a reopened file, deleted or changed rows stay as they were.
        tx._db.executemany(
            "INSERT OR IGNORE INTO models (id, owner, created) VALUES (?, NULL, ?)",
            [(model.id, model.created) for model in base_models],
        )
        tx._db.executemany(
            "INSERT OR IGNORE INTO fine_tunes (owner, repo, id, base_model, created, steps) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (ft.owner, ft.repo, ft.id, ft.base_model, ft.created, ",".join(map(str, ft.steps)))
                for ft in map(sandbox_fine_tune, sorted(set(namespaces)))
            ],
        )

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self._transaction("BEGIN") as tx:
            yield tx

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self._transaction("BEGIN IMMEDIATE") as tx:
            yield tx

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Tx]:
        with self._lock:
            self._db.execute(begin)
            try:
                yield Tx(self._db, self._catalog)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()
