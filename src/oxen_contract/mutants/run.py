"""Running mutmut where it can do no harm: in a scratch copy of the project, after a clean run that must pass.

mutmut 3 copies the project into ``mutants/`` beside its own working directory, mutates the copy and forks one
worker per mutant, each running the tests that reached the mutated function (``pytest.main`` in the worker, so the
suite's local hub runs, mutated, in a thread of that worker). Run in the checkout, that ``mutants/`` would land among
the sources, where ruff and pytest would find it; so the run happens in ``build/mutmut/`` (git ignores ``build/``),
fresh each time. The test command is the ``[tool.mutmut]`` section of ``pyproject.toml``, read here too so that the
clean run is the same command.

Before mutmut, the clean run: the contract suite against the unmutated copy, under coverage. It must pass (a suite
that fails without mutants kills every mutant and proves nothing), and it tells which mutated lines the suite really
executes: mutmut's "reached" means only that a test called the function.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..contracts import CHECKOUT_FOLDER

__all__ = ["Settings", "clean_run", "find_root", "prepare", "progress", "read_coverage", "run_mutmut", "settings"]

# What the suite needs beside itself: the package, the contracts and cassettes it reads, the root conftest (Hypothesis
# profiles) and pyproject.toml (pytest's and mutmut's settings).
# The contracts' folder is named by contracts.py, their only reader (as the checkout names it: under tox the package
# itself is installed from a wheel and reads its own copy).
_COPIED = ("src", CHECKOUT_FOLDER, "cassettes", "conftest.py", "pyproject.toml")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")


@dataclass(frozen=True, slots=True)
class Settings:
    only_mutate: tuple[str, ...]
    test_selection: tuple[str, ...]
    pytest_args: tuple[str, ...]

    @property
    def test_command(self) -> tuple[str, ...]:
        return ("pytest", *self.test_selection, *self.pytest_args)


def find_root(start: Path | None = None) -> Path:
    """The checkout: from ``start`` (default: the cwd) upwards, the directory with pyproject.toml and tests/contract."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "pyproject.toml").is_file() and (candidate / "tests" / "contract").is_dir():
            return candidate
    raise FileNotFoundError("pyproject.toml and tests/contract not found: run from a checkout of the project")


def settings(root: Path) -> Settings:
    table = tomllib.loads((root / "pyproject.toml").read_text("utf-8")).get("tool", {}).get("mutmut")
    if not table:
        raise ValueError("pyproject.toml has no [tool.mutmut] section")
    return Settings(
        tuple(table.get("only_mutate", ())),
        tuple(table.get("pytest_add_cli_args_test_selection", ())),
        tuple(table.get("pytest_add_cli_args", ())),
    )


def prepare(root: Path, work: Path) -> None:
    """A fresh copy of what the suite needs in ``work``; tests/contract stays a link to the suite, as checked out."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for name in _COPIED:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=_IGNORED)
        elif source.is_file():
            shutil.copy2(source, work / name)
        else:
            raise FileNotFoundError(f"{source} is missing: the mutation run needs it beside the suite")
    (work / "tests").mkdir()
    shutil.copy2(root / "tests" / "__init__.py", work / "tests" / "__init__.py")
    contract = root / "tests" / "contract"
    if contract.is_symlink():
        (work / "tests" / "contract").symlink_to(os.readlink(contract))
    else:
        shutil.copytree(contract, work / "tests" / "contract", ignore=_IGNORED)


def _environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # The suite's derandomized profile with no example database: every mutant meets the same requests, and no failing
    # example of one mutant is replayed against the next.
    env.setdefault("HYPOTHESIS_PROFILE", "replay")
    env.update(extra)
    return env


def clean_run(work: Path, config: Settings, log: Path) -> int:
    """The suite against the unmutated copy, under coverage (``read_coverage`` reads it back): its exit status."""
    command = [
        sys.executable,
        "-m",
        "coverage",
        "run",
        "--data-file=.coverage",
        "--source=src/oxen_contract/hub",
        "-m",
        *config.test_command,
    ]
    env = _environment(PYTHONPATH=str(work / "src"))
    with log.open("w") as out:
        status = subprocess.run(command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
        subprocess.run(
            [sys.executable, "-m", "coverage", "json", "--data-file=.coverage", "-o", "coverage.json", "-q"],
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return status.returncode


def read_coverage(work: Path) -> dict[str, tuple[set[int], set[int]]]:
    """Each hub file's lines the clean run executed and missed, by path relative to ``work``; empty without data."""
    path = work / "coverage.json"
    if not path.is_file():
        return {}
    files: Mapping[str, Mapping[str, list[int]]] = json.loads(path.read_text("utf-8")).get("files", {})
    found: dict[str, tuple[set[int], set[int]]] = {}
    for name, data in files.items():
        relative = Path(name)
        if relative.is_absolute():
            try:
                relative = relative.relative_to(work)
            except ValueError:
                continue
        found[relative.as_posix()] = (set(data.get("executed_lines", ())), set(data.get("missing_lines", ())))
    return found


def _mutmut() -> str:
    beside = Path(sys.executable).with_name("mutmut")
    if beside.is_file():
        return str(beside)
    found = shutil.which("mutmut")
    if found is None:
        raise FileNotFoundError("mutmut is not installed here: run `tox -e mutants`, which installs the pinned version")
    return found


def progress(work: Path) -> tuple[int, int]:
    """Mutants with a result so far, and mutants made (0, 0 until mutmut has written its .meta files)."""
    done = total = 0
    for meta in (work / "mutants").rglob("*.py.meta"):
        try:
            codes = json.loads(meta.read_text("utf-8"))["exit_code_by_key"]
        except (OSError, ValueError, KeyError):
            continue
        total += len(codes)
        done += sum(code is not None for code in codes.values())
    return done, total


def run_mutmut(work: Path, log: Path, *, max_children: int, say: Callable[[str], None]) -> int:
    """``mutmut run`` in ``work``; its output (a spinner) goes to ``log``, a progress line to ``say`` each minute."""
    command = [_mutmut(), "run", "--max-children", str(max_children)]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=work, env=_environment(), stdout=out, stderr=subprocess.STDOUT)
        started = time.monotonic()
        while True:
            try:
                return process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                done, total = progress(work)
                if total:
                    say(f"  {done}/{total} mutants tested ({time.monotonic() - started:.0f} s)")
