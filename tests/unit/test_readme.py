"""The README is the package's long description too: it starts fast, and nothing in it needs the checkout to resolve."""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
# A terminal's first screen, or the top of the package index's page.
FIRST_SCREEN = 50


def test_the_quick_start_s_three_commands_are_on_the_first_screen() -> None:
    top = "\n".join(README.splitlines()[:FIRST_SCREEN])
    for command in ("oxen-contract --replay", "oxen-contract --local-hub", "oxen-contract --hub-url"):
        assert command in top, command
    assert top.index("## Quick start") < top.index("## Contents")


def test_every_link_resolves_off_the_checkout() -> None:
    # The package index shows this file without the repository around it: a link must be absolute (or in the page).
    targets = re.findall(r"\]\(([^)\s]+)\)", README)
    assert targets, "no link found: the pattern is wrong"
    relative = [target for target in targets if not target.startswith(("https://", "#"))]
    assert relative == []


def test_every_in_page_link_names_a_heading() -> None:
    anchors = {
        re.sub(r"[^\w\- ]", "", heading).strip().lower().replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", README, re.M)
    }
    missing = [target for target in re.findall(r"\]\(#([^)]+)\)", README) if target not in anchors]
    assert missing == []


def test_checkout_commands_live_under_develop() -> None:
    develop = README.index("## Develop")
    for command in ("pip install -e '.[dev]'", "pip install 'tox>=4' && tox", "git clone"):
        assert README.index(command) > develop, command
