"""The hub is built from its own data model: it never reads the suite's schemas.

If the hub were generated from the same files the suite validates against, a passing suite would prove nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import oxen_contract.hub

HUB_DIR = Path(oxen_contract.hub.__file__).parent
# The whole tree, subpackages included: a module moved into one must not escape the checks below.
HUB_MODULES = sorted(HUB_DIR.rglob("*.py"))
FORBIDDEN_MODULES = ("oxen_contract.checking.contracts", "jsonschema", "referencing")
# Split so that this file itself does not spell the directory name the hub must never mention.
FORBIDDEN_MENTION = "contracts" + "/"


def _module_id(path: Path) -> str:
    return path.relative_to(HUB_DIR).as_posix()


def _imports(tree: ast.AST, module: Path) -> list[str]:
    names: list[str] = []
    # The package a relative import starts from: the hub, or the subpackage the module sits in.
    package = ".".join(("oxen_contract", "hub", *module.relative_to(HUB_DIR).parent.parts))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                # Resolve relative imports: "from .. import contracts" is still the contracts module.
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - (node.level - 1)])
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
    modules = {_module_id(path) for path in HUB_MODULES}
    assert modules >= {"app.py", "store.py", "catalog.py", "faults/__init__.py", "faults/_base.py", "__main__.py"}


@pytest.mark.parametrize("module", HUB_MODULES, ids=_module_id)
def test_hub_module_imports_neither_the_contracts_nor_a_schema_validator(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
    assert [name for name in _imports(tree, module) if _is_forbidden(name)] == []


@pytest.mark.parametrize("module", HUB_MODULES, ids=_module_id)
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
        "from oxen_contract.checking import contracts",
        "from ..checking.contracts import load",
        "import importlib; importlib.import_module('jsonschema.validators')",
    ],
)
def test_the_import_check_catches_every_spelling(source: str) -> None:
    assert any(_is_forbidden(name) for name in _imports(ast.parse(source), HUB_DIR / "x.py"))


@pytest.mark.parametrize("source", ["from ...checking.contracts import load", "from ...checking import contracts"])
def test_the_import_check_resolves_relative_imports_from_a_subpackage(source: str) -> None:
    assert any(_is_forbidden(name) for name in _imports(ast.parse(source), HUB_DIR / "faults" / "x.py"))


def test_a_subpackage_imports_hub_modules_relative_to_itself() -> None:
    names = _imports(ast.parse("from ..records import Reply"), HUB_DIR / "faults" / "x.py")
    assert "oxen_contract.hub.records" in names
