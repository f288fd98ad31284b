"""What the project's ``python -m`` commands share on their command line: one-line errors, counts of at least 1."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

__all__ = ["OneLineErrorParser", "positive_count"]


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
