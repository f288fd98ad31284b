"""Hypothesis profiles for every test of the repository, and the fault matrix's session hooks.

The suite's plugin loads the same profiles for itself. The matrix's hooks are registered here because the xdist
controller, which clears the last outcomes and writes the report, loads only the conftests its command line reaches.
"""

from __future__ import annotations

from oxen_contract.profiles import load_profile

pytest_plugins = ("tests.selfcheck.session",)

load_profile()
