"""Hypothesis profiles for the suite, chosen with HYPOTHESIS_PROFILE (default ``replay``)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["load_profile", "register_profiles"]

DEFAULT = "replay"


def register_profiles() -> None:
    # replay: derandomized and without an example database, so that every run sends the same requests as the run
    # that recorded the cassettes.
    settings.register_profile("replay", derandomize=True, database=None, deadline=None)
    # ci: more examples, still reproducible from the printed seed.
    settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("dev", max_examples=20, deadline=None)


def load_profile() -> None:
    """Register the profiles and load the one HYPOTHESIS_PROFILE names (``replay`` by default)."""
    register_profiles()
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", DEFAULT))
