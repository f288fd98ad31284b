"""Tests of the local reference hub (a package, so that its module names cannot clash with other test areas)."""
