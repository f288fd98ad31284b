"""The pytest wiring and how a run ends.

Setting a session up (``activation.py``), the fixtures (``fixtures.py``), the run's state in pytest's stash
(``stash_keys.py``), the verdict's facts gathered from every test report (``run_recorder.py``), how a failure is sorted
(``outcome.py``), and the verdict with its exit status (``verdict.py``).
"""
