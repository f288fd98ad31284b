"""Installed, the plugin loads into every pytest session of the environment, and changes none that skips the suite.

Somebody else's project, in the same virtualenv, with every OXEN_* variable still exported from a nightly job, and a
failing test whose exception is called ``ParserError`` (as dateutil's is): its output and exit status must be what
they would be without the package installed (``-p no:oxen_contract`` stands in for that).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

UNRELATED_TESTS = '''
from hypothesis import given, strategies as st


class ParserError(ValueError):
    """Named like dateutil's: the plugin must not mistake it for a damaged cassette."""


def test_passes():
    assert True


def test_fails_with_a_parser_error():
    raise ParserError("Unknown string format: 31/02/2026")


@given(st.text())
def test_hypothesis_runs_as_configured(text):
    assert isinstance(text, str)


def test_hypothesis_is_not_patched():
    from hypothesis.internal.conjecture import providers

    assert providers.is_local_module_file.__module__.startswith("hypothesis")
'''

EVERY_OXEN_VARIABLE = {
    "OXEN_HUB_URL": "http://127.0.0.1:9",
    "OXEN_API_KEY": "k",
    "OXEN_API_KEY_OTHER": "k2",
    "OXEN_CONTRACT_LOCAL_HUB": "1",
    "OXEN_CONTRACT_FINE_TUNE": "alice/sandbox/ft-1",
    "OXEN_CONTRACT_DISPOSABLE_MODELS": "a:b/c",
    "OXEN_CONTRACT_MAX_PROVISIONS": "many",
    "OXEN_CONTRACT_ALLOW_PROTECTION_PROBES": "1",
    "OXEN_CONTRACT_STRICT": "1",
    "OXEN_CONTRACT_REQUEST_TIMEOUT": "nan",
    "OXEN_CONTRACT_NAMESPACE": "alice",
    "OXEN_CONTRACT_LEDGER": "/nonexistent/ledger.jsonl",
    "OXEN_CONTRACT_CASSETTE_DIR": "/nonexistent",
    "OXEN_CONTRACT_REPORT": "/nonexistent/report.md",
    "OXEN_CONTRACT_MAX_REQUESTS": "0",
    "OXEN_CONTRACT_ALLOW_PARTIAL": "1",
}


def _normalised(text: str) -> str:
    text = re.sub(r"^(plugins|rootdir|platform|cachedir):.*$", "", text, flags=re.MULTILINE)
    # pytest pads its summary line to the terminal's width: a run of 10 s or more has one "=" fewer.
    return re.sub(r"=* (.*) in \d+\.\d+s.* =*$", r"= \1 in Ns =", text, flags=re.MULTILINE)


def _run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **EVERY_OXEN_VARIABLE}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unrelated_project_runs_exactly_as_without_the_plugin(tmp_path: Path) -> None:
    project = tmp_path / "unrelated"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n")
    (project / "test_unrelated.py").write_text(UNRELATED_TESTS)
    with_plugin = _run(project)
    without_plugin = _run(project, "-p", "no:oxen_contract")
    assert without_plugin.returncode == 1, without_plugin.stdout
    assert with_plugin.returncode == without_plugin.returncode, with_plugin.stdout + with_plugin.stderr
    assert _normalised(with_plugin.stdout) == _normalised(without_plugin.stdout)
    assert with_plugin.stderr == without_plugin.stderr
    assert "ParserError: Unknown string format" in with_plugin.stdout
    assert "cassette" not in with_plugin.stdout
