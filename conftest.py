"""Hypothesis profiles for every test of the repository (the suite's plugin loads the same ones for itself)."""

from __future__ import annotations

from oxen_contract.settings.profiles import load_profile

load_profile()
