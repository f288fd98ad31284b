"""The self-check: proof that the contract suite catches every fault of the local hub and no benign variant.

``python -m oxen_contract.selfcheck`` runs the whole matrix and writes the mutation report; ``tests/selfcheck`` runs
the same rows as one pytest test each. ``EXPECTED_CLAUSES`` maps each fault to the clause ids the suite must name;
``VERDICT_CASES`` lists the runs that must end with a given exit status and summary line (issue 19).
"""

from __future__ import annotations

from .expected import EXPECTED_CLAUSES
from .matrix import run_row
from .rows import NO_FAULT, Outcome
from .runner import run_case
from .verdicts import VERDICT_CASES

__all__ = ["EXPECTED_CLAUSES", "NO_FAULT", "VERDICT_CASES", "Outcome", "run_case", "run_row"]
