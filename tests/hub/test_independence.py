"""The hub is built from its own data model: it never reads the suite's schemas.

If the hub were generated from the same files the suite validates against, a passing suite would prove nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import oxen_contract.hub

HUB_DIR = Path(oxen_contract.hub.__file__).parent
HUB_MODULES = sorted(HUB_DIR.glob("*.py"))
FORBIDDEN_MODULES = ("oxen_contract.contracts", "jsonschema", "referencing")
# Split so that this file itself does not spell the directory name the hub must never mention.
FORBIDDEN_MENTION = "contracts" + "/"


def _imports(tree: ast.AST, module: Path) -> list[str]:
    names: list[str] = []
    package = "oxen_contract.hub"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                # Resolve relative imports: "from .. import contracts" is still the contracts module.
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            names.extend(arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
    return names


def _is_forbidden(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_MODULES)


def test_the_hub_has_modules_to_check() -> None:
    assert {path.name for path in HUB_MODULES} >= {"app.py", "store.py", "catalog.py", "faults.py", "__main__.py"}


@pytest.mark.parametrize("module", HUB_MODULES, ids=lambda path: path.name)
def test_hub_module_imports_neither_the_contracts_nor_a_schema_validator(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    assert [name for name in _imports(tree, module) if _is_forbidden(name)] == []


@pytest.mark.parametrize("module", HUB_MODULES, ids=lambda path: path.name)
def test_hub_module_never_mentions_the_contracts_directory(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    strings = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    assert [text for text in strings if FORBIDDEN_MENTION in text] == []
    # Comments are not in the tree: check the source text too.
    assert FORBIDDEN_MENTION not in module.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "source",
    [
        "import jsonschema",
        "from referencing import Registry",
        "from oxen_contract import contracts",
        "from ..contracts import load",
        "import importlib; importlib.import_module('jsonschema.validators')",
    ],
)
def test_the_import_check_catches_every_spelling(source: str) -> None:
    assert any(_is_forbidden(name) for name in _imports(ast.parse(source), HUB_DIR / "x.py"))
