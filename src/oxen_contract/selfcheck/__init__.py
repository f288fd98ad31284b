"""The self-check: proof that the contract suite catches every fault of the local hub and no benign variant.

``python -m oxen_contract.selfcheck`` runs the whole matrix and writes the mutation report; ``tests/selfcheck`` runs
the same rows as one pytest test each. ``EXPECTED_CLAUSES`` maps each fault to the clause ids the suite must name.
"""

from __future__ import annotations

from .expected import EXPECTED_CLAUSES
from .rows import NO_FAULT, Outcome
from .runner import run_case

__all__ = ["EXPECTED_CLAUSES", "NO_FAULT", "Outcome", "run_case"]
