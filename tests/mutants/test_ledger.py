"""The survivors ledgers (contracts/MUTANTS.md, MUTANTS-safety.md): their form, and the last run of each target.

The mutation runs take minutes (``tox -e mutants``, ``tox -e mutants-safety``), so these tests only read what they left
(``reports/mutants.json``, ``reports/mutants-safety.json``): without a report, the tests of that run skip, and the
ledger's form is still checked. The hub's survivors carry what the differential probe saw them answer differently:
a survivor filed as equivalent must show no difference, one allowed by a clause only differences its group allows.
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
SOURCES = ROOT / "contracts" / "SOURCES.md"
# target -> (its ledger, its last run's report)
TARGETS = {
    "hub": (ROOT / "contracts" / "MUTANTS.md", ROOT / "reports" / "mutants.json"),
    "safety": (ROOT / "contracts" / "MUTANTS-safety.md", ROOT / "reports" / "mutants-safety.json"),
}
# The bars: of the reached mutants neither probe-equivalent nor allowed by a named clause, the share a run must kill.
KILL_RATES = {"hub": 0.95, "safety": 0.90}
# The rules a safety gap names: provenance.py's numbered rules, and its reconciliation rule.
SAFETY_RULES = re.compile(r"provenance rule [1-4]|the reconciliation rule|the ledger rule")


@dataclass(frozen=True)
class _Survivor:
    id: str
    key: str
    function: str
    change: str
    kind: str = "code"
    differences: tuple[str, ...] | None = None

    @property
    def described(self) -> str:
        return f"{self.kind}: {self.change}"


def _report(target: str) -> dict[str, Any]:
    path = TARGETS[target][1]
    if not path.is_file():
        command = "tox -e mutants" if target == "hub" else "tox -e mutants-safety"
        pytest.skip(f"no mutation run of the {target} here: `{command}` writes {path.relative_to(ROOT)}")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def _survivors(target: str) -> list[_Survivor]:
    return [
        _Survivor(
            m["id"],
            m["key"],
            m["function"],
            m["change"],
            m["kind"],
            tuple(m["differences"]) if m.get("differences") is not None else None,
        )
        for m in _report(target)["mutants"]
        if m["outcome"] == "survived"
    ]


@pytest.fixture(scope="module", params=list(TARGETS))
def target(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def ledger(target: str) -> Ledger:
    return read_ledger(TARGETS[target][0])


@pytest.fixture(scope="module")
def survivors(target: str) -> list[_Survivor]:
    return _survivors(target)


def _named(keys: object, survivors: list[_Survivor]) -> str:
    by_key = {survivor.key: survivor for survivor in survivors}
    return "\n".join(f"  {key} ({by_key[key].id}): {by_key[key].change}" for key in keys)  # type: ignore[attr-defined]


def _rows() -> set[str]:
    return set(re.findall(r"^\| `([^`]+)` \|", SOURCES.read_text("utf-8"), flags=re.MULTILINE))


def _clauses(text: str) -> set[str]:
    return {clause for clause in re.findall(r"`([^`]+)`", text) if clause.startswith("rule:") or "#/" in clause}


# The ledgers themselves -----------------------------------------------------------------------------------------------


def test_the_ledger_is_well_formed(ledger: Ledger) -> None:
    assert not ledger.problems, "\n".join(ledger.problems)


def test_every_clause_an_allowed_group_cites_is_a_row_of_sources_md(ledger: Ledger, target: str) -> None:
    cited = {clause for entry in ledger.allowed for clause in _clauses(entry.source)}
    if target == "hub":
        assert cited, "no allowed group cites a SOURCES.md row"
    assert cited <= _rows(), f"cited but not rows of contracts/SOURCES.md: {sorted(cited - _rows())}"


def test_every_group_of_the_hub_ledger_says_how_its_mutants_may_answer_differently() -> None:
    unsaid = sorted({e.group for e in read_ledger(TARGETS["hub"][0]).allowed if e.differs is None})
    assert not unsaid, f"groups without a 'Differs:' line (`regex`, ... or nothing): {unsaid}"


def test_every_hub_group_that_allows_a_difference_names_the_clause_that_allows_it() -> None:
    # "Allowed by the docs" is a claim; its evidence is a row of SOURCES.md whose rule leaves the difference free.
    bare = sorted({e.group for e in read_ledger(TARGETS["hub"][0]).allowed if e.differs and not _clauses(e.source)})
    assert not bare, f"groups allowing differences without naming a SOURCES.md row: {bare}"


def test_every_gap_names_the_clause_it_breaks(ledger: Ledger, target: str) -> None:
    if target == "hub":
        bare = [f"{gap.where} {gap.selector}" for gap in ledger.gaps if not _clauses(gap.note) & _rows()]
    else:
        bare = [f"{gap.where} {gap.selector}" for gap in ledger.gaps if not SAFETY_RULES.search(gap.note)]
    assert not bare, "gaps that name no clause they break:\n" + "\n".join(bare)


# The last run, held to the ledger -------------------------------------------------------------------------------------


def test_every_survivor_of_the_last_run_is_in_the_ledger(ledger: Ledger, survivors: list[_Survivor]) -> None:
    accounting = account(ledger, survivors, probed=False)
    assert not accounting.unaccounted, (
        f"{len(accounting.unaccounted)} surviving mutant(s) in neither list of the ledger (allow it, naming the "
        f"source, or list it as a gap):\n{_named(accounting.unaccounted, survivors)}"
    )


def test_no_survivor_is_both_allowed_and_a_gap(ledger: Ledger, survivors: list[_Survivor]) -> None:
    accounting = account(ledger, survivors, probed=False)
    assert not accounting.ambiguous, (
        f"claimed by a gap and an allowed entry:\n{_named(accounting.ambiguous, survivors)}"
    )


def test_every_gap_of_the_ledger_still_survives(ledger: Ledger, survivors: list[_Survivor]) -> None:
    closed = account(ledger, survivors, probed=False).closed_gaps
    assert not closed, "gaps that no longer survive: remove them from the ledger\n" + "\n".join(
        f"  {entry.where}: {entry.selector} {entry.note}" for entry in closed
    )


def test_every_survivor_of_the_hub_was_played_the_probe() -> None:
    unprobed = [s.key for s in _survivors("hub") if s.differences is None]
    assert not unprobed, f"survivors without the probe's differences: {unprobed[:10]}"


def test_every_hub_survivor_filed_as_equivalent_shows_no_difference_in_the_probe() -> None:
    survivors = _survivors("hub")
    accounting = account(read_ledger(TARGETS["hub"][0]), survivors)
    wrong = {k: why for k, why in accounting.misfiled.items() if accounting.allowed[k].equivalent}
    assert not wrong, "filed as equivalent, but the probe shows a difference:\n" + "\n".join(
        f"  {key} ({accounting.allowed[key].where}): {why}" for key, why in wrong.items()
    )


def test_every_hub_survivor_allowed_by_a_clause_differs_only_where_its_group_allows() -> None:
    survivors = _survivors("hub")
    accounting = account(read_ledger(TARGETS["hub"][0]), survivors)
    wrong = {k: why for k, why in accounting.misfiled.items() if not accounting.allowed[k].equivalent}
    assert not wrong, "allowed by a group whose clause does not allow what the probe shows:\n" + "\n".join(
        f"  {key} ({accounting.allowed[key].group}): {why}" for key, why in wrong.items()
    )


def test_the_last_run_kills_enough_of_the_mutants_neither_equivalent_nor_allowed(target: str) -> None:
    figures = _report(target)["figures"]
    rate = figures["kill_rate_not_allowed"]
    assert rate is not None and rate >= KILL_RATES[target], (
        f"{target}: killed {figures['killed']} of {figures['must_kill']} ({rate}), the bar is {KILL_RATES[target]}"
    )


# How the ledger reads and matches ------------------------------------------------------------------------------------

_SAMPLE = """
## Allowed by the docs

### error wording

Source: `error.schema.json#/$defs/typedError/properties/error/properties/detail/type` (any string)

Differs: ` body/error/detail: "[^"]*" -> "[^"]*"$`

- `app._invalid` `^string:` the detail's text

### the fault seam

Source: none needed.

Differs: nothing

- `app._Hub._applying`

## Gaps

- `app._Hub._set_active:0123abcd` activate and deactivate swapped
"""


def _survivor(key: str, function: str, change: str, differences: tuple[str, ...] | None = None) -> _Survivor:
    return _Survivor(f"id-of-{key}", key, function, change, kind_of(change), differences)


def test_an_allowed_entry_matches_its_function_and_change() -> None:
    ledger = parse_ledger(_SAMPLE)
    wording = _survivor(
        "app._invalid:00000001", "app._invalid", 'return ApiError(400, "a") => return ApiError(400, "XXaXX")'
    )
    status = _survivor("app._invalid:00000002", "app._invalid", "return ApiError(400, d) => return ApiError(401, d)")
    accounting = account(ledger, [wording, status])
    assert accounting.allowed["app._invalid:00000001"].group == "error wording"
    assert accounting.unaccounted == ("app._invalid:00000002",)


def test_a_survivor_the_probe_shows_differing_only_where_its_group_allows_is_allowed_by_the_clause() -> None:
    wording = _survivor(
        "app._invalid:00000001",
        "app._invalid",
        'return ApiError(400, "a") => return ApiError(400, "XXaXX")',
        ('search-missing body/error/detail: "a" -> "XXaXX"',),
    )
    accounting = account(parse_ledger(_SAMPLE), [wording])
    assert accounting.allowed_by_clause == ("app._invalid:00000001",) and not accounting.misfiled


def test_a_survivor_whose_difference_its_group_does_not_allow_is_misfiled() -> None:
    status = _survivor(
        "app._invalid:00000003",
        "app._invalid",
        'return ApiError(400, "a") => return ApiError(400, "XXaXX")',
        ("search-missing status: 400 -> 500",),
    )
    accounting = account(parse_ledger(_SAMPLE), [status])
    assert accounting.misfiled == {"app._invalid:00000003": "search-missing status: 400 -> 500"}
    assert not accounting.allowed_by_clause and not accounting.equivalent


def test_a_survivor_filed_as_equivalent_is_equivalent_only_when_the_probe_shows_no_difference() -> None:
    quiet = _survivor("app._Hub._applying:00000004", "app._Hub._applying", "a => b", ())
    loud = _survivor("app._Hub._applying:00000005", "app._Hub._applying", "a => c", ("list status: 200 -> 500",))
    unprobed = _survivor("app._Hub._applying:00000006", "app._Hub._applying", "a => d", None)
    accounting = account(parse_ledger(_SAMPLE), [quiet, loud, unprobed])
    assert accounting.equivalent == ("app._Hub._applying:00000004",)
    assert set(accounting.misfiled) == {"app._Hub._applying:00000005"}
    assert accounting.unprobed == ("app._Hub._applying:00000006",)


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
        ("## Allowed by the docs\n### w\nSource: s\nDiffers: anything\n- `app.f`\n", "'Differs:' is followed by"),
        ("## Allowed by the docs\n### w\nSource: s\nDiffers: `(`\n- `app.f`\n", "invalid regular expression"),
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
