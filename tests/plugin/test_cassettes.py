"""The committed cassettes hold no key, and recording is deterministic: twice in a row, nothing changes."""

from __future__ import annotations

import re
from pathlib import Path

from oxen_contract.settings.config import LOCAL_OTHER_TOKEN, LOCAL_TOKEN, REPLAY_OTHER_TOKEN, REPLAY_TOKEN

from .conftest import ROOT, Runner

CASSETTES = ROOT / "cassettes"
# Anything after "Bearer " that is not one of our labels or a <placeholder> would be a key.
UNLABELLED_BEARER = re.compile(r"Bearer (?!\$OXEN_API_KEY|<)\S+")


def _files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*.yaml"))}


def test_cassettes_hold_no_key_and_no_unlabelled_bearer_value() -> None:
    files = _files(CASSETTES)
    assert len(files) > 10
    for name, content in files.items():
        text = content.decode("utf-8")
        for key in (LOCAL_TOKEN, LOCAL_OTHER_TOKEN, REPLAY_TOKEN, REPLAY_OTHER_TOKEN):
            assert key not in text, f"{name} holds a key"
        assert not UNLABELLED_BEARER.search(text), f"{name}: {UNLABELLED_BEARER.search(text)}"
        assert "127.0.0.1" not in text, f"{name} names the recording hub's address"


def test_recording_gives_the_committed_cassettes_byte_for_byte(run_suite: Runner, tmp_path: Path) -> None:
    # The committed cassettes are an earlier recording: one more that matches them shows both that recording is
    # deterministic and that they are what the current code records (two fresh recordings would prove no more).
    result = run_suite(
        "tests/contract",
        *("--local-hub", "--allow-protection-probes", "--record-mode=rewrite"),
        env={"OXEN_CONTRACT_CASSETTE_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout[-3000:]
    recorded, committed = _files(tmp_path), _files(CASSETTES)
    differing = sorted(name for name in recorded.keys() | committed.keys() if recorded.get(name) != committed.get(name))
    assert not differing, (
        f"recording differs from cassettes/ in {differing[:5]}: run `tox -e record`; if a second recording differs "
        "again, recording is not deterministic"
    )
