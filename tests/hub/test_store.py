"""The SQLite store: seeding, transactions, the serial sequence and persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxen_contract.hub.catalog import BASE_MODELS, BASE_MODELS_BY_ID, preseeded_models, sandbox_fine_tune
from oxen_contract.hub.records import custom_model
from oxen_contract.hub.store import Store, StoreError, Tx


def _add(tx: Tx, owner: str = "alice") -> str:
    fine_tune = sandbox_fine_tune(owner)
    serial = tx.next_serial()
    base = BASE_MODELS_BY_ID[fine_tune.base_model]
    model = custom_model(
        base, model_id=f"{owner}:m{serial}", fine_tune=fine_tune, step=None, created=serial, status="active"
    )
    tx.add_custom(model, fine_tune, None)
    return model.id


def test_a_new_store_holds_the_base_models_and_each_namespaces_fine_tune() -> None:
    store = Store(namespaces=["alice", "bob", "alice"])
    with store.read() as tx:
        assert tx.models("alice") == list(BASE_MODELS)
        assert tx.fine_tune("alice", "sandbox", "ft-1") == sandbox_fine_tune("alice")
        assert tx.fine_tune("bob", "sandbox", "ft-1") is not None
        assert tx.fine_tune("carol", "sandbox", "ft-1") is None
    store.close()


def test_custom_models_are_listed_for_their_owner_only() -> None:
    store = Store(namespaces=["alice", "bob"])
    with store.write() as tx:
        mine, theirs = _add(tx, "alice"), _add(tx, "bob")
    with store.read() as tx:
        assert [m.id for m in tx.models("alice")][-1] == mine
        assert theirs not in {m.id for m in tx.models("alice")}
        assert {m.id for m in tx.models(None)} == {m.id for m in BASE_MODELS}
    store.close()


def test_delete_succeeds_once_and_keeps_a_tombstone() -> None:
    store = Store(namespaces=["alice"])
    with store.write() as tx:
        model_id = _add(tx)
        assert tx.delete(model_id) is True
        assert tx.delete(model_id) is False
        stored = tx.get(model_id)
        assert stored is not None and stored.deleted
        assert model_id not in {m.id for m in tx.models("alice")}
    store.close()


def test_a_failing_request_leaves_no_trace() -> None:
    store = Store(namespaces=["alice"])
    with pytest.raises(RuntimeError), store.write() as tx:
        model_id = _add(tx)
        raise RuntimeError("the request failed half way")
    with store.read() as tx:
        assert tx.get(model_id) is None
    store.close()


def test_the_serial_sequence_continues_after_reopening_a_file(tmp_path: Path) -> None:
    db = str(tmp_path / "hub.sqlite")
    store = Store(db, namespaces=["alice"])
    with store.write() as tx:
        first = _add(tx)
        tx.set_status(first, "inactive")
        deleted = _add(tx)
        tx.delete(deleted)
    store.close()
    reopened = Store(db, namespaces=["alice", "bob"])
    with reopened.write() as tx:
        stored = tx.get(first)
        assert stored is not None and stored.model.deployment_status == "inactive"
        assert tx.models("alice")[-1].id == first
        assert tx.next_serial() == 3
        assert tx.fine_tune("bob", "sandbox", "ft-1") is not None
    reopened.close()


def test_seeding_a_model_twice_keeps_the_first_row_as_it_is_now() -> None:
    store = Store(namespaces=["alice"])
    prod, old = preseeded_models("alice")
    fine_tune = sandbox_fine_tune("alice")
    with store.write() as tx:
        tx.add_custom(prod, fine_tune, None, seed=True)
        tx.add_custom(old, fine_tune, None, seed=True)
        tx.delete(prod.id)
        tx.add_custom(prod, fine_tune, None, seed=True)
        stored = tx.get(prod.id)
        assert stored is not None and stored.deleted
        assert tx.live_ids() == [*(m.id for m in BASE_MODELS), old.id]
        # Seeding takes no number from the sequence: the first deploy still gets 1.
        assert tx.next_serial() == 1
    store.close()


def test_an_unusable_path_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot use database"):
        Store(str(tmp_path / "missing" / "dir" / "hub.sqlite"))
