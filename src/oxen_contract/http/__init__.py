"""How a request leaves the process, and how long a run waits for a busy hub; imports only ``checking``.

The key and its one redactor (``redaction.py``), what may leave (``guard.py``), the deadline of a whole exchange
(``deadline.py``), the transports every client is built on (``transport.py``: guard, deadline, size cap, redaction, no
redirect), retries, the request budget and the run's pace (``retries.py``), and independent reads side by side
(``fanout.py``).
"""
