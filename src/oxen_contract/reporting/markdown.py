"""Markdown code spans that hold whatever they are given: a hub's text, an id, a curl line, in prose or a table cell."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["code_span"]


def code_span(value: Any, *, table: bool = False) -> str:
    """``value`` as one code span: fenced by more backticks than it holds, on one line, its pipes escaped in a table."""
    text = str(value).replace("\n", " ")
    if table:
        text = text.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
