"""The suite's own skips, told apart by type, since the verdict weighs them differently.

A test skipped because the run's settings chose it (no fine-tune, no second key, no protection probes, the deploy cap
reached) was left out on purpose: the run holds, and its summary names them. One skipped because ``--max-requests``
ran out (``RequestsSpent``) checked less than the run meant to: never "held". Any other skip (the hub answered what a
test cannot go on from, e.g. no base model to probe) makes the run a partial pass that says why.
"""

from __future__ import annotations

from typing import NoReturn

from _pytest.outcomes import Skipped

__all__ = ["RequestsSpent", "SkippedBySettings", "skip_by_settings"]


class SkippedBySettings(Skipped):
    """A test the run's settings leave out (the reason names the option that would run it)."""


class RequestsSpent(Skipped):
    """--max-requests is spent: the test that would send more skips, and the verdict counts it as unchecked."""


# pytest writes a skip's reason as its exception's qualified name and message, and takes off only "Skipped: ": under
# pytest's own name, these read as every other skip in -ra and the reports (the type still tells them apart).
for _skip in (SkippedBySettings, RequestsSpent):
    _skip.__module__, _skip.__qualname__ = "builtins", "Skipped"


def skip_by_settings(reason: str) -> NoReturn:
    raise SkippedBySettings(reason)
