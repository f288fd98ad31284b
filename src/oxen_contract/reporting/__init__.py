"""The contract report: what a run published.

One model of a run and its JSON (``report.py``), its Markdown and HTML renderings from ``templates/``
(``html_report.py``), and how it compares with a baseline and earlier reports (``baseline.py``).
"""
