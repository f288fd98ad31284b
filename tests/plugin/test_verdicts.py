"""Each outcome of a run, its exit status and summary line (verdict.py), shown on the cases that once got it wrong."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oxen_contract.hub import LocalHub

from .conftest import ROOT, Runner

LIVE = ("tests/contract", "--fine-tune", "alice/sandbox/ft-1")
KEYS = {"OXEN_API_KEY": "key-a", "OXEN_API_KEY_OTHER": "key-b"}


@pytest.fixture
def hub(request: pytest.FixtureRequest) -> Iterator[str]:
    faults = getattr(request, "param", ())
    with LocalHub({"key-a": "alice", "key-b": "bob"}, faults, hang_seconds=5) as local:
        yield local.url


def _report(path: Path) -> dict[str, object]:
    return dict(json.loads(path.with_suffix(".json").read_text()))


def test_a_fine_tune_that_cannot_be_deployed_is_a_setup_error_not_a_contract_violation(
    run_suite: Runner, hub: str, tmp_path: Path
) -> None:
    report = tmp_path / "r.md"
    result = run_suite(
        "tests/contract",
        "--hub-url",
        hub,
        "--fine-tune",
        "alice/sandbox/nope",
        "--contract-report",
        str(report),
        env=KEYS,
    )
    assert result.returncode == 78, result.stdout[-3000:]
    assert "SETUP ERROR: the contract could not be checked: cannot provision a disposable model" in result.stdout
    assert "Traceback" not in result.stdout
    assert _report(report)["outcome"] == "setup error"
    assert report.read_text().splitlines()[2].startswith("**setup error** (exit status 78)")


def test_a_key_the_hub_refuses_is_a_setup_error_before_any_test(run_suite: Runner, hub: str) -> None:
    result = run_suite(*LIVE, "--hub-url", hub, env={"OXEN_API_KEY": "not-a-key-of-this-hub"})
    assert result.returncode == 78, result.stdout[-3000:]
    assert "SETUP ERROR" in result.stdout and "the hub refuses OXEN_API_KEY" in result.stdout
    assert "not-a-key-of-this-hub" not in result.stdout


def test_an_unwritable_report_path_is_a_usage_error_before_the_run(run_suite: Runner, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_suite("tests/contract", "--contract-report", str(blocker / "sub" / "r.md"))
    assert result.returncode == 4
    assert "--contract-report" in result.stderr and "cannot write the report there" in result.stderr


@pytest.mark.parametrize("hub", [["delete-hangs"]], indirect=True)
def test_a_timeout_is_in_the_report_against_its_clause(run_suite: Runner, hub: str, tmp_path: Path) -> None:
    report = tmp_path / "r.md"
    result = run_suite(*LIVE, "--hub-url", hub, "--request-timeout", "1", "--contract-report", str(report), env=KEYS)
    assert result.returncode == 1, result.stdout[-3000:]
    data = _report(report)
    clause = data["clauses"]["rule:answers-in-time"]  # type: ignore[index]
    assert clause["broken"] >= 1 and clause["checked"] >= clause["broken"]
    timeouts = [f for f in data["failures"] if f["clause"] == "rule:answers-in-time"]  # type: ignore[union-attr]
    assert timeouts and timeouts[0]["curl"].startswith(f"curl -X DELETE {hub}/api/ai/models/")


@pytest.mark.parametrize("hub", [["invalid-query-accepted"]], indirect=True)
def test_a_hub_lenient_where_the_docs_are_silent_passes_with_a_warning_and_fails_only_under_strict(
    run_suite: Runner, hub: str, tmp_path: Path
) -> None:
    report = tmp_path / "r.md"
    default = run_suite(*LIVE, "--hub-url", hub, "--contract-report", str(report), env=KEYS)
    assert default.returncode == 0, default.stdout[-3000:]
    lenient = _report(report)["lenient_inputs"]
    assert lenient["entries"] and not lenient["fails_the_run"]  # type: ignore[index]
    assert "## Lenient inputs" in report.read_text()
    strict = run_suite(*LIVE, "--hub-url", hub, "--strict-contract", env=KEYS)
    assert strict.returncode == 1, strict.stdout[-3000:]
    assert "rule:invalid-input-is-refused" in strict.stdout


def test_a_conforming_hub_gets_the_held_outcome_with_its_coverage_in_the_summary_line(
    run_suite: Runner, hub: str
) -> None:
    result = run_suite(*LIVE, "--hub-url", hub, env=KEYS)
    assert result.returncode == 0, result.stdout[-3000:]
    [line] = [line for line in result.stdout.splitlines() if "CONTRACT HELD" in line]
    assert "deleteModel answers checked: 200×" in line and "404×" in line


@pytest.mark.parametrize(
    "signals",
    [(signal.SIGINT,), (signal.SIGTERM,), (signal.SIGINT, signal.SIGINT)],
    ids=["ctrl-c", "sigterm", "ctrl-c-twice"],
)
def test_an_interrupted_run_gives_no_verdict_and_says_what_cleanup_deleted_and_left(
    tmp_path: Path, signals: tuple[signal.Signals, ...]
) -> None:
    # The delete hangs longer than the run waits, so that the run is interrupted mid-test with models on the hub.
    with LocalHub({"key-a": "alice", "key-b": "bob"}, ["delete-hangs"], hang_seconds=4) as hub:
        env = {key: value for key, value in os.environ.items() if not key.startswith("OXEN_")}
        env.update({**KEYS, "OXEN_CONTRACT_LEDGER": str(tmp_path / "ledger.jsonl")})
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *LIVE, "--hub-url", hub.url]
        run = subprocess.Popen(
            [*command, "--request-timeout", "2"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 120
        # The first deploy is answered before the lifecycle's first DELETE, which hangs past the run's timeout.
        while not hub.app.state.audit.deploys() and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.05)
        time.sleep(0.5)
        assert run.poll() is None, "the run ended before it could be interrupted"
        for number in signals:
            run.send_signal(number)
            time.sleep(0.3)
        output = run.communicate(timeout=120)[0].decode()
        audit = hub.app.state.audit
        left = set(audit.created_ids()) - set(audit.deleted_ids())
    assert run.returncode == 2, output[-3000:]
    [line] = [line for line in output.splitlines() if "INTERRUPTED: no verdict" in line]
    assert "the run made " in line and "deleted" in line and "left" in line
    # Cleanup ran to its end: every model the run made is deleted or named.
    assert all(f"LEAK {model_id!r}" in output for model_id in left), output[-3000:]
