"""The suite's options and ini keys, made from the one table of settings (``table.py``), and its markers."""

from __future__ import annotations

import pytest

from .table import SETTINGS, Setting, options

__all__ = ["GROUP_DESCRIPTION", "MARKERS", "SUITE_OPTIONS", "add_options", "describe"]

MARKERS = {
    "contract": "talks to the hub (live, recorded or replayed): needs the oxen-contract plugin's hub fixtures",
    "destructive": "deletes a disposable custom model: needs --fine-tune or --disposable-model",
    "protection_probe": "tries to delete what must not be deletable: live runs need --allow-protection-probes",
}

GROUP_DESCRIPTION = (
    "Oxen hub models API contract suite. Exit status: 0 the contract held (or a partial pass: a narrowed run, or "
    "--allow-partial); 1 contract violations; 2 interrupted; 4 usage error; 70 suite error (the tool's own fault); "
    "75 hub unavailable; 78 setup error (the contract could not be checked: undeployable fine-tune, refused key, "
    "damaged cassette, delete never checked)"
)

# The options that say "run the contract suite": given on the command line, they are checked at once.
SUITE_OPTIONS = tuple(setting.name for setting in options())


def describe(setting: Setting) -> str:
    """Where else the setting may come from, and its default: ``env X (or Y), ini z; default: d``."""
    env = setting.env + "".join(f" (or {alias})" for alias in setting.aliases)
    ini = f", ini {setting.ini}" if setting.ini else ", no ini key"
    return f"env {env}{ini}; default: {setting.default}"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("oxen-contract", GROUP_DESCRIPTION)
    for setting in options():
        assert setting.option is not None
        help_text = f"{setting.help} ({describe(setting)})"
        if setting.flag:
            group.addoption(setting.option, dest=setting.name, action="store_true", help=help_text)
        elif setting.repeatable:
            group.addoption(setting.option, dest=setting.name, action="append", metavar=setting.metavar, help=help_text)
        else:
            group.addoption(setting.option, dest=setting.name, metavar=setting.metavar, help=help_text)
    for setting in SETTINGS:
        if setting.ini is not None:
            # Read as text, so that config.py gives one message for a bad value wherever it came from.
            parser.addini(setting.ini, f"{setting.help} ({setting.label()})", default="")
