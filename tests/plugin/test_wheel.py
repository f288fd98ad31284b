"""The suite runs from the installed wheel, outside any checkout: replay, live against the local hub, and --pyargs.

Also what a new user meets first, as issue 20 has it: the help, the version, a typo, --lf, -W error, a working
directory left as it was, the license file, and the README's quick start doing what it says.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import ROOT

# One worker builds the wheel and runs every test of it (tox passes --dist loadgroup): a second worker would build and
# install it again, for nothing.
pytestmark = pytest.mark.xdist_group("wheel")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; its dependencies come from this environment (no download)."""
    where = tmp_path_factory.mktemp("wheel")
    dist = where / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "-w", str(dist)],
        check=True,
        timeout=600,
    )
    [wheel] = dist.glob("oxen_contract-*.whl")
    (where / "wheel-path").write_text(str(wheel))
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The dependencies: this environment's site-packages, added as a plain path (its .pth files, among them the
    # editable install of the checkout, are not run).
    Path(purelib, "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        # --force-reinstall: the environment seen through the .pth file holds the project already (same version).
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--force-reinstall",
            "--quiet",
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    return venv


def _run(venv: Path, *command: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("OXEN_", "PYTHON", "HYPOTHESIS"))}
    clean["PATH"] = f"{venv / 'bin'}:{clean.get('PATH', '')}"
    # Each test's own cache folder: what a run keeps there is no business of the working directory's.
    clean["XDG_CACHE_HOME"] = str(cwd.parent / f"{cwd.name}-cache")
    return subprocess.run(command, cwd=cwd, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=600)


def _wheel(installed: Path) -> Path:
    return Path((installed.parent / "wheel-path").read_text())


def test_the_package_is_the_wheel_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    found = _run(installed, "python", "-c", "import oxen_contract; print(oxen_contract.__file__)", cwd=tmp_path)
    assert found.stdout.strip().startswith(str(installed)), found.stdout + found.stderr


@dataclass(frozen=True)
class Run:
    cwd: Path
    result: subprocess.CompletedProcess[str]


# One run of each mode from the wheel serves every test that reads it (each run costs seconds): both under -W error,
# which issue 19 found crashing every installed run, each in a working directory of its own that must stay empty.
_MODES = {"replay": ("--replay",), "local-hub": ("--local-hub", "--allow-protection-probes")}


@pytest.fixture(scope="module", params=list(_MODES))
def whole_run(request: pytest.FixtureRequest, installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    cwd = tmp_path_factory.mktemp(f"run-{request.param}")
    return Run(cwd, _run(installed, "oxen-contract", *_MODES[request.param], "-W", "error", cwd=cwd))


def test_oxen_contract_runs_the_whole_suite_from_the_wheel(whole_run: Run) -> None:
    result = whole_run.result
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "CONTRACT HELD" in result.stdout
    assert "passed" in result.stdout


def test_pytest_pyargs_runs_the_suite_too(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, "python", "-m", "pytest", "--pyargs", "oxen_contract.suite", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "CONTRACT HELD" in result.stdout


def test_the_help_is_the_suite_s_own_under_100_lines_listing_replay(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, "oxen-contract", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) < 100 and "--replay" in result.stdout
    assert "usage: pytest.main()" not in result.stdout


def test_the_version_names_oxen_contract_and_the_checkout_s_contract_digest(installed: Path, tmp_path: Path) -> None:
    from oxen_contract.checking.contracts import contract_digest

    result = _run(installed, "oxen-contract", "--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("oxen-contract 0.") and f"contract sha256:{contract_digest()}" in result.stdout


def test_a_typo_of_a_suite_option_suggests_the_option(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, "oxen-contract", "--local-hbu", cwd=tmp_path)
    assert result.returncode == 4
    assert "Did you mean --local-hub?" in result.stderr and "Traceback" not in result.stderr


def test_a_run_under_w_error_passes_and_leaves_the_working_directory_as_it_was(whole_run: Run) -> None:
    # Issue 19: every installed run warned "Module already imported so cannot be rewritten: oxen_contract".
    result = whole_run.result
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "PytestAssertRewriteWarning" not in result.stdout + result.stderr
    left = list(whole_run.cwd.iterdir())
    assert left == [], f"a run left files in the working directory (.hypothesis/, .pytest_cache/?): {left}"


@pytest.mark.parametrize("last_failed", [("--lf",), ("--", "--lf")], ids=["lf", "after-double-dash"])
def test_last_failed_works_from_the_wheel(installed: Path, tmp_path: Path, last_failed: tuple[str, ...]) -> None:
    # A narrowed first run leaves the cache --lf reads as well as a whole one does, in a fraction of its time.
    first = _run(installed, "oxen-contract", "--replay", "-q", "-k", "test_list", cwd=tmp_path)
    again = _run(installed, "oxen-contract", "--replay", "-q", *last_failed, cwd=tmp_path)
    assert first.returncode == again.returncode == 0, again.stdout[-3000:] + again.stderr[-2000:]
    assert "unrecognized arguments" not in again.stderr and "CONTRACT HELD" in again.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("whole_run", ["replay"], indirect=True)
def test_the_skip_reasons_and_the_mode_are_shown(whole_run: Run) -> None:
    result = whole_run.result
    assert "oxen-contract: replay of the recorded cassettes" in result.stdout
    assert re.search(
        r"^\[oxen-contract\] .* \[replay of the recorded cassettes\] \(exit status \d+\)$", result.stdout, re.M
    )
    assert "short test summary info" in result.stdout or " skipped" not in result.stdout


def test_the_wheel_carries_the_license_and_leaves_the_checkout_s_tools_out(installed: Path) -> None:
    names = zipfile.ZipFile(_wheel(installed)).namelist()
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert not [name for name in names if "/selfcheck/" in name or "/mutants/" in name]
    assert any(name.endswith("templates/report.html") for name in names)


def _quick_start() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Quick start") : readme.index("## Contents")]
    return re.findall(r"```sh\n(.*?)\n\s*```", section, re.S)


def test_the_readme_s_quick_start_commands_do_what_it_says(installed: Path, tmp_path: Path) -> None:
    import time

    install, replay, local, staging = (" ".join(block.split()) for block in _quick_start())
    assert install == "pip install 'oxen-contract[hub]'"
    started = time.monotonic()
    result = _run(installed, *replay.split(), cwd=tmp_path)
    took = time.monotonic() - started
    # "offline, no key, a few seconds": the network is blocked (the plugin's --block-network) and no key is set.
    assert result.returncode == 0 and took < 60, result.stdout[-3000:]
    assert "[replay of the recorded cassettes] (exit status 0)" in result.stdout
    result = _run(installed, *local.split(), cwd=tmp_path)
    assert result.returncode == 0 and "[live against the local reference hub] (exit status 0)" in result.stdout
    # The staging command, pointed at a local hub: the same last line, and the report where it says.
    from oxen_contract.hub import LocalHub

    words = staging.split()
    with LocalHub({"key-a": "alice", "key-b": "bob"}) as hub:
        words = [hub.url if word == "https://staging.example" else word for word in words[1:]]
        result = _run(installed, *words, cwd=tmp_path, env={"OXEN_API_KEY": "key-a"})
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "reports" / "contract.md").is_file() and (tmp_path / "reports" / "contract.json").is_file()
