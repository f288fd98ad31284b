"""pyproject.toml declares what the code imports, and the lock CI installs from agrees with it.

CI and tox install from ``requirements/ci.txt`` (every package of the ``[dev]`` environment, pinned), so a requirement
added to pyproject.toml without ``tox -e lock`` would go untested at the version a user gets, and a floor raised past
the lock would make every CI install fail. An import of a package that no requirement names works here, where
``[dev]`` brings everything, and fails for a user who installed less: each module is held to what its install declares.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from .conftest import ROOT

PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements" / "ci.txt"
PACKAGE = ROOT / "src" / "oxen_contract"
PROJECT = canonicalize_name("oxen-contract")

# Which requirements each part of the package may import from: the run-time core (the suite included) from [project]
# dependencies, the local hub and the self-check (which starts it) with [hub] as well, the OpenAI comparison with
# [openai] (its suite module skips without it). Keys are paths under src/oxen_contract; the longest match wins.
EXTRAS_BY_PATH = {
    "hub/": ("hub",),
    "selfcheck/": ("hub",),
    "clients/openai_compat.py": ("openai",),
    "suite/test_openai_compat.py": ("openai",),
}


def _project() -> dict[str, object]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert isinstance(project, dict)
    return project


def _requirements(*groups: str) -> list[Requirement]:
    """The runtime requirements, then those of each optional group named (the project's own extras left out)."""
    project = _project()
    optional = project.get("optional-dependencies", {})
    assert isinstance(optional, dict)
    lines = list(project["dependencies"])  # type: ignore[call-overload]
    for group in groups:
        lines += optional[group]
    return [req for req in map(Requirement, lines) if canonicalize_name(req.name) != PROJECT]


def _all_groups() -> tuple[str, ...]:
    optional = _project().get("optional-dependencies", {})
    assert isinstance(optional, dict)
    return tuple(optional)


def _pins() -> dict[NormalizedName, Requirement]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = requirement
    return pins


def _pinned_version(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    return specifier.version


def _third_party_imports(path: Path) -> set[str]:
    """Top-level names of the modules a file imports, the standard library's and the package's own left out."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names and name != "oxen_contract"}


def _part(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0]


def _extras(path: Path) -> tuple[str, ...]:
    relative = path.relative_to(PACKAGE).as_posix()
    matches = [prefix for prefix in EXTRAS_BY_PATH if relative.startswith(prefix)]
    return EXTRAS_BY_PATH[max(matches, key=len)] if matches else ()


def test_every_declared_requirement_is_pinned_in_the_lock_within_its_specifier() -> None:
    pins = _pins()
    missing = [str(req) for req in _requirements(*_all_groups()) if canonicalize_name(req.name) not in pins]
    assert not missing, f"requirements/ci.txt pins none of {missing}: run `tox -e lock`"
    outside = [
        f"{req} (locked {_pinned_version(pins[canonicalize_name(req.name)])})"
        for req in _requirements(*_all_groups())
        if not req.specifier.contains(_pinned_version(pins[canonicalize_name(req.name)]), prereleases=True)
    ]
    assert not outside, f"requirements/ci.txt pins versions pyproject.toml excludes: {outside}: run `tox -e lock`"


def test_the_lock_pins_each_package_to_one_version_and_leaves_the_project_out() -> None:
    pins = _pins()
    assert len(pins) > 20, "requirements/ci.txt pins almost nothing: it is the whole [dev] environment"
    loose = [str(req) for req in pins.values() if len(req.specifier) != 1 or next(iter(req.specifier)).operator != "=="]
    assert not loose, f"requirements/ci.txt must pin with == only: {loose}"
    assert PROJECT not in pins, "requirements/ci.txt pins oxen-contract itself: pip would refuse the editable install"


def test_every_requirement_has_a_floor_and_the_breaking_majors_are_capped() -> None:
    requirements = _requirements(*_all_groups())
    floorless = [str(req) for req in requirements if not any(spec.operator == ">=" for spec in req.specifier)]
    assert not floorless, f"requirements without a tested floor (tox -e lowest): {floorless}"
    caps = {canonicalize_name(req.name): req.specifier for req in requirements}
    # schemathesis 5 may change the check and hook API the suite is built on; pytest 9.2 removed Item._nodeid.
    assert not caps["schemathesis"].contains("5.0"), f"schemathesis{caps['schemathesis']} lets schemathesis 5 in"
    assert not caps["pytest"].contains("9.2.0"), f"pytest{caps['pytest']} lets pytest 9.2 in"


@pytest.mark.parametrize(
    "part", sorted({_part(path) for path in PACKAGE.rglob("*.py")}), ids=lambda part: part.removesuffix(".py")
)
def test_each_module_imports_only_packages_its_install_declares(part: str) -> None:
    mapping = packages_distributions()
    undeclared = {}
    for path in sorted(PACKAGE.joinpath(part).rglob("*.py") if PACKAGE.joinpath(part).is_dir() else [PACKAGE / part]):
        declared = {canonicalize_name(req.name) for req in _requirements(*_extras(path))}
        for name in _third_party_imports(path):
            distributions = {canonicalize_name(dist) for dist in mapping.get(name, [name])}
            if not distributions & declared:
                undeclared[f"{path.relative_to(ROOT)}: {name}"] = sorted(distributions)
    assert not undeclared, f"imports of packages pyproject.toml does not declare for this part: {undeclared}"
