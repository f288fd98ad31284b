"""The oxen-local-hub command, run as a real subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from oxen_contract.hub.audit import Audit
from oxen_contract.hub.faults import FAULTS

from ._helpers import DEPLOY, MODELS, model_path

HUB = [sys.executable, "-m", "oxen_contract.hub"]
AUTH = {"Authorization": "Bearer dev-token"}


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HUB, *args], capture_output=True, text=True, timeout=30, env=env)


@contextmanager
def _serving(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    process = subprocess.Popen(
        [*HUB, "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("oxen-local-hub listening on http://127.0.0.1:"), line + (
            process.stderr.read() if process.stderr else ""
        )
        yield line.split()[-1], process
    finally:
        if process.poll() is None:
            process.terminate()
        process.communicate(timeout=15)


def test_help_documents_every_option_and_the_seeded_fine_tune() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for text in (
        "--port",
        "--host",
        "--token",
        "--db",
        "--fault",
        "--list-faults",
        "--deterministic",
        "--hang-seconds",
        "--drip-seconds",
        "--audit",
        "--prefix",
        "--catalog-size",
        "--latency-seconds",
    ):
        assert text in result.stdout
    assert "OXEN_LOCAL_HUB_TOKENS" in result.stdout
    assert "NS/sandbox" in result.stdout and "ft-1" in result.stdout and "step 1" in result.stdout
    assert "NS:sandbox/ft-1-prod" in result.stdout and "NS:sandbox/ft-1-old" in result.stdout


def test_list_faults_prints_one_line_per_fault_naming_its_clause() -> None:
    result = _run("--list-faults")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(FAULTS)
    for line, fault in zip(lines, FAULTS, strict=True):
        assert line.split()[0] == fault.name
        assert fault.clause in line
        assert ("benign: " in line) == fault.benign
        assert ("hostile: " in line) == fault.hostile
        assert ("strict-only: " in line) == fault.strict_only
        assert ("outage: " in line) == fault.outage
    assert "invalid-query-accepted" in next(line for line in lines if "strict-only: " in line)
    assert "search-rate-limited" in next(line for line in lines if "outage: " in line)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token", "a=alice", "--fault", "no-such-fault"], "unknown fault 'no-such-fault'"),
        (["--token", "no-namespace"], "malformed token"),
        (["--token", "a=bad namespace"], "malformed token"),
        (["--token", "a=alice", "--port", "99999"], "invalid port"),
        (["--token", "a=alice", "--port", "http"], "invalid port"),
        (["--token", "a=alice", "--db", "/proc/no/such/dir/hub.sqlite"], "cannot use database"),
        (["--token", "a=alice", "--hang-seconds", "soon"], "invalid duration"),
        (["--token", "a=alice", "--drip-seconds", "-1"], "invalid duration"),
        (["--token", "a=alice", "--latency-seconds", "later"], "invalid duration"),
        (["--token", "a=alice", "--catalog-size", "0"], "invalid count"),
        (["--token", "a=alice", "--audit", "/proc/no/such/dir/audit.json"], "cannot write the audit"),
        ([], "at least one --token"),
        (["--token", "a=alice", "--no-such-option"], "unrecognized arguments"),
    ],
)
def test_a_bad_option_is_one_line_on_stderr_and_exit_2(args: list[str], message: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "OXEN_LOCAL_HUB_TOKENS"}
    result = _run(*args, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_port_in_use_is_a_usage_error() -> None:
    with _serving("--token", "dev-token=alice") as (url, _):
        port = url.rsplit(":", 1)[1]
        result = _run("--token", "dev-token=alice", "--port", port)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "cannot listen" in result.stderr


def test_the_hub_serves_the_api_and_prints_one_line() -> None:
    with _serving("--token", "dev-token=alice", "--deterministic") as (url, process):
        response = httpx.get(url + MODELS, headers=AUTH)
        assert response.status_code == 200
        assert response.json()["object"] == "list"
        assert response.headers["date"] == "Thu, 01 Jan 2026 00:00:00 GMT"
        assert httpx.get(url + MODELS).status_code == 401
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    assert out == ""
    assert "Traceback" not in err


def test_a_hub_behind_the_drip_proxy_serves_and_stops_on_sigint() -> None:
    args = ("--token", "dev-token=alice", "--fault", "hostile-drip-headers", "--drip-seconds", "0.001")
    with _serving(*args) as (url, process):
        assert httpx.get(url + model_path("gpt-4o"), headers=AUTH).json()["id"] == "gpt-4o"
        assert httpx.get(url + MODELS, headers=AUTH).status_code == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    assert out == ""
    assert "Traceback" not in err


def test_tokens_come_from_the_environment_when_no_option_is_given() -> None:
    env = {**os.environ, "OXEN_LOCAL_HUB_TOKENS": "dev-token=alice, other=bob"}
    with _serving(env=env) as (url, _):
        assert httpx.get(url + MODELS, headers=AUTH).status_code == 200
        assert httpx.get(url + MODELS, headers={"Authorization": "Bearer other"}).status_code == 200


def test_faults_are_switched_on_from_the_command_line() -> None:
    with _serving("--token", "dev-token=alice", "--fault", "list-missing-object-list") as (url, _):
        assert "object" not in httpx.get(url + MODELS, headers=AUTH).json()


def _deploy(url: str) -> str:
    model_id: str = httpx.post(url + DEPLOY.format(owner="alice"), headers=AUTH).json()["deployment"]["model_slug"]
    return model_id


def test_state_survives_a_restart_with_db(tmp_path: Path) -> None:
    db = str(tmp_path / "hub.sqlite")
    args = ("--token", "dev-token=alice", "--db", db, "--deterministic")
    with _serving(*args) as (url, _):
        kept, deleted = _deploy(url), _deploy(url)
        httpx.post(url + model_path(kept, "deactivate"), headers=AUTH)
        assert httpx.delete(url + model_path(deleted), headers=AUTH).status_code == 200
    with _serving(*args) as (url, _):
        assert httpx.get(url + model_path(kept), headers=AUTH).json()["deployments"] == [{"status": "inactive"}]
        assert httpx.get(url + model_path(deleted), headers=AUTH).status_code == 404
        # The id sequence continues: no id is handed out twice.
        assert _deploy(url) not in (kept, deleted)


def test_preseeded_models_are_seeded_once_across_restarts_with_db(tmp_path: Path) -> None:
    db = str(tmp_path / "hub.sqlite")
    args = ("--token", "dev-token=alice", "--db", db, "--fault", "hostile-delete-redirect")
    with _serving(*args) as (url, _):
        assert httpx.delete(url + model_path("alice:sandbox/ft-1-old"), headers=AUTH).status_code == 307
        assert httpx.delete(url + model_path("alice:sandbox/ft-1-prod"), headers=AUTH).status_code == 200
    with _serving(*args[:4], "--fault", "benign-crowded-namespaces") as (url, _):
        customs = [m["id"] for m in httpx.get(url + MODELS, headers=AUTH).json()["data"] if m["model_type"] == "custom"]
        assert customs == ["alice:sandbox/ft-1-old"]


def test_state_survives_kill_9_with_db(tmp_path: Path) -> None:
    db = str(tmp_path / "hub.sqlite")
    args = ("--token", "dev-token=alice", "--db", db)
    with _serving(*args) as (url, process):
        kept, deleted = _deploy(url), _deploy(url)
        assert httpx.delete(url + model_path(deleted), headers=AUTH).status_code == 200
        process.kill()
        process.wait(timeout=10)
    with _serving(*args) as (url, _):
        assert httpx.get(url + model_path(kept), headers=AUTH).status_code == 200
        assert httpx.get(url + model_path(deleted), headers=AUTH).status_code == 404


def test_the_audit_is_handed_over_as_json_after_each_delete_and_deploy(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    args = ("--token", "dev-token=alice", "--fault", "hostile-delete-redirect", "--audit", str(path))
    with _serving(*args) as (url, process):
        assert Audit.load(path).preexisting_ids()[-2:] == ("alice:sandbox/ft-1-prod", "alice:sandbox/ft-1-old")
        mine = _deploy(url)
        assert Audit.load(path).created_ids() == (mine,)
        assert httpx.delete(url + model_path(mine), headers=AUTH).status_code == 307
        assert httpx.delete(url + model_path("alice:sandbox/ft-1-prod"), headers=AUTH).status_code == 200
        # Read while the hub still runs, then after a kill -9: nothing is lost, nothing is half written.
        assert Audit.load(path).deletes_reaching_others() == ("alice:sandbox/ft-1-prod",)
        process.kill()
        process.wait(timeout=10)
    audit = Audit.load(path)
    assert [record.status for record in audit.deletes()] == [307, 200]
    assert audit.deleted_ids() == ("alice:sandbox/ft-1-prod",)
    assert audit.deploy_posts() == 1
