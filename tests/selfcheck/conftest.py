"""Fixtures of the fault matrix; its session hooks are in ``session.py`` (``tests/conftest.py`` holds them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .session import outcomes_folder


@pytest.fixture
def outcomes_dir(request: pytest.FixtureRequest) -> Path:
    """Where each matrix row leaves its outcome (JSON) for the report the controller writes at the end."""
    return outcomes_folder(request.config)
