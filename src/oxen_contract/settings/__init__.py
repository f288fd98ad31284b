"""The run's settings: one table, and one ``RunConfig`` resolved from it.

The table of every setting (``table.py``: option, environment, ini key, default, help) drives the options and ini keys
(``options.py``), the CLI's help and the README's option table; ``config.py`` applies the precedence and turns bad
input into usage errors. Also the Hypothesis profiles (``profiles.py``) and the one-line argument errors of the
``python -m`` tools (``argparsing.py``).
"""
