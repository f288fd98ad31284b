"""What a check is made of, and what it says; the lowest layer, which imports nothing else of the package.

The contract (``contracts.py``, the only reader of ``contracts/``), one request and its answer (``exchange.py``), the
suite's own checks (``checks.py``), the suite's one error base and findings as data (``failures.py``), the failure a
broken clause raises (``contract_failure.py``) and its one renderer (``text.py``), what a run saw (``tally.py``), the
suite's own skips (``skips.py``), and the examples the sources print (``documented.py``).
"""
