"""ledger.py: one run at a time, crash-safe appends, and only ended runs' entries are outstanding."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from oxen_contract.checking.exchange import Credential
from oxen_contract.disposables.ledger import Ledger, LedgerBusy, LedgerUnusable, Unreadable
from oxen_contract.http.redaction import ApiKey

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
    later = Ledger(path, HUB).outstanding()
    assert [left.model_id for left in later.models] == ["a:b/c-2"]
    # The half-written line is kept, and named for a person to check: it may name a model.
    assert [line.line for line in later.unreadable] == [1]


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
    assert [left.model_id for left in outstanding.models] == ["a:b/ft-1"]
    assert [(intent.run, intent.attempt) for intent in outstanding.intents] == [("ended", 2)]
    assert outstanding.intents[0].snapshot == frozenset({"x", "a:b/ft-1"})

    current.record("closed", attempt=2, run_of_intent="ended")
    assert current.outstanding().intents == []
    assert "a:b/ft-9" in [left.model_id for left in current.outstanding(include_own=True).models]


def test_hub_times_and_created_are_read_back_for_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ended = Ledger(path, HUB, run_id="ended")
    ended.record("intent", attempt=1, fine_tune="a/b/ft", snapshot=[], hub_before=100.0, hub_clock=True, timeout=30)
    ended.record("provisioned", attempt=2, id="a:b/ft-2", created=123)
    outstanding = Ledger(path, HUB).outstanding()
    [intent] = outstanding.intents
    assert (intent.hub_before, intent.hub_clock, intent.timeout) == (100.0, True, 30.0)
    assert [(left.model_id, left.created) for left in outstanding.models] == [("a:b/ft-2", 123)]


@pytest.mark.parametrize(
    "line",
    [
        {"hub": HUB, "run": "x", "event": "provisioned", "at": None, "id": "a:b/c"},
        {"hub": HUB, "run": "x", "event": "provisioned", "at": 1, "id": 7},
        {"hub": HUB, "run": "x", "event": "intent", "at": 1, "attempt": "1", "snapshot": []},
        {"hub": HUB, "run": "x", "event": "intent", "at": 1, "attempt": 1, "snapshot": "a"},
        {"hub": HUB, "run": "x", "event": "intent", "at": 1, "attempt": 1, "snapshot": [], "hub_before": "noon"},
        {"hub": HUB, "run": 3, "event": "deleted", "at": 1, "id": "a:b/c"},
        {"hub": HUB, "run": "x", "event": "exploded", "at": 1},
        {"hub": None, "run": "x", "event": "deleted", "at": 1, "id": "a:b/c"},
        ["not", "an", "object"],
    ],
    ids=[
        "at-null",
        "id-a-number",
        "attempt-a-string",
        "snapshot-a-string",
        "hub-time-a-word",
        "run-a-number",
        "unknown-event",
        "no-hub",
        "a-list",
    ],
)
def test_a_line_of_the_wrong_shape_is_kept_and_reported_with_its_number_never_read_as_an_entry(
    tmp_path: Path, line: object
) -> None:
    path = tmp_path / "ledger.jsonl"
    good = {"hub": HUB, "run": "ended", "event": "provisioned", "at": 1, "attempt": 1, "id": "a:b/ft-1"}
    path.write_text(json.dumps(good) + "\n" + json.dumps(line) + "\n")
    outstanding = Ledger(path, HUB).outstanding()
    assert [left.model_id for left in outstanding.models] == ["a:b/ft-1"]
    assert [(bad.line, bad.text) for bad in outstanding.unreadable] == [(2, json.dumps(line))]
    assert path.read_text().splitlines()[1] == json.dumps(line)


def test_a_released_model_is_owed_by_no_later_run(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ended = Ledger(path, HUB, run_id="ended")
    ended.record("provisioned", attempt=1, id="a:b/ft-1")
    Ledger(path, HUB, run_id="later").record("released", id="a:b/ft-1", reason="cannot be proved")
    assert Ledger(path, HUB).outstanding().models == []


@pytest.mark.parametrize("where", ["folder", "under-a-file"])
def test_a_path_that_cannot_hold_a_ledger_is_refused_before_the_run_and_changes_nothing(
    tmp_path: Path, where: str
) -> None:
    (tmp_path / "file").write_text("precious")
    path = tmp_path if where == "folder" else tmp_path / "file" / "ledger.jsonl"
    with pytest.raises(LedgerUnusable, match="cannot hold the ledger there"):
        Ledger(path, HUB).acquire()
    assert (tmp_path / "file").read_text() == "precious"


def test_a_run_in_another_process_cannot_take_a_held_ledger_until_that_process_ends(tmp_path: Path) -> None:
    import subprocess
    import sys

    # The lock is the operating system's (filelock), held by the process: it goes with a crashed run.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from oxen_contract.disposables.ledger import Ledger; "
            f"ledger = Ledger(__import__('pathlib').Path({str(tmp_path / 'ledger.jsonl')!r}), {HUB!r}); "
            "ledger.acquire(); print(ledger.run_id, flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        run_id = holder.stdout.readline().strip()
        with pytest.raises(LedgerBusy, match=f"in use by run {run_id}"):
            Ledger(tmp_path / "ledger.jsonl", HUB).acquire()
    finally:
        holder.kill()
        holder.communicate(timeout=30)
    after = Ledger(tmp_path / "ledger.jsonl", HUB)
    after.acquire()
    after.release()


def test_entries_are_signed_with_the_run_s_key_and_an_edited_line_no_longer_verifies(tmp_path: Path) -> None:
    key = ApiKey("sk-secret/with+chars", Credential.KEY)
    path = tmp_path / "ledger.jsonl"
    ended = Ledger(path, HUB, run_id="ended", key=key)
    ended.record("intent", attempt=1, fine_tune="a/b/ft", snapshot=[], hub_before=10.0)
    ended.record("provisioned", attempt=1, id="a:b/ft-1", created=12)
    assert "sk-secret" not in path.read_text()  # the seal shows nothing of the key
    [left] = Ledger(path, HUB, key=key).outstanding().models
    assert left.signed and left.intent is not None and left.intent.signed
    # Another key verifies nothing; an edited line verifies no more.
    [other] = Ledger(path, HUB, key=ApiKey("another", Credential.KEY)).outstanding().models
    assert not other.signed and other.intent is None
    path.write_text(path.read_text().replace('"created": 12', '"created": 13'))
    [edited] = Ledger(path, HUB, key=key).outstanding().models
    assert not edited.signed


def test_every_id_another_run_named_is_known_to_this_one_and_its_own_are_not(tmp_path: Path) -> None:
    # provenance.py's rule 2: an id another run's ledger names is never this run's, whatever a deploy answers.
    path = tmp_path / "ledger.jsonl"
    other = Ledger(path, HUB, run_id="other")
    other.record("answered", attempt=1, id="a:b/answered")
    other.record("provisioned", attempt=1, id="a:b/proved", created=1)
    other.record("closed", attempt=2, adopted="a:b/adopted", candidates=["a:b/adopted", "a:b/candidate", 7])
    other.record("intent", attempt=3, fine_tune="a/b/ft", snapshot=["a:b/listed"])
    own = Ledger(path, HUB, run_id="own")
    own.record("answered", attempt=1, id="a:b/own")
    Ledger(path, "https://elsewhere.example", run_id="far").record("answered", attempt=1, id="a:b/far")
    expected = {"a:b/answered", "a:b/proved", "a:b/adopted", "a:b/candidate"}
    assert own.known_ids(exclude_run="own") == expected
    assert own.known_ids() == expected | {"a:b/own"}


@pytest.mark.parametrize(
    "line",
    [
        {"event": "answered", "attempt": 1, "id": "a:b/c", "created": True},
        {"event": "provisioned", "attempt": 1, "id": "a:b/c", "created": "noon"},
        {"event": "intent", "attempt": 1, "snapshot": [], "timeout": "30"},
        {"event": "intent", "attempt": 1, "snapshot": [7]},
        {"event": "intent", "attempt": True, "snapshot": []},
        {"event": "closed", "attempt": 1, "candidates": "a:b/c"},
        {"event": "closed", "attempt": "1"},
        {"event": "released", "id": None},
    ],
    ids=[
        "answered-created-a-bool",
        "provisioned-created-a-word",
        "intent-timeout-a-string",
        "intent-snapshot-of-numbers",
        "intent-attempt-a-bool",
        "closed-candidates-a-string",
        "closed-attempt-a-string",
        "released-without-an-id",
    ],
)
def test_an_entry_without_the_fields_of_its_event_is_unreadable_and_names_nothing(tmp_path: Path, line: dict) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text(json.dumps({"hub": HUB, "run": "x", "at": 1, **line}) + "\n")
    ledger = Ledger(path, HUB)
    assert [bad.line for bad in ledger.outstanding().unreadable] == [1]
    assert ledger.known_ids() == set()


@pytest.mark.parametrize(
    "line",
    [
        {"event": "provisioned", "attempt": 1, "id": "a:b/c", "created": 12},
        {"event": "intent", "attempt": 1, "snapshot": ["a"], "timeout": 30, "hub_before": 1.5},
        {"event": "closed", "attempt": 1, "candidates": ["a:b/c"]},
    ],
    ids=["provisioned", "intent", "closed"],
)
def test_an_entry_with_the_fields_of_its_event_is_read(tmp_path: Path, line: dict) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text(json.dumps({"hub": HUB, "run": "x", "at": 1, **line}) + "\n")
    assert Ledger(path, HUB).outstanding().unreadable == []


def test_an_unreadable_line_is_shown_whole_up_to_160_characters() -> None:
    assert (
        Unreadable(3, "x" * 160).describe(Path("l"))
        == f"l:3 is not a ledger entry this version reads (kept as it is): {'x' * 160}"
    )
    assert Unreadable(3, "x" * 161).describe(Path("l")).endswith(f": {'x' * 159}…")


def test_ids_are_written_as_they_are_and_a_line_that_is_not_utf_8_does_not_stop_the_reading(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(b'{"broken": "\xff"}\n')
    ledger = Ledger(path, HUB, run_id="r")
    ledger.record("provisioned", attempt=1, id="a:b/modèle")
    assert '"id": "a:b/modèle"' in path.read_text(encoding="utf-8", errors="replace")
    outstanding = Ledger(path, HUB).outstanding()
    assert [left.model_id for left in outstanding.models] == ["a:b/modèle"]
    assert [bad.line for bad in outstanding.unreadable] == [1]


def test_a_held_ledger_names_its_holder_and_a_released_one_is_free_again(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "ledger.jsonl"
    first = Ledger(path, HUB, run_id="first")
    first.acquire()
    holder = first.holder_path.read_text(encoding="utf-8")
    assert holder.startswith("run first (pid ") and ", since " in holder and holder.endswith(")\n")
    with pytest.raises(LedgerBusy) as busy:
        Ledger(path, HUB).acquire()
    assert str(busy.value) == (
        f"the ledger {path} is in use by {holder.strip()}: two runs against one ledger would delete each other's "
        "models. Wait for that run to end, or give this one its own --ledger PATH (and namespace)."
    )
    first.release()
    assert not first.holder_path.exists()
    first.release()  # twice is harmless
    again = Ledger(path, HUB)
    again.acquire()
    again.release()


def test_a_record_creates_the_ledger_s_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "ledger.jsonl"
    Ledger(path, HUB).record("deleted", id="x")
    assert json.loads(path.read_text())["id"] == "x"


@pytest.mark.parametrize(
    ("where", "says"), [("folder", "it is a folder"), ("under-a-file", "file is a file, not a folder")]
)
def test_a_path_that_cannot_hold_a_ledger_says_why(tmp_path: Path, where: str, says: str) -> None:
    (tmp_path / "file").write_text("precious")
    path = tmp_path if where == "folder" else tmp_path / "file" / "sub" / "ledger.jsonl"
    with pytest.raises(LedgerUnusable) as refused:
        Ledger(path, HUB).acquire()
    assert str(refused.value).endswith(f"{says})")


# A signed line verifies in a later run, as long as nothing in it changed ---------------------------------------------

_KEY = ApiKey("sk-secret/with+chars", Credential.KEY)
# Written by a run of this version under _KEY: the seal covers the fields, not their order or spelling on the line.
_SIGNED_LINES = (
    '{"hub": "https://staging.example", "run": "ended", "event": "intent", "at": 1767225600.25, "attempt": 1, '
    '"fine_tune": "a/b/ft", "snapshot": ["x"], "hub_before": 1767225600.0, "hub_clock": true, "timeout": 30.0, '
    '"mac": "43eae6ade4cc9a01d1ba43655689883fc455b9da69a9d620266de5dc8174119c"}\n'
    '{"hub": "https://staging.example", "run": "ended", "event": "provisioned", "at": 1767225600.5, "attempt": 1, '
    '"id": "a:b/modèle-1", "created": 1767225601, '
    '"mac": "6c65f2e4da6710569dbb3e32cf8aee72086a8b4666a4eb1253d8ed8ec0d58fe3"}\n'
)


def _signed_chain(path: Path) -> list[tuple[str, bool, bool]]:
    outstanding = Ledger(path, HUB, key=_KEY).outstanding()
    return [(m.model_id, m.signed, m.intent is not None and m.intent.signed) for m in outstanding.models]


def test_a_line_an_earlier_run_signed_still_verifies(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text(_SIGNED_LINES, encoding="utf-8")
    assert _signed_chain(path) == [("a:b/modèle-1", True, True)]


def test_a_signed_line_rewritten_with_its_fields_in_another_order_or_spelling_still_verifies(tmp_path: Path) -> None:
    # A tool that sorts keys or escapes non-ASCII (jq -S, a JSON pretty-printer) changes nothing the seal covers.
    path = tmp_path / "ledger.jsonl"
    lines = [json.loads(line) for line in _SIGNED_LINES.splitlines()]
    path.write_text("".join(json.dumps(dict(reversed(line.items()))) + "\n" for line in lines), encoding="utf-8")
    assert _signed_chain(path) == [("a:b/modèle-1", True, True)]


# Taking and leaving the ledger ---------------------------------------------------------------------------------------


def test_a_run_takes_over_a_ledger_an_earlier_run_wrote(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    Ledger(path, HUB, run_id="ended").record("deleted", id="a:b/c")
    later = Ledger(path, HUB)
    later.acquire()
    later.record("deleted", id="a:b/d")
    later.release()
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["a:b/c", "a:b/d"]


@pytest.mark.parametrize(
    ("denied", "says"),
    [("folder", "is not a writable folder"), ("file", "the file exists and cannot be read and written")],
)
def test_a_ledger_the_run_may_not_write_is_refused_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, denied: str, says: str
) -> None:
    # The tests may run as root, who may write anything: the operating system's refusal to write is faked.
    path = tmp_path / "ledger.jsonl"
    path.write_text("")
    refused = tmp_path if denied == "folder" else path
    real = os.access

    def access(where: Any, mode: int) -> bool:
        return False if Path(where) == refused and mode & os.W_OK else real(where, mode)

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(LedgerUnusable) as unusable:
        Ledger(path, HUB).acquire()
    shown = f"{tmp_path} {says}" if denied == "folder" else says
    assert str(unusable.value) == f"--ledger {path}: cannot hold the ledger there ({shown})"


def test_a_ledger_whose_folder_cannot_be_made_or_whose_lock_cannot_be_taken_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.jsonl"
    (tmp_path / "ledger.jsonl.lock").mkdir()  # the lock file's place is taken by a folder
    with pytest.raises(LedgerUnusable) as locked:
        Ledger(path, HUB).acquire()
    assert str(locked.value) == f"--ledger {path}: cannot hold the ledger there (Is a directory)"

    def refuse(self: Path, *args: Any, **kwargs: Any) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    deeper = tmp_path / "new" / "ledger.jsonl"
    with pytest.raises(LedgerUnusable) as unmade:
        Ledger(deeper, HUB).acquire()
    assert str(unmade.value) == f"--ledger {deeper}: cannot hold the ledger there (Permission denied)"


def test_a_second_run_is_refused_at_once_without_waiting_for_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Ledger(tmp_path / "ledger.jsonl", HUB)
    first.acquire()

    def wait(seconds: float) -> None:
        raise AssertionError(f"the second run waited {seconds} s for the lock")

    monkeypatch.setattr(time, "sleep", wait)
    try:
        with pytest.raises(LedgerBusy):
            Ledger(tmp_path / "ledger.jsonl", HUB).acquire()
    finally:
        monkeypatch.undo()
        first.release()


def test_a_lock_held_by_a_run_that_named_no_holder_is_said_to_be_another_run_s(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    held = FileLock(path.with_name("ledger.jsonl.lock"), timeout=0)  # a run of a version that wrote no holder
    held.acquire()
    try:
        with pytest.raises(LedgerBusy) as busy:
            Ledger(path, HUB).acquire()
    finally:
        held.release()
    assert str(busy.value).startswith(f"the ledger {path} is in use by another run: two runs against one ledger")


def test_the_holder_of_a_ledger_is_named_with_its_run_its_process_and_since_when(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB, run_id="first")
    ledger.acquire()
    try:
        holder = ledger.holder_path.read_text(encoding="utf-8")
    finally:
        ledger.release()
    assert re.fullmatch(rf"run first \(pid {os.getpid()}, since \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\)\n", holder), holder


def test_a_run_whose_holder_note_was_removed_still_releases_its_lock(tmp_path: Path) -> None:
    first = Ledger(tmp_path / "ledger.jsonl", HUB)
    first.acquire()
    first.holder_path.unlink()
    first.release()
    second = Ledger(tmp_path / "ledger.jsonl", HUB)
    second.acquire()
    second.release()


# What the lines say --------------------------------------------------------------------------------------------------


def test_a_model_deleted_twice_is_read_as_deleted(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ended = Ledger(path, HUB, run_id="ended")
    ended.record("provisioned", attempt=1, id="a:b/ft-1")
    ended.record("deleted", id="a:b/ft-1")
    Ledger(path, HUB, run_id="later").record("deleted", id="a:b/ft-1")  # a later run's cleanup found it gone too
    assert Ledger(path, HUB).outstanding().models == []


def test_a_model_left_behind_names_the_run_that_left_it(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    Ledger(path, HUB, run_id="ended").record("provisioned", attempt=1, id="a:b/ft-1", created=5)
    assert [(left.run, left.model_id) for left in Ledger(path, HUB).outstanding().models] == [("ended", "a:b/ft-1")]


def test_each_line_is_dated_by_the_runner_s_clock_to_the_millisecond(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "time", lambda: 1767225600.1234)
    ledger = Ledger(tmp_path / "ledger.jsonl", HUB)
    ledger.record("deleted", id="a:b/c")
    assert json.loads(ledger.path.read_text())["at"] == 1767225600.123


def test_an_append_after_one_stray_byte_starts_on_a_line_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text("{")  # a run killed as it began its first line
    Ledger(path, HUB, run_id="r").record("provisioned", attempt=1, id="a:b/c-1")
    outstanding = Ledger(path, HUB).outstanding()
    assert [left.model_id for left in outstanding.models] == ["a:b/c-1"]
    assert [bad.line for bad in outstanding.unreadable] == [1]


def test_the_ledger_is_read_as_utf_8_whatever_the_platform_s_default_encoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A platform whose default text encoding is not UTF-8 (Windows before Python 3.15): faked where pathlib asks.
    path = tmp_path / "ledger.jsonl"
    Ledger(path, HUB, run_id="ended").record("provisioned", attempt=1, id="a:b/modèle", created=5)
    monkeypatch.setattr(io, "text_encoding", lambda encoding, stacklevel=2: encoding or "latin-1")
    assert [left.model_id for left in Ledger(path, HUB).outstanding().models] == ["a:b/modèle"]
