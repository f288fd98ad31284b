"""Every function of the package, the local hub's included, reads on one screen: at most 60 lines, decorators aside."""

from __future__ import annotations

import ast
from pathlib import Path

import oxen_contract

PACKAGE = Path(oxen_contract.__file__).parent
MAX_LINES = 60


def test_no_function_of_the_package_is_longer_than_sixty_lines() -> None:
    long = []
    for module in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_LINES:
                    long.append(f"{module.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}: {lines} lines")
    assert long == [], "\n".join(long)
