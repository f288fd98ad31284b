"""The fault matrix's session hooks, here so that the xdist controller sees them whatever the command line names.

The controller clears the last outcomes and writes the report, and it loads only the conftests its command line
reaches: ``tests/selfcheck/conftest.py`` for ``pytest tests/selfcheck``, but not for a plain ``pytest`` (``tox``'s check
session, which runs the matrix among the other tests). This file is reached by both. The hooks live in
``tests/selfcheck/session.py``; imported here, they are this conftest's hooks.
"""

from __future__ import annotations

from .selfcheck.session import (  # noqa: F401 (pytest finds hooks by name)
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_terminal_summary,
    pytest_unconfigure,
)
