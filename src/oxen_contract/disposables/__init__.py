"""The models a run makes and deletes.

The one rule of which ids are the run's (``provenance.py``), deploying, reconciling and cleaning up
(``provisioning.py``), and the ledger that carries what a run deployed to the next run (``ledger.py``).
"""
