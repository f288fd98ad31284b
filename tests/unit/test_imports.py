"""The package's modules import in one direction: no circle, and the exchange leaf imports nothing of the package."""

from __future__ import annotations

import ast
from pathlib import Path

import oxen_contract

PACKAGE = Path(oxen_contract.__file__).parent


def _imports(module: Path) -> set[str]:
    """The package modules ``module`` imports, at any depth of its code (lazy imports too)."""
    found: set[str] = set()
    package = module.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    tree = ast.parse(module.read_text(encoding="utf-8"))
    # What runs only for the type checker imports nothing at run time.
    typing_only = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for child in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            submodules = {f"{target}.{alias.name}" for alias in node.names} & {
                name for name in (f"{target}.{alias.name}" for alias in node.names) if _is_module(name)
            }
            # `from . import hostile` imports the submodule, not the package's __init__ again.
            found |= submodules or ({target} if _is_module(target) else set())
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("oxen_contract"):
            found.add(node.module)
    return found


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph() -> dict[str, set[str]]:
    graph = {}
    for module in PACKAGE.rglob("*.py"):
        name = ".".join(module.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        graph[name] = {target for target in _imports(module) if target != name}
    return graph


def test_no_module_of_the_package_imports_itself_back_through_others() -> None:
    graph = _graph()
    circles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for target in graph.get(node, ()):
                if target == start:
                    circles.append(" -> ".join([*path, start]))
                elif target not in seen and not target.startswith(f"{start}."):
                    seen.add(target)
                    stack.append((target, [*path, target]))
    # A package's __init__ importing its own submodules is how packages work, not a circle.
    circles = [circle for circle in circles if not _parent_and_child(circle)]
    assert circles == [], "\n".join(sorted(set(circles)))


def _parent_and_child(circle: str) -> bool:
    steps = circle.split(" -> ")
    return all(a.startswith(f"{b}.") or b.startswith(f"{a}.") for a, b in zip(steps, steps[1:], strict=False))


def test_the_exchange_leaf_imports_nothing_of_the_package() -> None:
    assert _graph()["oxen_contract.exchange"] == set()
