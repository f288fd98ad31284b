"""No key ever leaves: not in the terminal under any traceback mode, nor the JUnit XML, the report or cassettes."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from oxen_contract.hub import LocalHub
from oxen_contract.recording.cassettes import vcr_config_for
from oxen_contract.settings.config import RunConfig
from tests.configs import run_config

from .conftest import Runner

SECRET = "sk-oxen-secret-0123456789abcdef"
OTHER_SECRET = "sk-oxen-other-fedcba9876543210"


@pytest.fixture
def failing_hub() -> Iterator[str]:
    """A hub whose delete answers break the contract, keyed by the two secrets."""
    with LocalHub({SECRET: "alice", OTHER_SECRET: "bob"}, ["delete-missing-id"]) as hub:
        yield hub.url


def _everything_written(result_text: str, tmp_path: Path) -> str:
    files = [
        path for path in tmp_path.rglob("*") if path.is_file() and path.suffix in (".xml", ".md", ".json", ".yaml")
    ]
    return result_text + "".join(path.read_text(encoding="utf-8", errors="replace") for path in files)


# With -l (locals shown) each time: --full-trace prints every frame at its longest, so what --tb=long, --tb=auto or
# --tb=short would show is in it; --tb=native is Python's own format, which pytest does not make.
@pytest.mark.parametrize("traceback_mode", ["--full-trace", "--tb=native"])
@pytest.mark.parametrize("fine_tune", ["alice/sandbox/ft-1", "alice/sandbox/no-such-fine-tune"])
def test_no_traceback_mode_shows_the_key(
    run_suite: Runner, failing_hub: str, tmp_path: Path, traceback_mode: str, fine_tune: str
) -> None:
    result = run_suite(
        "tests/contract/test_operations.py",
        "tests/contract/test_errors.py",
        *("--hub-url", failing_hub, "--fine-tune", fine_tune, traceback_mode, "-l"),
        *("--record-mode=rewrite", "--junitxml", str(tmp_path / "junit.xml")),
        *("--contract-report", str(tmp_path / "report.md")),
        env={
            "OXEN_API_KEY": SECRET,
            "OXEN_API_KEY_OTHER": OTHER_SECRET,
            "OXEN_CONTRACT_CASSETTE_DIR": str(tmp_path / "cassettes"),
        },
    )
    # The run did fail (a broken contract, or a fine-tune that cannot be deployed), with tracebacks to show.
    assert result.returncode == (1 if fine_tune.endswith("ft-1") else 78), result.stdout[-3000:]
    written = _everything_written(result.stdout + result.stderr, tmp_path)
    assert list((tmp_path / "cassettes").rglob("*.yaml")), "the run recorded no cassette to scan"
    assert SECRET not in written
    assert OTHER_SECRET not in written


def _config() -> RunConfig:
    return run_config("http://127.0.0.1:8080", SECRET, OTHER_SECRET)


def test_cassettes_drop_cookies_and_scrub_the_key_from_every_header_and_body() -> None:
    import vcr.request

    vcr_config = vcr_config_for(_config())
    request = vcr.request.Request(
        "POST",
        f"http://127.0.0.1:8080/api/ai/models?key={SECRET}",
        f'{{"token": "{SECRET}"}}'.encode(),
        {
            "Authorization": f"Bearer {SECRET}",
            "X-Api-Key": OTHER_SECRET,
            "Cookie": f"session={SECRET}",
            "Proxy-Authorization": f"Bearer {OTHER_SECRET}",
        },
    )
    stored_request = vcr_config["before_record_request"](request)
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Set-Cookie": [f"session={SECRET}"], "X-Echo": [f"your key is {OTHER_SECRET}"]},
        "body": {"string": f'{{"echo": "Bearer {SECRET}"}}'.encode()},
    }
    stored_response = vcr_config["before_record_response"](response)
    stored = repr(stored_request.uri) + repr(stored_request.headers) + repr(stored_request.body) + repr(stored_response)
    assert SECRET not in stored and OTHER_SECRET not in stored
    assert "cookie" not in {name.lower() for name in stored_request.headers}
    assert "set-cookie" not in {name.lower() for name in stored_response["headers"]}
    assert stored_request.headers["Authorization"] == "Bearer $OXEN_API_KEY"
    assert stored_request.headers["Proxy-Authorization"] == "Bearer $OXEN_API_KEY_OTHER"
    assert stored_request.headers["X-Api-Key"] == "$OXEN_API_KEY_OTHER"


# Keys that hold "/" and "+", so that JSON's \/, percent-encoding and base64 each spell them differently.
CANARY = "sk/oxen+canary/0123456789abcdef+xyz"
OTHER_CANARY = "sk+oxen/other+canary/fedcba9876543210"


def _spellings(key: str) -> dict[str, str]:
    """Every spelling of ``key`` a hub or a proxy might echo, written out here independently of the redactor."""
    return {
        "literal": key,
        "json-slash": key.replace("/", "\\/"),
        "json-unicode": "".join(f"\\u{ord(char):04x}" for char in key),
        "percent": quote(key, safe=""),
        "percent-lower": "".join(f"%{ord(char):02x}" if not char.isalnum() else char for char in key),
        "percent-twice": quote(quote(key, safe=""), safe=""),
        **{
            f"basic-{user or 'empty'}{'-colon' if trailing else ''}": base64.b64encode(
                (f"{user}:{key}" if not trailing else f"{key}:").encode()
            ).decode()
            for user, trailing in (("", False), ("alice", False), ("", True))
        },
    }


def test_a_hub_that_echoes_the_keys_everywhere_gets_neither_key_into_any_file_the_run_writes(
    run_suite: Runner, tmp_path: Path
) -> None:
    """The canary of issue 18: a live run and a re-record against a hub echoing both keys on every route."""
    with LocalHub({CANARY: "alice", OTHER_CANARY: "bob"}, ["hostile-echo-key"]) as hub:
        result = run_suite(
            "tests/contract",
            *("--hub-url", hub.url, "--fine-tune", "alice/sandbox/ft-1", "--allow-protection-probes"),
            *("--record-mode=rewrite", "--junitxml", str(tmp_path / "junit.xml")),
            *("--contract-report", str(tmp_path / "report.md"), "--ledger", str(tmp_path / "ledger.jsonl")),
            env={
                "OXEN_API_KEY": CANARY,
                "OXEN_API_KEY_OTHER": OTHER_CANARY,
                "OXEN_CONTRACT_CASSETTE_DIR": str(tmp_path / "cassettes"),
            },
        )
    assert result.returncode == 1, result.stdout[-3000:]  # search answers 500: rule:no-server-error
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert {path.suffix for path in files} >= {".xml", ".md", ".json", ".yaml", ".jsonl"}, files
    written = result.stdout + result.stderr + "".join(path.read_text("utf-8", "replace") for path in files)
    # The lure was set: the hub echoed the keys, and what was written holds them as their labels.
    assert "x-debug-authorization" in written.lower() and "$OXEN_API_KEY_OTHER" in written
    for key in (CANARY, OTHER_CANARY):
        found = {name: spelling for name, spelling in _spellings(key).items() if spelling in written}
        assert not found, f"{found} in what the run wrote"
