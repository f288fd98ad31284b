"""The Hypothesis profile the suite runs under, chosen with HYPOTHESIS_PROFILE (default ``replay``).

``replay`` is derandomized and keeps no example database, so that every run sends the requests the cassettes were
recorded with and a run writes nothing of Hypothesis's beside the caller's files. It is the only profile: the suite's
fuzzing volume and draws are its own settings (``--max-examples``, ``--seed``), which schemathesis applies per
operation, and the delete lifecycle machine sets its own; a profile's ``max_examples`` reached none of them (the
``ci`` and ``dev`` profiles that set it did nothing, and are gone).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings
from hypothesis.errors import InvalidArgument

__all__ = ["DEFAULT", "load_profile", "register_profiles"]

DEFAULT = "replay"


def register_profiles() -> None:
    settings.register_profile(DEFAULT, derandomize=True, database=None, deadline=None)


def load_profile() -> None:
    """Register the profile and load the one HYPOTHESIS_PROFILE names (``replay`` by default)."""
    register_profiles()
    name = os.environ.get("HYPOTHESIS_PROFILE", DEFAULT)
    try:
        settings.load_profile(name)
    except InvalidArgument:
        raise pytest.UsageError(
            f"HYPOTHESIS_PROFILE={name} names no Hypothesis profile: the suite registers {DEFAULT!r} (its draws are "
            "set with --max-examples and --seed)"
        ) from None
