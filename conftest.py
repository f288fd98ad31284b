"""Hypothesis profiles, chosen with HYPOTHESIS_PROFILE; nothing else belongs here."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# replay: derandomized and without an example database, so that every run sends the same
# requests as the run that recorded the cassettes.
settings.register_profile("replay", derandomize=True, database=None, deadline=None)
# ci: more examples, still reproducible from the printed seed.
settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=20, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "replay"))
