"""Cassettes: what a run sent and was answered, recorded and replayed.

Recording and replaying, every spelling of a key scrubbed (``cassettes.py``), and a damaged cassette told apart from
what a hub answered (``cassette_damage.py``).
"""
