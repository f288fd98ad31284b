"""Under pytest-xdist the suite gives the verdict a serial run gives: same report, same exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oxen_contract.hub.serve import bind, url_of
from oxen_contract.run.verdict import EXIT_HUB_UNAVAILABLE

from .conftest import Runner

# What differs between any two runs, however alike.
_TIMING = ("started", "duration_s")


def _report(run_suite: Runner, tmp_path: Path, name: str, *args: str) -> tuple[int, dict[str, object]]:
    report = tmp_path / f"{name}.md"
    result = run_suite("tests/contract", "--block-network", "--contract-report", str(report), *args)
    data = json.loads(report.with_suffix(".json").read_text())
    return result.returncode, {key: value for key, value in data.items() if key not in _TIMING}


def test_replay_under_two_workers_reports_exactly_what_a_serial_replay_reports(
    run_suite: Runner, tmp_path: Path
) -> None:
    serial_status, serial = _report(run_suite, tmp_path, "serial")
    parallel_status, parallel = _report(run_suite, tmp_path, "parallel", "-n", "2")
    assert serial_status == parallel_status == 0
    assert parallel == serial
    assert sum(entry["checked"] for entry in serial["clauses"].values()) > 1000  # type: ignore[union-attr]


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "two-workers"])
def test_a_stopped_hub_is_unavailable_under_xdist_as_in_a_serial_run(
    run_suite: Runner, tmp_path: Path, workers: tuple[str, ...]
) -> None:
    sock = bind("127.0.0.1", 0)
    url = url_of(sock)
    sock.close()  # nothing listens there any more
    # Read-only (no --fine-tune): the one kind of live run against a remote hub that may use xdist.
    result = run_suite(
        "tests/contract",
        "--hub-url",
        url,
        *workers,
        "--contract-report",
        str(tmp_path / "r.md"),
        env={"OXEN_API_KEY": "k"},
    )
    assert result.returncode == EXIT_HUB_UNAVAILABLE, result.stdout[-3000:]
    assert "INTERNALERROR" not in result.stdout + result.stderr
    assert "HUB UNAVAILABLE" in result.stdout
