"""The suite runs from the installed wheel, outside any checkout: replay, live against the local hub, and --pyargs."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from .conftest import ROOT


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


def _run(venv: Path, *command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("OXEN_", "PYTHON"))}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_package_is_the_wheel_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    found = _run(installed, "python", "-c", "import oxen_contract; print(oxen_contract.__file__)", cwd=tmp_path)
    assert found.stdout.strip().startswith(str(installed)), found.stdout + found.stderr


@pytest.mark.parametrize(
    "command",
    [("oxen-contract", "--replay"), ("oxen-contract", "--local-hub", "--allow-protection-probes")],
    ids=["replay", "local-hub"],
)
def test_oxen_contract_runs_the_whole_suite_from_the_wheel(
    installed: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = _run(installed, *command, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "CONTRACT HELD" in result.stdout
    assert "passed" in result.stdout


def test_pytest_pyargs_runs_the_suite_too(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, "python", "-m", "pytest", "--pyargs", "oxen_contract.suite", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "CONTRACT HELD" in result.stdout
