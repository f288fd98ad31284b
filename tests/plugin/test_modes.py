"""Live runs against a local hub: skips that name their options, and replay's out-of-date and corrupt cassettes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT, Runner


def test_a_run_whose_destructive_tests_all_skip_is_a_setup_error_naming_both_provisioning_options(
    run_suite: Runner, local_hub: str
) -> None:
    # Once a hollow green: every destructive test skipped and the run passed, the delete operation never checked.
    result = run_suite("tests/contract", "--hub-url", local_hub, env={"OXEN_API_KEY": "key-a"})
    assert result.returncode == 78, result.stdout[-3000:]
    assert "SETUP ERROR: nothing failed, but deleteModel 200 answers were never checked" in result.stdout
    assert "--fine-tune" in result.stdout and "--disposable-model" in result.stdout


def test_allow_partial_lets_such_a_run_pass_and_its_summary_says_what_was_not_checked(
    run_suite: Runner, local_hub: str
) -> None:
    result = run_suite("tests/contract", *("--hub-url", local_hub, "--allow-partial"), env={"OXEN_API_KEY": "key-a"})
    assert result.returncode == 0, result.stdout[-3000:]
    assert "PARTIAL PASS (--allow-partial): nothing failed, but deleteModel 200 answers were never checked" in (
        result.stdout
    )


@pytest.mark.parametrize(
    "narrowed",
    [("tests/contract/test_delete_lifecycle.py",), ("tests/contract", "-k", "lifecycle")],
    ids=["one-file", "keyword"],
)
def test_a_run_the_user_narrowed_is_a_partial_pass_naming_how_and_the_skips_its_settings_chose(
    run_suite: Runner, local_hub: str, narrowed: tuple[str, ...]
) -> None:
    result = run_suite(*narrowed, "--hub-url", local_hub, env={"OXEN_API_KEY": "key-a"})
    assert result.returncode == 0, result.stdout[-3000:]
    [line] = [line for line in result.stdout.splitlines() if "PARTIAL PASS (narrowed: " in line]
    assert "deselected" in line or "only tests/contract/test_delete_lifecycle.py run" in line
    assert "skipped: no disposable custom model: pass --fine-tune" in line


def test_cross_namespace_and_protection_probes_skip_with_their_reason(run_suite: Runner, local_hub: str) -> None:
    env = {"OXEN_API_KEY": "key-a", "OXEN_CONTRACT_ALLOW_PARTIAL": "1"}
    result = run_suite(
        "tests/contract/test_protection.py", "--hub-url", local_hub, "--fine-tune", "alice/sandbox/ft-1", "-rs", env=env
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "pass --allow-protection-probes to run it" in result.stdout
    probes = run_suite(
        "tests/contract/test_protection.py",
        *("--hub-url", local_hub, "--fine-tune", "alice/sandbox/ft-1", "--allow-protection-probes", "-rs"),
        env=env,
    )
    assert probes.returncode == 0, probes.stdout[-3000:]
    assert "set OXEN_API_KEY_OTHER" in probes.stdout


def test_live_run_against_a_conforming_hub_passes_and_reports_its_provisioning(
    run_suite: Runner, local_hub: str, tmp_path: Path
) -> None:
    result = run_suite(
        "tests/contract",
        *("--hub-url", local_hub, "--fine-tune", "alice/sandbox/ft-1", "--allow-protection-probes"),
        *("--ledger", str(tmp_path / "ledger.jsonl")),
        env={"OXEN_API_KEY": "key-a", "OXEN_API_KEY_OTHER": "key-b"},
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "sent 3 deploy request(s) of --max-provisions 3; 3 model(s) proved the run's" in result.stdout
    assert "key-a" not in result.stdout + result.stderr
    assert "LEAK" not in result.stdout


def test_a_crashed_run_s_leftovers_are_deleted_by_the_next_run(
    run_suite: Runner, local_hub: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from oxen_contract.checking.exchange import Credential
    from oxen_contract.clients.client import HubClient
    from oxen_contract.disposables.ledger import Ledger
    from oxen_contract.disposables.provenance import HubTime, listed_models
    from oxen_contract.http.guard import RequestGuard
    from oxen_contract.http.redaction import ApiKey

    key = ApiKey("key-a", Credential.KEY)
    client = HubClient(local_hub, {Credential.KEY: key}, guard=RequestGuard(local_hub, max_deploys=2, timeout=10))
    request.addfinalizer(client.close)
    ledger = tmp_path / "ledger.jsonl"
    # A run of this key, killed after its deploy was proved: its intent and its model, signed with the key.
    crashed = Ledger(ledger, local_hub, run_id="crashed", key=key)
    before = client.list()
    snapshot = sorted(model["id"] for model in listed_models(before) or [])
    crashed.record(
        "intent", attempt=1, fine_tune="alice/sandbox/ft-1", snapshot=snapshot, hub_before=HubTime.of(before).at
    )
    leftover = client.deploy_fine_tune("alice", "sandbox", "ft-1").json()["deployment"]["model_slug"]
    crashed.record("provisioned", attempt=1, id=leftover, created=client.retrieve(leftover).json()["created"])
    # As an older version wrote it, unsigned and without `created`: nothing proves whose model it is.
    legacy = client.deploy_checkpoint("alice", "sandbox", "ft-1", 1).json()["model"]["id"]
    line = {"hub": local_hub, "run": "older", "at": 0, "event": "provisioned", "attempt": 1, "id": legacy}
    with ledger.open("a") as file:
        file.write(json.dumps(line) + "\nnot json\n")
    result = run_suite(
        "tests/contract/test_models.py::test_list_answers_the_list_contract",
        *("--hub-url", local_hub, "--ledger", str(ledger), "--namespace", "alice", "--allow-partial"),
        env={"OXEN_API_KEY": "key-a"},
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"left by an earlier run: {leftover}" in result.stdout
    assert client.retrieve(leftover).status == 404
    # Named, not deleted; and the line that is no entry is named with its number, kept as it was.
    assert f"LEAK {legacy!r}" in result.stdout and client.retrieve(legacy).status == 200
    assert f"{ledger}:4 is not a ledger entry" in result.stdout
    assert "not json" in ledger.read_text()


def test_an_explicit_replay_ignores_a_hub_url_fine_tune_and_key_from_an_ini_file_and_the_environment(
    tmp_path: Path,
) -> None:
    from oxen_contract.hub import LocalHub

    with LocalHub({"key-a": "alice"}) as hub:
        (tmp_path / "pytest.ini").write_text(
            f"[pytest]\noxen_hub_url = {hub.url}\noxen_fine_tune = alice/sandbox/ft-1\n"
        )
        env = {key: value for key, value in os.environ.items() if not key.startswith("OXEN_")}
        result = subprocess.run(
            [sys.executable, "-m", "oxen_contract.cli", "--replay"],
            cwd=tmp_path,
            env={**env, "OXEN_API_KEY": "key-a"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert not hub.app.state.audit.deploys(), result.stdout[-3000:]
        assert not hub.app.state.audit.deletes()
    [said] = [line for line in result.stdout.splitlines() if "--replay: left unused" in line]
    for setting in ("OXEN_API_KEY (environment)", "oxen_hub_url (pytest.ini)", "oxen_fine_tune (pytest.ini)"):
        assert setting in said
    assert "replay of the recorded cassettes" in result.stdout
    assert result.returncode == 0, result.stdout[-3000:]


def _replay_one_test(run_suite: Runner, cassettes: Path) -> str:
    """Replays one test from ``cassettes``; it must end as a setup error (78, not a broken contract) naming the fix."""
    result = run_suite(
        "tests/contract/test_models.py::test_list_answers_the_list_contract",
        "--block-network",
        env={"OXEN_CONTRACT_CASSETTE_DIR": str(cassettes)},
    )
    assert result.returncode == 78, result.stdout[-3000:]
    assert "tox -e record" in result.stdout
    return result.stdout


def test_replay_with_missing_cassettes_says_they_are_out_of_date(run_suite: Runner, tmp_path: Path) -> None:
    assert "are out of date" in _replay_one_test(run_suite, tmp_path)


def test_replay_of_a_corrupt_cassette_is_a_clear_error_that_changes_nothing(run_suite: Runner, tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    shutil.copytree(ROOT / "cassettes", cassettes)
    broken = cassettes / "test_models" / "test_list_answers_the_list_contract.yaml"
    broken.write_text("interactions: [\n  - {request: : :\n")
    before = broken.read_bytes()
    assert "cannot be read" in _replay_one_test(run_suite, cassettes)
    assert broken.read_bytes() == before


def test_strict_contract_fails_on_fields_the_contract_does_not_name_where_default_passes(
    run_suite: Runner, tmp_path: Path
) -> None:
    from oxen_contract.hub import LocalHub

    args = ("tests/contract/test_models.py", "--fine-tune", "alice/sandbox/ft-1", "--allow-partial")
    with LocalHub({"key-a": "alice"}, ["extra-fields"]) as hub:
        default = run_suite(*args, "--hub-url", hub.url, env={"OXEN_API_KEY": "key-a"})
        strict = run_suite(*args, "--hub-url", hub.url, "--strict-contract", env={"OXEN_API_KEY": "key-a"})
    assert default.returncode == 0, default.stdout[-3000:]
    assert strict.returncode == 1, strict.stdout[-3000:]
    assert "clause strict.schema.json#/$defs/model/unevaluatedProperties" in strict.stdout
    assert "contract variant strict" in strict.stdout
