"""The survivors ledger, ``contracts/MUTANTS.md``: why each mutant the contract suite lets live is allowed, or a gap.

A mutant that survives is a hub the suite passes. Either the docs allow that hub (the mutant changes only what no
source pins down: error wording, an optional nested field, the order of a list...), or the suite has a gap. The ledger
says which, for every survivor, so that a new survivor cannot pass unnoticed. Its form, in Markdown::

    ## Allowed by the docs

    ### <reason>

    Source: <the SOURCES.md row that allows it, or "none needed" for an equivalent group>

    Differs: ` body/error/detail: ` (or: Differs: nothing)

    - `app._invalid` `^string:` what this entry covers
    - `records.Pricing.to_json`

    ## Gaps

    - `app._Hub._set_active:1a2b3c4d` (mutmut id) activate and deactivate swapped: `rule:activate-activates`

An allowed entry is a function (a glob on ``module.Class.function``) and, optionally, a regular expression searched in
the mutant's change, ``<kind>: <old line> => <new line>``, where the kind is ``string`` or ``number`` when only
literals of that kind changed, else ``code``. A gap names exactly one mutant by its stable key (``results.py``),
then says what is wrong with that hub, naming the clause it breaks.

Every group says how its mutants may answer differently from the clean hub, as the differential probe (``probe.py``)
shows it: ``Differs: nothing`` makes it a group of *equivalent* mutants, which the probe must find no difference in;
otherwise each line of a member's differences (``<step> <where>: <clean> -> <mutant>``) must match one of the group's
regular expressions, which say what the clause its source names leaves free. ``account`` holds every survivor to its
group's line when the run probed it (``misfiled``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

__all__ = ["Accounting", "Entry", "Ledger", "account", "parse_ledger", "read_ledger"]

ALLOWED = "allowed"
GAP = "gap"
_ALLOWED_HEADING = "## allowed by the docs"
_GAPS_HEADING = "## gaps"
_SOURCE = "Source:"
_DIFFERS = "Differs:"
_NOTHING = "nothing"
_BULLET = re.compile(r"^- `(?P<selector>[^`]+)`(?: `(?P<pattern>[^`]+)`)?(?P<note>.*)$")
_KEY = re.compile(r"^[\w.]+:[0-9a-f]{8}(?:#\d+)?$")


class Survivor(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def function(self) -> str: ...

    @property
    def described(self) -> str: ...

    @property
    def differences(self) -> tuple[str, ...] | None:
        """What the differential probe found this mutant answer differently (None: not probed)."""
        ...


@dataclass(frozen=True, slots=True)
class Entry:
    kind: str
    group: str
    source: str
    selector: str
    pattern: str | None
    note: str
    line: int
    # The group's "Differs:" line: the patterns a member's probe differences must match; () for "nothing"; None when
    # the group has no such line (a ledger of code the probe does not reach: the safety target's).
    differs: tuple[str, ...] | None = None

    @property
    def equivalent(self) -> bool:
        """An allowed entry whose group claims the probe finds no difference at all."""
        return self.kind == ALLOWED and self.differs == ()

    def unexplained(self, differences: tuple[str, ...]) -> tuple[str, ...]:
        """The probe's differences this entry's group does not allow (all of them for an equivalent group)."""
        allowed = self.differs or ()
        return tuple(line for line in differences if not any(re.search(p, line) for p in allowed))

    def matches(self, mutant: Survivor) -> bool:
        if _KEY.match(self.selector):
            return mutant.key == self.selector
        if not fnmatch.fnmatchcase(mutant.function, self.selector):
            return False
        return self.pattern is None or re.search(self.pattern, mutant.described) is not None

    @property
    def where(self) -> str:
        return f"contracts/MUTANTS.md:{self.line}"


@dataclass(frozen=True, slots=True)
class Ledger:
    entries: tuple[Entry, ...]
    # Form problems, each naming its line: a test fails on any.
    problems: tuple[str, ...]

    @property
    def gaps(self) -> tuple[Entry, ...]:
        return tuple(entry for entry in self.entries if entry.kind == GAP)

    @property
    def allowed(self) -> tuple[Entry, ...]:
        return tuple(entry for entry in self.entries if entry.kind == ALLOWED)


@dataclass(slots=True)
class _Group:
    name: str
    line: int
    source: str = ""
    entries: list[Entry] = field(default_factory=list)
    differs: tuple[str, ...] | None = None


def parse_ledger(text: str) -> Ledger:
    entries: list[Entry] = []
    problems: list[str] = []
    section = ""
    groups: list[_Group] = []
    in_source = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        lowered = line.lower()
        if in_source and line and not line.startswith(("- ", "#", _DIFFERS)):
            # The source paragraph goes on to the next blank line.
            groups[-1].source += " " + line
            continue
        in_source = False
        if line.startswith("## "):
            section = ALLOWED if lowered == _ALLOWED_HEADING else GAP if lowered == _GAPS_HEADING else ""
            continue
        if section == ALLOWED and line.startswith("### "):
            groups.append(_Group(line[4:].strip(), number))
            continue
        if section == ALLOWED and line.startswith(_SOURCE) and groups:
            groups[-1].source = line[len(_SOURCE) :].strip()
            in_source = True
            continue
        if section == ALLOWED and line.startswith(_DIFFERS) and groups:
            groups[-1].differs = _differs(line[len(_DIFFERS) :].strip(), number, problems)
            continue
        if not section or not line.startswith("- `"):
            continue
        entry = _entry(line, number, section, groups, problems)
        if entry is not None:
            entries.append(entry)
    return Ledger(tuple(_grouped(entries, groups, problems)), tuple(problems))


def _differs(said: str, number: int, problems: list[str]) -> tuple[str, ...]:
    """The regular expressions of a group's 'Differs:' line (none for 'nothing'); a problem for each bad one."""
    patterns = tuple(re.findall(r"`([^`]+)`", said))
    if said != _NOTHING and not patterns:
        problems.append(f"line {number}: 'Differs:' is followed by `regex`, `regex`... or by 'nothing'")
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(f"line {number}: invalid regular expression {pattern!r}: {exc}")
    return patterns


def _entry(line: str, number: int, section: str, groups: list[_Group], problems: list[str]) -> Entry | None:
    """The entry a bullet of ``section`` lists (an allowed one joins the last group); None, and a problem, if bad."""
    bullet = _BULLET.match(line)
    if bullet is None:
        problems.append(f"line {number}: an entry is `selector`, optionally `regex`, then text: {line!r}")
        return None
    selector, pattern, note = bullet["selector"], bullet["pattern"], bullet["note"].strip()
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(f"line {number}: invalid regular expression {pattern!r}: {exc}")
            return None
    if section == GAP:
        if not _KEY.match(selector) or pattern is not None:
            problems.append(f"line {number}: a gap names one mutant by its key (module.function:hash): {line!r}")
        if not note:
            problems.append(f"line {number}: the gap {selector} does not say what is wrong with that hub")
        return Entry(GAP, "gap", "", selector, None, note, number)
    if not groups:
        problems.append(f"line {number}: an allowed entry outside a ### reason group: {line!r}")
        return None
    entry = Entry(ALLOWED, groups[-1].name, "", selector, pattern, note, number)
    groups[-1].entries.append(entry)
    return entry


def _grouped(entries: list[Entry], groups: list[_Group], problems: list[str]) -> list[Entry]:
    """Each allowed entry with its group's source and differences; a problem for each group or gap of a bad form."""
    of_group = {id(entry): group for group in groups for entry in group.entries}
    entries = [
        replace(entry, source=of_group[id(entry)].source, differs=of_group[id(entry)].differs)
        if id(entry) in of_group
        else entry
        for entry in entries
    ]
    for group in groups:
        if not group.source:
            problems.append(f"line {group.line}: the group {group.name!r} names no source (a 'Source:' line)")
        if not group.entries:
            problems.append(f"line {group.line}: the group {group.name!r} lists no mutant")
    seen: set[str] = set()
    for entry in entries:
        if entry.kind == GAP and entry.selector in seen:
            problems.append(f"line {entry.line}: the gap {entry.selector} is listed twice")
        seen.add(entry.selector)
    return entries


def read_ledger(path: Path) -> Ledger:
    return parse_ledger(path.read_text("utf-8"))


@dataclass(frozen=True, slots=True)
class Accounting:
    # survivor key -> the entry that accounts for it
    allowed: dict[str, Entry]
    gaps: dict[str, Entry]
    # survivors in neither list, and survivors a gap and an allowed entry both claim
    unaccounted: tuple[str, ...]
    ambiguous: tuple[str, ...]
    # gaps whose mutant no longer survives: the suite closed them, or the hub changed
    closed_gaps: tuple[Entry, ...]
    # allowed survivors whose probe differences their group does not allow: key -> the first such difference
    misfiled: dict[str, str] = field(default_factory=dict)
    # allowed survivors the run did not probe: their group's claim is unproved
    unprobed: tuple[str, ...] = ()

    def entry_of(self, key: str) -> Entry | None:
        return self.gaps.get(key) or self.allowed.get(key)

    def _proved(self, key: str) -> bool:
        return key not in self.misfiled and key not in self.unprobed

    @property
    def equivalent(self) -> tuple[str, ...]:
        """Survivors filed as equivalent, and shown so by the probe."""
        return tuple(key for key, entry in self.allowed.items() if entry.equivalent and self._proved(key))

    @property
    def allowed_by_clause(self) -> tuple[str, ...]:
        """Survivors filed under a clause that allows their differences, and shown so by the probe."""
        return tuple(key for key, entry in self.allowed.items() if not entry.equivalent and self._proved(key))


def account(ledger: Ledger, survivors: Iterable[Survivor], *, probed: bool = True) -> Accounting:
    """Which entry accounts for each survivor; with ``probed``, whether the probe bears each allowed one out."""
    seen: list[Survivor] = []
    allowed: dict[str, Entry] = {}
    gaps: dict[str, Entry] = {}
    unaccounted: list[str] = []
    ambiguous: list[str] = []
    survivor_keys: set[str] = set()
    for mutant in survivors:
        seen.append(mutant)
        survivor_keys.add(mutant.key)
        gap = _first(ledger.gaps, mutant)
        ok = _first(ledger.allowed, mutant)
        if gap is not None and ok is not None:
            ambiguous.append(mutant.key)
        if gap is not None:
            gaps[mutant.key] = gap
        elif ok is not None:
            allowed[mutant.key] = ok
        else:
            unaccounted.append(mutant.key)
    closed = tuple(entry for entry in ledger.gaps if entry.selector not in survivor_keys)
    misfiled: dict[str, str] = {}
    unprobed: list[str] = []
    for mutant in seen if probed else ():
        entry = allowed.get(mutant.key)
        if entry is None:
            continue
        if mutant.differences is None:
            unprobed.append(mutant.key)
            continue
        unexplained = entry.unexplained(mutant.differences)
        if unexplained:
            misfiled[mutant.key] = unexplained[0]
    return Accounting(allowed, gaps, tuple(unaccounted), tuple(ambiguous), closed, misfiled, tuple(unprobed))


def _first(entries: Sequence[Entry], mutant: Survivor) -> Entry | None:
    return next((entry for entry in entries if entry.matches(mutant)), None)
