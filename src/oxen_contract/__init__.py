"""Contract-testing suite for the Oxen.ai hub models API.

PYTEST_DONT_REWRITE: the ``oxen-contract`` console script imports this package (to reach ``cli.main``) before it
starts pytest, and pytest marks the packages of every ``pytest11`` entry point for assertion rewriting as it starts.
Finding this one imported already, it warned "Module already imported so cannot be rewritten: oxen_contract" on every
installed run (an error under ``-W error``). This module holds no assertion to rewrite, and the marker tells pytest so;
the plugin's own modules are imported after pytest starts, and rewritten as before.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
