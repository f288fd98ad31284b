"""Mutation testing of the contract suite: mutmut over the local hub's answer-making modules (issue 13).

The self-check's faults were written by the same hands as the checks that catch them; a mutation tool makes faults
nobody chose. ``python -m oxen_contract.mutants`` (``tox -e mutants``) runs mutmut with the contract suite, live
against the in-process local hub, as the test (``run.py``), reads each mutant's outcome back (``results.py``), and
writes ``reports/mutants.md`` and ``.json`` (``report.py``). ``contracts/MUTANTS.md`` accounts for every survivor:
allowed by the docs, or a gap (``ledger.py``); ``tests/mutants/test_ledger.py`` holds the last run to it.
"""

from __future__ import annotations

from .ledger import Accounting, Ledger, account, parse_ledger, read_ledger
from .results import Mutant, read_mutants

__all__ = ["Accounting", "Ledger", "Mutant", "account", "parse_ledger", "read_ledger", "read_mutants"]
