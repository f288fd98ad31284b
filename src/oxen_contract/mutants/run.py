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

Two targets, each with its own settings in ``pyproject.toml``: ``hub``, the local hub's answer-making modules with the
contract suite as the test (``[tool.mutmut]``, which mutmut itself reads), and ``safety``, the code that decides what
the run may delete (provenance, provisioning's reconciliation, the ledger) with the fast unit tests that hold it to
its rules as the test (``[tool.oxen_contract.mutants.safety]``, written into the copy's ``[tool.mutmut]``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..checking.contracts import CHECKOUT_FOLDER

__all__ = [
    "Settings",
    "clean_run",
    "prepare",
    "probe_mutants",
    "progress",
    "read_coverage",
    "run_mutmut",
    "settings",
]

# What the suite needs beside itself: the package, the contracts and cassettes it reads, the root conftest (Hypothesis
# profiles) and pyproject.toml (pytest's and mutmut's settings).
# The contracts' folder is named by contracts.py, their only reader (as the checkout names it: under tox the package
# itself is installed from a wheel and reads its own copy).
_COPIED = ("src", CHECKOUT_FOLDER, "cassettes", "conftest.py", "pyproject.toml")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis", ".pytest_cache")


TARGETS = ("hub", "safety")


@dataclass(frozen=True, slots=True)
class Settings:
    only_mutate: tuple[str, ...]
    test_selection: tuple[str, ...]
    pytest_args: tuple[str, ...]
    target: str = "hub"

    @property
    def test_command(self) -> tuple[str, ...]:
        return ("pytest", *self.test_selection, *self.pytest_args)

    @property
    def whole_tests(self) -> bool:
        """Whether the test selection needs all of tests/ (the safety target's unit tests and their helpers)."""
        return self.target != "hub"


def settings(root: Path, target: str = "hub") -> Settings:
    """The target's settings: ``[tool.mutmut]`` for the hub, ``[tool.oxen_contract.mutants.<target>]`` otherwise."""
    tool = tomllib.loads((root / "pyproject.toml").read_text("utf-8")).get("tool", {})
    if target == "hub":
        table, where = tool.get("mutmut"), "[tool.mutmut]"
    else:
        table, where = (
            tool.get("oxen_contract", {}).get("mutants", {}).get(target),
            f"[tool.oxen_contract.mutants.{target}]",
        )
    if not table:
        raise ValueError(f"pyproject.toml has no {where} section")
    return Settings(
        tuple(table.get("only_mutate", ())),
        tuple(table.get("pytest_add_cli_args_test_selection", ())),
        tuple(table.get("pytest_add_cli_args", ())),
        target,
    )


def _toml_list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def _retarget(pyproject: Path, config: Settings) -> None:
    """Point the copy's ``[tool.mutmut]`` (what mutmut reads) at ``config``'s files and tests."""
    text = pyproject.read_text("utf-8")
    start = text.index("[tool.mutmut]")
    end = text.find("\n[", start + 1)
    end = len(text) if end == -1 else end + 1
    table = text[start:end]
    for key, values in (
        ("only_mutate", config.only_mutate),
        ("pytest_add_cli_args_test_selection", config.test_selection),
        ("pytest_add_cli_args", config.pytest_args),
    ):
        # A key's list, on one line or over several, is replaced whole.
        line = f"{key} = {_toml_list(values)}\n"
        found = re.search(rf"(?ms)^{key} = \[.*?\]\n", table)
        table = table[: found.start()] + line + table[found.end() :] if found else table + line
    pyproject.write_text(text[:start] + table + text[end:], "utf-8")


def prepare(root: Path, work: Path, config: Settings | None = None) -> None:
    """A fresh copy of what the tests need in ``work``; tests/contract stays a link to the suite, as checked out."""
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
    if config is not None and config.whole_tests:
        # The unit tests import helpers from all over tests/ (its conftest, configs.py); the suite's link stays one.
        shutil.copytree(root / "tests", work / "tests", ignore=_IGNORED, symlinks=True)
        _retarget(work / "pyproject.toml", config)
        return
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
        "--source=src/oxen_contract",
        # Only the files mutmut mutates: their lines are what "executed" is asked of.
        f"--include={','.join(config.only_mutate)}",
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


def probe_mutants(work: Path, mutant_ids: list[str], log: Path) -> dict[str, Any]:
    """The differential probe (``probe.py``) of each mutant, against mutmut's mutated sources in ``work``.

    Run in a process of its own, with the mutated copy of the package first on its path (the trampolines choose the
    mutant at each call), from a scratch folder: a mutant may write files where it stands. Answers the probe's JSON.
    """
    scratch = work / "probe"
    scratch.mkdir(exist_ok=True)
    ids, out = scratch / "ids.txt", scratch / "probe.json"
    ids.write_text("".join(f"{mutant_id}\n" for mutant_id in mutant_ids), "utf-8")
    # The probe by its path, as it is now (the copy in the work directory is the run's, which --report-only may
    # outlive); the hub it plays comes from the mutated copy, first on the path.
    command = [sys.executable, str(Path(__file__).with_name("probe.py")), "--ids", str(ids), "--out", str(out)]
    env = _environment(PYTHONPATH=str(work / "mutants" / "src"))
    with log.open("w") as output:
        status = subprocess.run(command, cwd=scratch, env=env, stdout=output, stderr=subprocess.STDOUT, check=False)
    if status.returncode != 0:
        raise RuntimeError(f"the differential probe failed (exit {status.returncode}): see {log}")
    found: dict[str, Any] = json.loads(out.read_text("utf-8"))
    return found
