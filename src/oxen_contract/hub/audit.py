"""What really reached the hub: every DELETE of a model and every deploy POST, as the hub saw it; what else appeared.

A suite run against a hostile hub is judged by its effects, not by its own report: "it deleted only what it made" and
"it sent no more deploys than allowed" are facts of the server. The app writes one record per such request after
answering it (the audit never changes an answer); tests read the records, or the queries below, from
``app.state.audit``. Models the run did not make are those the hub held before any request (``preexisting_ids``) and
those that appeared while it ran by no request of it (``appeared_ids``: a colleague's deploy, under a hostile fault).
The server may run in another thread than the reader, so every access takes a lock.

A hub in another process (``oxen-local-hub --audit PATH``, as the self-check runs it) hands its audit over as a JSON
file, rewritten whole after every record: a reader sees every request answered so far, even if the hub is killed,
and ``Audit.load`` turns the file back into an ``Audit`` with the same queries.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .store import Stored


@dataclass(frozen=True, slots=True)
class DeleteRecord:
    """One DELETE that reached the hub."""

    # The path as it arrived, percent-escapes and all.
    path: str
    # The decoded id when the path is a model route; None when it matched none (e.g. a dot segment removed).
    model_id: str | None
    # The namespace of the caller's token; None without a valid one.
    caller: str | None
    # Whether the id named a model not yet deleted when the request arrived.
    existed: bool
    # The owned_by of the model the id named (deleted or not): "oxen" for base models, None for an unknown id.
    owner: str | None
    base: bool
    # Whether this request flagged the model deleted.
    deleted: bool
    status: int

    @classmethod
    def of(
        cls,
        path: str,
        model_id: str | None,
        caller: str | None,
        stored: Stored | None,
        *,
        status: int,
        deleted: bool = False,
    ) -> DeleteRecord:
        """The record of a DELETE of ``model_id``, which named ``stored`` (as it stood before the request)."""
        model = None if stored is None else stored.model
        return cls(
            path=path,
            model_id=model_id,
            caller=caller,
            existed=stored is not None and not stored.deleted,
            owner=None if model is None else model.owned_by,
            base=model is not None and model.is_base,
            deleted=deleted,
            status=status,
        )


@dataclass(frozen=True, slots=True)
class DeployRecord:
    """One POST to either deploy route."""

    # "deploy" or "deploy_checkpoint".
    operation: str
    caller: str | None
    # The id of the model this request created; None when it created none, whatever it answered.
    created_id: str | None
    status: int


def _unique(ids: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(model_id for model_id in ids if model_id is not None))


class Audit:
    """The in-memory record of one app's deletes and deploys, and of the models it held before any request.

    With ``path``, the whole audit is also written there as JSON at once and after every record (raises OSError when
    the file cannot be written).
    """

    def __init__(self, preexisting: Iterable[str] = (), *, path: str | Path | None = None) -> None:
        self._lock = threading.Lock()
        self._preexisting = tuple(preexisting)
        self._deletes: list[DeleteRecord] = []
        self._deploys: list[DeployRecord] = []
        self._appeared: list[str] = []
        self._path = None if path is None else Path(path)
        with self._lock:
            self._save()

    def record_delete(self, record: DeleteRecord) -> None:
        with self._lock:
            self._deletes.append(record)
            self._save()

    def record_deploy(self, record: DeployRecord) -> None:
        with self._lock:
            self._deploys.append(record)
            self._save()

    def record_appearance(self, model_id: str) -> None:
        """A model appeared that no request to this hub made (someone else's deploy)."""
        with self._lock:
            self._appeared.append(model_id)
            self._save()

    def to_json(self) -> dict[str, Any]:
        """The audit as plain JSON data: the preexisting ids and every record, in arrival order."""
        with self._lock:
            return self._json()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audit:
        audit = cls(data["preexisting"])
        audit._deletes = [DeleteRecord(**record) for record in data["deletes"]]
        audit._deploys = [DeployRecord(**record) for record in data["deploys"]]
        # Written by a hub older than the appearances: nothing appeared.
        audit._appeared = [str(model_id) for model_id in data.get("appeared", [])]
        return audit

    @classmethod
    def load(cls, path: str | Path) -> Audit:
        """The audit a hub wrote with ``path`` (``--audit``)."""
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    def _json(self) -> dict[str, Any]:
        return {
            "preexisting": list(self._preexisting),
            "deletes": [asdict(record) for record in self._deletes],
            "deploys": [asdict(record) for record in self._deploys],
            "appeared": list(self._appeared),
        }

    def _save(self) -> None:
        # Caller holds the lock. Written beside and renamed over: a reader never sees half a file.
        if self._path is None:
            return
        partial = self._path.with_name(self._path.name + ".partial")
        partial.write_text(json.dumps(self._json(), indent=1), encoding="utf-8")
        os.replace(partial, self._path)

    def deletes(self) -> tuple[DeleteRecord, ...]:
        """Every DELETE of a model route, in arrival order."""
        with self._lock:
            return tuple(self._deletes)

    def deploys(self) -> tuple[DeployRecord, ...]:
        """Every deploy POST, in arrival order."""
        with self._lock:
            return tuple(self._deploys)

    def preexisting_ids(self) -> tuple[str, ...]:
        """The models live before any request: base models, pre-seeded ones, and what a reopened file held."""
        return self._preexisting

    def appeared_ids(self) -> tuple[str, ...]:
        """The models that appeared while the hub ran, made by no request to it (a colleague's), in order."""
        with self._lock:
            return tuple(self._appeared)

    def others_ids(self) -> tuple[str, ...]:
        """Every model no request to this hub made: held before any request, or appeared since."""
        return _unique((*self.preexisting_ids(), *self.appeared_ids()))

    def deletes_reaching_existing(self) -> tuple[str, ...]:
        """The ids of live models that some DELETE named, whatever it answered, first reached first."""
        return _unique(record.model_id for record in self.deletes() if record.existed)

    def deleted_ids(self) -> tuple[str, ...]:
        """The ids of the models a DELETE really deleted."""
        return _unique(record.model_id for record in self.deletes() if record.deleted)

    def deleted_others(self) -> tuple[str, ...]:
        """The models no request made (``others_ids``) that a DELETE really deleted."""
        others = set(self.others_ids())
        return tuple(model_id for model_id in self.deleted_ids() if model_id in others)

    def created_ids(self) -> tuple[str, ...]:
        """The ids of the models deploys really created, whether or not their answers said so."""
        return tuple(record.created_id for record in self.deploys() if record.created_id is not None)

    def deploy_posts(self) -> int:
        """How many deploy POSTs reached the hub, whatever they answered."""
        return len(self.deploys())

    def deletes_reaching_others(self) -> tuple[str, ...]:
        """The ids of live custom models that some DELETE named although no deploy of this hub created them.

        Pre-seeded models and those that appeared while the hub ran (a colleague's) are among them. Base models are
        left out: a suite may ask to delete one to check the refusal (see ``deletes()``).
        """
        created = set(self.created_ids())
        reached = (record for record in self.deletes() if record.existed and not record.base)
        return _unique(record.model_id for record in reached if record.model_id not in created)
