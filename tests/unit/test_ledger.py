"""ledger.py: one run at a time, crash-safe appends, and only ended runs' entries are outstanding."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxen_contract.ledger import Ledger, LedgerBusy

HUB = "https://staging.example"


def test_a_second_run_cannot_take_a_held_ledger_and_is_told_which_run_holds_it(tmp_path: Path) -> None:
    first = Ledger(tmp_path / "ledger.jsonl", HUB)
    first.acquire()
    second = Ledger(tmp_path / "ledger.jsonl", HUB)
    with pytest.raises(LedgerBusy, match=f"in use by run {first.run_id}"):
        second.acquire()
    first.release()
    second.acquire()
    second.release()


def test_an_append_after_a_half_written_line_starts_on_a_line_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text('{"hub": "https://staging.example", "run": "dead", "event": "provisioned", "id": "a:b/c-1"')
    ledger = Ledger(path, HUB)
    ledger.record("provisioned", attempt=1, id="a:b/c-2")
    later = Ledger(path, HUB)
    assert later.outstanding().models == ["a:b/c-2"]


def test_outstanding_holds_ended_runs_models_and_open_intents_never_the_runs_own(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ended = Ledger(path, HUB, run_id="ended")
    ended.record("intent", attempt=1, fine_tune="a/b/ft", snapshot=["x"])
    ended.record("provisioned", attempt=1, id="a:b/ft-1")
    ended.record("intent", attempt=2, fine_tune="a/b/ft", snapshot=["x", "a:b/ft-1"])  # killed mid-deploy
    ended.record("intent", attempt=3, fine_tune="a/b/ft", snapshot=["x"])
    ended.record("closed", attempt=3)
    ended.record("provisioned", attempt=4, id="a:b/ft-4")
    ended.record("deleted", id="a:b/ft-4")
    Ledger(path, "https://other.example", run_id="elsewhere").record("provisioned", attempt=1, id="z")
    current = Ledger(path, HUB, run_id="current")
    current.record("provisioned", attempt=1, id="a:b/ft-9")

    outstanding = current.outstanding()
    assert outstanding.models == ["a:b/ft-1"]
    assert [(intent.run, intent.attempt) for intent in outstanding.intents] == [("ended", 2)]
    assert outstanding.intents[0].snapshot == frozenset({"x", "a:b/ft-1"})

    current.record("closed", attempt=2, run_of_intent="ended")
    assert current.outstanding().intents == []
    assert "a:b/ft-9" in current.outstanding(include_own=True).models
