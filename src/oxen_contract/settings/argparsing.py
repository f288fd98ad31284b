"""What the project's ``python -m`` tools share: one-line argument errors, the checkout they drive, their output.

The self-check and the mutation runs drive a checkout (tests/contract, pyproject.toml) and say each step as it happens.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

__all__ = ["OneLineErrorParser", "find_checkout", "positive_count", "say"]


class OneLineErrorParser(argparse.ArgumentParser):
    """Errors as one line and exit status 2, no usage block: what a CI log or a parent process shows as is."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def positive_count(what: str) -> Callable[[str], int]:
    """An argparse ``type`` for a count of ``what`` (e.g. "job") that must be a positive integer."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(f"invalid {what} count {text!r}: expected a positive integer")
        return value

    return parse


def find_checkout(start: Path | None = None) -> Path:
    """The checkout holding ``tests/contract``: from ``start`` (default: the cwd) upwards, else beside the source."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents, Path(__file__).resolve().parents[3]):
        if (candidate / "tests" / "contract").is_dir() and (candidate / "pyproject.toml").is_file():
            return candidate
    raise FileNotFoundError("pyproject.toml and tests/contract not found: run from a checkout of the project")


def say(text: str) -> None:
    """One line on stdout at once, for whoever watches a run of minutes."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
