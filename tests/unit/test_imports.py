"""The package's layers import in one direction, every import goes to where its name lives, and nothing circles back.

The layers, lowest first (a folder imports only folders of lower tiers; folders of one tier never import each other):

    checking                                 the contract, an exchange, the checks, failures, skips
    http, reporting                          how a request leaves; the contract report
    settings                                 the one table, and the run's settings resolved from it
    clients                                  the suite's client, schemathesis's sender, the OpenAI SDK's
    disposables, recording                   the run's own models and the ledger; cassettes
    run                                      the pytest wiring and how a run ends
    plugin, cli, suite, selfcheck, mutants   the entry points, the contract suite, the dev tools

``hub/`` is a program of its own: it imports nothing of the package outside itself, and only what starts a hub
imports it. The package's ``__init__`` (``__version__``) imports nothing and may be imported from anywhere.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import oxen_contract

PACKAGE = Path(oxen_contract.__file__).parent
TIERS = (
    ("checking",),
    ("http", "reporting"),
    ("settings",),
    ("clients",),
    ("disposables", "recording"),
    ("run",),
    ("plugin", "cli", "suite", "selfcheck", "mutants"),
)
# What starts the local hub: the --local-hub fixture, `oxen-local-hub`, the self-check and the mutation runs.
HUB_STARTERS = frozenset({"run", "cli", "selfcheck", "mutants"})
# The one import up the tiers: the verdict counts which of the suite's test files ran, so run_recorder finds the suite's
# folder through its package (an empty __init__); the suite's tests themselves stay above run.
UPWARD = frozenset({("oxen_contract.run.run_recorder", "oxen_contract.suite")})
ENTRY_MODULES = {"__init__.py", "cli.py", "plugin.py", "py.typed"}


def _typing_only(tree: ast.AST) -> set[int]:
    """The nodes that run only for the type checker: they import nothing at run time."""
    return {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for child in ast.walk(node)
    }


def _name(module: Path) -> str:
    return ".".join(module.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")


def _source(node: ast.ImportFrom, importer: Path) -> str:
    """The absolute module an ``import from`` names (relative imports resolved against ``importer``)."""
    if not node.level:
        return node.module or ""
    package = importer.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *(node.module.split(".") if node.module else [])])


def _import_froms(module: Path) -> list[tuple[str, ast.ImportFrom]]:
    """Every run-time ``import from`` of ``module``, at any depth of its code (lazy imports too), with its source."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    skipped = _typing_only(tree)
    return [
        (_source(node, module), node)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and id(node) not in skipped
    ]


def _imports(module: Path) -> set[str]:
    """The package modules ``module`` imports."""
    found: set[str] = set()
    for source, node in _import_froms(module):
        if not source.startswith("oxen_contract"):
            continue
        submodules = {f"{source}.{alias.name}" for alias in node.names if _is_module(f"{source}.{alias.name}")}
        # `from . import hostile` imports the submodule, not the package's __init__ again.
        found |= submodules or ({source} if _is_module(source) else set())
    return found


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


@cache
def _graph() -> dict[str, set[str]]:
    graph = {}
    for module in PACKAGE.rglob("*.py"):
        name = _name(module)
        graph[name] = {target for target in _imports(module) if target != name}
    return graph


def _folder(name: str) -> str:
    """The layer (or entry module, or sub-package) a module belongs to: ``oxen_contract.http.guard`` -> ``http``."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def _tier(folder: str) -> int:
    return next(index for index, tier in enumerate(TIERS) if folder in tier)


def test_the_root_holds_only_the_entry_modules_and_the_layers_are_folders() -> None:
    files = {path.name for path in PACKAGE.iterdir() if path.is_file()}
    folders = {path.name for path in PACKAGE.iterdir() if path.is_dir() and (path / "__init__.py").is_file()}
    assert files == ENTRY_MODULES
    assert folders == {folder for tier in TIERS for folder in tier if folder not in ("plugin", "cli")} | {"hub"}


def test_a_layer_imports_only_layers_below_it() -> None:
    wrong = []
    for importer, targets in _graph().items():
        for target in targets:
            source, destination = _folder(importer), _folder(target)
            if destination in ("", source) or "hub" in (source, destination) or (importer, target) in UPWARD:
                continue
            if _tier(destination) >= _tier(source):
                wrong.append(f"{importer} -> {target}")
    assert wrong == [], "\n".join(sorted(wrong))


def test_the_hub_imports_nothing_of_the_package_and_only_what_starts_a_hub_imports_it() -> None:
    graph = _graph()
    out_of_hub = [
        f"{importer} -> {target}"
        for importer, targets in graph.items()
        if _folder(importer) == "hub"
        for target in targets
        if _folder(target) != "hub"
    ]
    into_hub = [
        f"{importer} -> {target}"
        for importer, targets in graph.items()
        if _folder(importer) not in HUB_STARTERS | {"hub"}
        for target in targets
        if _folder(target) == "hub"
    ]
    assert out_of_hub == []
    assert into_hub == []


def test_the_package_s_own_init_imports_nothing() -> None:
    assert _graph()["oxen_contract"] == set()


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
    assert _graph()["oxen_contract.checking.exchange"] == set()


def _defined(module: Path) -> set[str]:
    """The names ``module`` defines at its top level (not those it imports)."""
    names: set[str] = set()
    body = list(ast.parse(module.read_text(encoding="utf-8")).body)
    while body:
        node = body.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {sub.id for target in targets for sub in ast.walk(target) if isinstance(sub, ast.Name)}
        elif isinstance(node, ast.If | ast.Try):
            body += [
                *node.body,
                *node.orelse,
                *(line for handler in getattr(node, "handlers", ()) for line in handler.body),
            ]
    return names


def _module_file(name: str) -> Path | None:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


def test_every_import_from_the_package_names_the_module_that_defines_the_name() -> None:
    # A package's __init__ states its public API (hub, selfcheck, mutants): importing from it is the point.
    repository = PACKAGE.parents[1]
    files = [*PACKAGE.rglob("*.py"), *(repository / "tests").rglob("*.py"), *(repository / "benchmarks").rglob("*.py")]
    wrong = []
    for path in files:
        for source, node in _import_froms(path) if path.is_relative_to(PACKAGE) else _absolute_froms(path):
            module = _module_file(source) if source.startswith("oxen_contract") else None
            if module is None:
                continue
            defined = _defined(module)
            wrong += [
                f"{path.relative_to(repository)}: {alias.name} from {source}"
                for alias in node.names
                if alias.name != "*" and alias.name not in defined and not _is_module(f"{source}.{alias.name}")
            ]
    assert wrong == [], "\n".join(wrong)


def _absolute_froms(path: Path) -> list[tuple[str, ast.ImportFrom]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.module or "", node) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and not node.level]


def test_no_module_lists_in_its_all_a_name_it_does_not_define() -> None:
    wrong = {}
    for module in PACKAGE.rglob("*.py"):
        if module.name == "__init__.py":
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"))
        exported = [
            element.value
            for node in tree.body
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets)
            for element in getattr(node.value, "elts", [])
            if isinstance(element, ast.Constant)
        ]
        if missing := sorted(set(exported) - _defined(module)):
            wrong[_name(module)] = missing
    assert wrong == {}
