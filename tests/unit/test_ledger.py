"""ledger.py: one run at a time, crash-safe appends, and only ended runs' entries are outstanding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
