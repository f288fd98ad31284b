"""Only oxen_contract.checking.contracts reads contracts/: two readers could drift into two contracts."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "oxen_contract"
# A path into contracts/ (the directory, a schema file under a directory, the OpenAPI file). Clause ids such as
# "model.schema.json#/required" and document names handed to Contract.documents are not reads.
CONTRACT_FILE = re.compile(r"(^|/)contracts/?$|/[\w.-]+\.schema\.json$|(^|/)openapi\.yaml$")


def _string_literals(tree: ast.AST) -> list[str]:
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_no_module_but_contracts_py_names_a_contract_file() -> None:
    offenders = {
        str(path.relative_to(SRC)): names
        for path in SRC.rglob("*.py")
        if path.name != "contracts.py"
        and (
            names := [
                s for s in _string_literals(ast.parse(path.read_text(encoding="utf-8"))) if CONTRACT_FILE.search(s)
            ]
        )
    }
    assert offenders == {}
