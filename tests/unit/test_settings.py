"""settings/table.py: one table, one naming scheme, nothing arms a run from a file, the README's table is the table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oxen_contract.settings import config
from oxen_contract.settings.options import SUITE_OPTIONS
from oxen_contract.settings.table import (
    DEFAULT_CLOCK_SKEW,
    DEFAULT_MAX_EXAMPLES,
    GROUPS,
    SETTINGS,
    by_name,
    env_name,
    markdown_table,
)

ROOT = Path(__file__).resolve().parents[2]

# The settings that permit deleting or spending beyond the defaults, and the keys: never from a committed file.
NEVER_IN_A_FILE = {"allow_protection_probes", "disposable_models", "api_key", "api_key_other"}


def test_every_option_s_environment_variable_and_ini_key_follow_the_scheme() -> None:
    for setting in SETTINGS:
        if setting.option is None:
            continue
        assert setting.env == env_name(setting.option), setting.name
        if setting.ini is not None:
            assert setting.ini == "oxen_" + setting.option.removeprefix("--").replace("-", "_"), setting.name
        assert setting.group in GROUPS


@pytest.mark.parametrize(
    ("option", "variable"),
    [
        ("--hub-url", "OXEN_CONTRACT_HUB_URL"),
        ("--strict-contract", "OXEN_CONTRACT_STRICT"),
        ("--contract-report", "OXEN_CONTRACT_REPORT"),
        ("--max-provisions", "OXEN_CONTRACT_MAX_PROVISIONS"),
    ],
)
def test_the_scheme_does_not_say_contract_twice(option: str, variable: str) -> None:
    assert env_name(option) == variable


def test_the_old_environment_names_are_kept_as_aliases() -> None:
    assert by_name("hub_url").aliases == ("OXEN_HUB_URL",)
    assert by_name("disposable_models").aliases == ("OXEN_CONTRACT_DISPOSABLE_MODELS",)
    assert (by_name("api_key").env, by_name("api_key_other").env) == ("OXEN_API_KEY", "OXEN_API_KEY_OTHER")


def test_every_setting_has_an_ini_key_but_those_that_arm_a_run() -> None:
    without = {setting.name for setting in SETTINGS if setting.ini is None}
    assert without == NEVER_IN_A_FILE
    assert by_name("max_provisions").ini_lowers_only


def test_every_option_of_the_table_is_a_suite_option_once() -> None:
    options = [setting.option for setting in SETTINGS if setting.option]
    assert len(options) == len(set(options))
    assert set(SUITE_OPTIONS) == {setting.name for setting in SETTINGS if setting.option}


def test_the_defaults_the_table_states_are_the_code_s() -> None:
    assert by_name("max_examples").default == str(DEFAULT_MAX_EXAMPLES)
    assert by_name("clock_skew").default == f"{DEFAULT_CLOCK_SKEW:g}"
    assert by_name("max_provisions").default.startswith(f"{config.DEFAULT_MAX_PROVISIONS} ")
    assert f": {config.LOCAL_MAX_PROVISIONS}" in by_name("max_provisions").default


def _readme_table() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("| option | environment (older name) |")
    end = text.index("\n\n", start)
    return text[start:end] + "\n"


def test_the_readme_s_option_table_is_the_settings_table() -> None:
    # Regenerate it with: python -c "from oxen_contract.settings.table import markdown_table; print(markdown_table())"
    assert _readme_table() == markdown_table()


def test_the_readme_table_check_fails_when_a_setting_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from oxen_contract.settings import table

    changed = tuple(
        dataclasses.replace(setting, default="60") if setting.name == "request_timeout" else setting
        for setting in table.SETTINGS
    )
    monkeypatch.setattr(table, "SETTINGS", changed)
    assert _readme_table() != table.markdown_table()
    assert re.search(r"\| `--request-timeout SECONDS` .*\| 30 \|", _readme_table())
