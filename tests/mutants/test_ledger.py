"""The survivors ledger (contracts/MUTANTS.md): its own form, and the last mutation run (reports/mutants.json).

The mutation run takes many minutes (``tox -e mutants``), so these tests only read what it left: without a report
here, the tests of the run skip, and the ledger's form is still checked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from oxen_contract.mutants import Ledger, account, parse_ledger, read_ledger, read_mutants
from oxen_contract.mutants.results import kind_of

ROOT = Path(__file__).resolve().parents[2]
LEDGER = ROOT / "contracts" / "MUTANTS.md"
REPORT = ROOT / "reports" / "mutants.json"
SOURCES = ROOT / "contracts" / "SOURCES.md"


@dataclass(frozen=True)
class _Survivor:
    id: str
    key: str
    function: str
    change: str
    kind: str = "code"

    @property
    def described(self) -> str:
        return f"{self.kind}: {self.change}"


@pytest.fixture(scope="module")
def ledger() -> Ledger:
    return read_ledger(LEDGER)


@pytest.fixture(scope="module")
def survivors() -> list[_Survivor]:
    if not REPORT.is_file():
        pytest.skip("no mutation run here: `tox -e mutants` writes reports/mutants.json (it takes many minutes)")
    data: dict[str, Any] = json.loads(REPORT.read_text("utf-8"))
    return [
        _Survivor(m["id"], m["key"], m["function"], m["change"], m["kind"])
        for m in data["mutants"]
        if m["outcome"] == "survived"
    ]


def _named(keys: object, survivors: list[_Survivor]) -> str:
    by_key = {survivor.key: survivor for survivor in survivors}
    return "\n".join(f"  {key} ({by_key[key].id}): {by_key[key].change}" for key in keys)  # type: ignore[attr-defined]


# The ledger itself ----------------------------------------------------------------------------------------------------


def test_the_ledger_is_well_formed(ledger: Ledger) -> None:
    assert not ledger.problems, "contracts/MUTANTS.md:\n" + "\n".join(ledger.problems)


def test_every_clause_an_allowed_group_cites_is_a_row_of_sources_md(ledger: Ledger) -> None:
    rows = set(re.findall(r"^\| `([^`]+)` \|", SOURCES.read_text("utf-8"), flags=re.MULTILINE))
    cited = {
        clause
        for entry in ledger.allowed
        for clause in re.findall(r"`([^`]+)`", entry.source)
        if clause.startswith("rule:") or "#/" in clause
    }
    assert cited, "no allowed group cites a SOURCES.md row"
    assert cited <= rows, f"cited but not rows of contracts/SOURCES.md: {sorted(cited - rows)}"


# The last run, held to the ledger -------------------------------------------------------------------------------------


def test_every_survivor_of_the_last_run_is_in_the_ledger(ledger: Ledger, survivors: list[_Survivor]) -> None:
    accounting = account(ledger, survivors)
    assert not accounting.unaccounted, (
        f"{len(accounting.unaccounted)} surviving mutant(s) in neither list of contracts/MUTANTS.md (allow it, "
        f"naming the source, or list it as a gap):\n{_named(accounting.unaccounted, survivors)}"
    )


def test_no_survivor_is_both_allowed_and_a_gap(ledger: Ledger, survivors: list[_Survivor]) -> None:
    accounting = account(ledger, survivors)
    assert not accounting.ambiguous, (
        f"claimed by a gap and an allowed entry:\n{_named(accounting.ambiguous, survivors)}"
    )


def test_every_gap_of_the_ledger_still_survives(ledger: Ledger, survivors: list[_Survivor]) -> None:
    closed = account(ledger, survivors).closed_gaps
    assert not closed, "gaps that no longer survive: remove them from contracts/MUTANTS.md\n" + "\n".join(
        f"  {entry.where}: {entry.selector} {entry.note}" for entry in closed
    )


# How the ledger reads and matches ------------------------------------------------------------------------------------

_SAMPLE = """
## Allowed by the docs

### error wording

Source: `error.schema.json#/$defs/typedError/properties/error/properties/detail/type` (any string)

- `app._invalid` `^string:` the detail's text

## Gaps

- `app._Hub._set_active:0123abcd` activate and deactivate swapped
"""


def _survivor(key: str, function: str, change: str) -> _Survivor:
    return _Survivor(f"id-of-{key}", key, function, change, kind_of(change))


def test_an_allowed_entry_matches_its_function_and_change() -> None:
    ledger = parse_ledger(_SAMPLE)
    wording = _survivor(
        "app._invalid:00000001", "app._invalid", 'return ApiError(400, "a") => return ApiError(400, "XXaXX")'
    )
    status = _survivor("app._invalid:00000002", "app._invalid", "return ApiError(400, d) => return ApiError(401, d)")
    accounting = account(ledger, [wording, status])
    assert accounting.allowed["app._invalid:00000001"].group == "error wording"
    assert accounting.unaccounted == ("app._invalid:00000002",)


def test_a_gap_names_one_mutant_by_its_key() -> None:
    accounting = account(
        parse_ledger(_SAMPLE), [_survivor("app._Hub._set_active:0123abcd", "app._Hub._set_active", "x")]
    )
    assert list(accounting.gaps) == ["app._Hub._set_active:0123abcd"]
    assert not accounting.unaccounted and not accounting.closed_gaps


def test_a_gap_whose_mutant_no_longer_survives_is_reported_closed() -> None:
    accounting = account(parse_ledger(_SAMPLE), [])
    assert [entry.selector for entry in accounting.closed_gaps] == ["app._Hub._set_active:0123abcd"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("## Allowed by the docs\n### wording\n- `app._invalid`\n", "names no source"),
        ("## Allowed by the docs\n### wording\nSource: silence\n", "lists no mutant"),
        ("## Allowed by the docs\n- `app._invalid`\n", "outside a ### reason group"),
        ("## Allowed by the docs\n### w\nSource: s\n- `app.f` `(`\n", "invalid regular expression"),
        ("## Gaps\n- `app._Hub._set_active:0123abcd`\n", "does not say what is wrong"),
        ("## Gaps\n- `app._Hub.*` swapped\n", "names one mutant by its key"),
        ("## Gaps\n- `app.f:0123abcd` wrong\n- `app.f:0123abcd` again\n", "listed twice"),
    ],
)
def test_a_malformed_ledger_names_its_problem(text: str, problem: str) -> None:
    problems = parse_ledger(text).problems
    assert any(problem in found for found in problems), problems


# Stable keys ----------------------------------------------------------------------------------------------------------


def _fake_run(work: Path, source: str, mutated: str, spans: dict[str, list[int]], exit_codes: dict[str, int]) -> None:
    hub = work / "src" / "oxen_contract" / "hub"
    hub.mkdir(parents=True)
    (hub / "routing.py").write_text(source)
    copy = work / "mutants" / "src" / "oxen_contract" / "hub"
    copy.mkdir(parents=True)
    (copy / "routing.py").write_text(mutated)
    (copy / "routing.py.spans").write_text(json.dumps({"version": 1, "spans": spans}))
    meta = {"exit_code_by_key": exit_codes, "durations_by_key": {}, "estimated_durations_by_key": {}}
    (copy / "routing.py.meta").write_text(json.dumps(meta))


def _one_mutant(work: Path, padding: int, number: int) -> Any:
    source = "\n" * padding + "def f(a):\n    b = a + 1\n    return b\n"
    mutated = (
        "def x_f__mutmut_orig(a):\n    b = a + 1\n    return b\n"
        f"def x_f__mutmut_{number}(a):\n    b = a - 1\n    return b\n"
    )
    spans = {"x_f__mutmut_orig": [1, 3], f"x_f__mutmut_{number}": [4, 6]}
    _fake_run(work, source, mutated, spans, {f"oxen_contract.hub.routing.x_f__mutmut_{number}": 0})
    return read_mutants(work)[0]


def test_a_mutants_key_does_not_depend_on_where_its_function_is_or_on_mutmuts_number(tmp_path: Path) -> None:
    here = _one_mutant(tmp_path / "here", padding=0, number=1)
    there = _one_mutant(tmp_path / "there", padding=40, number=7)
    assert here.function == "routing.f" and here.outcome == "survived"
    assert here.change == "b = a + 1 => b = a - 1" and here.kind == "code"
    assert here.key == there.key and here.id != there.id
    assert (here.lines, there.lines) == ((2,), (42,))


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ('raise E("no") => raise E("XXnoXX")', "string"),
        ('f"{a}-{b}" => f"{a}+{b}"', "string"),
        ("x = 30.0 => x = 31.0", "number"),
        ("x = a + 1 => x = a - 1", "code"),
        ('E(404, "a") => E("a")', "code"),
    ],
)
def test_a_change_is_told_by_what_it_touches(change: str, kind: str) -> None:
    assert kind_of(change) == kind
