"""The pytest wiring and how a run ends.

Setting a session up and putting it back (``activation.py``), the fixtures (``fixtures.py``), the run's one session
object under one stash key, which gathers the verdict's facts from every test report and gives the verdict
(``session.py``), how a failure is sorted (``outcome.py``), and the verdict with its exit status (``verdict.py``).
"""
