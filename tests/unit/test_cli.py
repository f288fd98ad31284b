"""cli.py: the help, the version, what reaches pytest, did-you-mean, and where pytest's cache goes.

pytest.main is replaced by a recorder here: these tests are about the front door. The wheel tests
(``tests/plugin/test_wheel.py``) run the real thing from a fresh venv.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oxen_contract import cli
from oxen_contract.checking.contracts import contract_digest
from oxen_contract.settings.table import SETTINGS


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """The argument lists oxen-contract hands pytest.main, in a clean environment and a cache folder of its own."""
    calls: list[list[str]] = []
    for name in list(os.environ):
        if name.startswith(("OXEN_", "HYPOTHESIS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OXEN_CONTRACT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)

    def main(args: list[str]) -> int:
        calls.append(list(args))
        return 0

    monkeypatch.setattr(pytest, "main", main)
    return calls


def _help(capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["--help"]) == 0
    return capsys.readouterr().out


def test_the_help_is_the_suite_s_own_under_100_lines_and_lists_replay(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys)
    assert len(text.splitlines()) < 100
    assert "--replay" in text and "pytest.main()" not in text
    for group in ("Target:", "Safety and spending:", "Contract:", "Reports:", "Fuzzing:"):
        assert group in text


def test_the_help_names_each_option_s_environment_variable_ini_key_and_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    flat = " ".join(_help(capsys).split())
    for setting in SETTINGS:
        if setting.option is None:
            continue
        assert setting.option in flat
        # Wrapped at hyphens and spaces: compare without either.
        squeezed = flat.replace("- ", "-").replace(" ", "")
        assert setting.env.replace(" ", "") in squeezed, setting.env
        assert (setting.ini or "no ini key").replace(" ", "") in squeezed, setting.name
        assert setting.default.replace(" ", "") in squeezed, setting.name


def test_minus_h_alone_is_the_help_but_inside_a_pytest_option_it_is_not(
    ran: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["-h"]) == 0 and "Usage: oxen-contract" in capsys.readouterr().out
    assert cli.main(["-kheavy"]) == 0
    assert ran[-1][-1] == "-kheavy"


def test_the_version_names_the_package_the_contract_digest_and_what_it_runs_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["--version"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("oxen-contract ")
    assert lines[1] == f"contract sha256:{contract_digest()}"
    assert all(f"{name} " in lines[2] for name in ("schemathesis", "hypothesis", "pytest"))


def test_the_contract_digest_is_sha256_over_the_contracts_files_in_sorted_order() -> None:
    import hashlib

    folder = Path(__file__).resolve().parents[2] / "contracts"
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()))
    assert contract_digest() == digest.hexdigest()


def test_a_run_without_a_hub_is_an_explicit_replay_with_the_network_blocked(ran: list[list[str]]) -> None:
    assert cli.main([]) == 0
    assert ran[0][:2] == ["--pyargs", "oxen_contract.suite"]
    assert "--replay" in ran[0] and "--block-network" in ran[0]


def test_a_hub_url_from_the_environment_makes_a_live_run(ran: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OXEN_HUB_URL", "https://hub.example")
    assert cli.main([]) == 0
    assert "--replay" not in ran[0] and "--block-network" not in ran[0]


def test_pytest_s_arguments_pass_through_in_order_and_after_double_dash_unchanged(ran: list[list[str]]) -> None:
    assert (
        cli.main(["-x", "-k", "delete and not lifecycle", "--local-hub", "-W", "error", "--lf", "--", "--hub-url"]) == 0
    )
    args = ran[0]
    assert args[-7:] == ["-x", "-k", "delete and not lifecycle", "-W", "error", "--lf", "--hub-url"]
    assert "--local-hub" in args and "--replay" not in args


def test_the_suite_s_options_reach_pytest_as_pytest_spells_them(ran: list[list[str]]) -> None:
    argv = ["--local-hub", "--fine-tune", "a/b/c", "--fine-tune", "a/b/c@1", "--seed", "7", "--max-examples=30"]
    assert cli.main(argv) == 0
    args = ran[0]
    assert args[args.index("--local-hub") :][:1] == ["--local-hub"]
    assert [args[i + 1] for i, arg in enumerate(args) if arg == "--fine-tune"] == ["a/b/c", "a/b/c@1"]
    assert args[args.index("--seed") + 1] == "7" and args[args.index("--max-examples") + 1] == "30"


def test_pytest_s_cache_and_hypothesis_s_files_live_outside_the_working_directory(
    ran: list[list[str]], tmp_path: Path
) -> None:
    assert cli.main(["--replay"]) == 0
    (cache,) = [arg.removeprefix("cache_dir=") for arg in ran[0] if arg.startswith("cache_dir=")]
    assert Path(cache).is_relative_to(tmp_path / "cache") and not Path(cache).is_relative_to(tmp_path / "cwd")
    assert Path(os.environ["HYPOTHESIS_STORAGE_DIRECTORY"]).is_relative_to(tmp_path / "cache")
    # Skip reasons by default; a -r of the caller's comes later and wins.
    assert "-ra" in ran[0]


def test_each_working_directory_gets_its_own_cache(ran: list[list[str]], tmp_path: Path) -> None:
    cli.main(["--replay"])
    (tmp_path / "other").mkdir()
    os.chdir(tmp_path / "other")
    cli.main(["--replay"])
    caches = [next(arg for arg in call if arg.startswith("cache_dir=")) for call in ran]
    assert caches[0] != caches[1]


def test_a_near_miss_of_a_suite_option_is_a_usage_error_that_suggests_it(
    ran: list[list[str]], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_pytest_knows", lambda option: False)
    assert cli.main(["--local-hbu"]) == cli.USAGE_ERROR == 4
    assert "No such option: --local-hbu (Did you mean --local-hub?)" in capsys.readouterr().err
    assert ran == []


def test_a_near_miss_that_pytest_knows_passes_through(ran: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_pytest_knows", lambda option: option == "--hub-urls")
    assert cli.main(["--hub-urls"]) == 0
    assert ran[0][-1] == "--hub-urls"


def test_an_option_far_from_the_suite_s_goes_to_pytest_without_asking(
    ran: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def asked(option: str) -> bool:
        raise AssertionError(f"asked pytest about {option}")

    monkeypatch.setattr(cli, "_pytest_knows", asked)
    assert cli.main(["--tb=short", "--durations", "5", "--record-mode=none"]) == 0


def test_replay_with_a_live_option_is_a_usage_error(ran: list[list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--replay", "--local-hub"]) == 4
    assert "--replay replays the packaged cassettes" in capsys.readouterr().err and ran == []


def test_a_suite_option_without_its_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--max-examples"]) == 4
    assert "'--max-examples' requires an argument" in capsys.readouterr().err


def test_the_local_hub_command_without_the_hub_extra_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    assert cli.local_hub_main(["--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'oxen-contract[hub]'" in err and "Traceback" not in err


@pytest.mark.parametrize("disabled", [["-p", "no:cacheprovider"], ["-pno:cacheprovider"]], ids=["spaced", "joined"])
def test_with_the_cache_plugin_off_no_cache_dir_is_set_so_w_error_finds_no_unknown_ini_key(
    ran: list[list[str]], disabled: list[str]
) -> None:
    cli.main([*disabled, "-W", "error"])
    assert not any(word.startswith("cache_dir=") for word in ran[-1])
