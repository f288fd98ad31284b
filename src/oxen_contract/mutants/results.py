"""What mutmut left in its work directory, read back as one record per mutant with a stable key.

mutmut 3 records one exit status per mutant in ``mutants/<source>.meta`` (JSON) and writes each mutant as its own
function beside an unmutated copy (``..._mutmut_orig``) in ``mutants/<source>``, with the line span of each in
``<source>.spans``. The exit status is the contract suite's own (``verdict.py``), so mutmut's "killed" splits here into
a contract violation (1), "hub unavailable" (75) and a setup error (78).

mutmut's ids (``oxen_contract.hub.app.xǁ_Hubǁ_set_active__mutmut_12``) number the mutants of one function in order:
they stay put when other functions change, but an edit inside the function renumbers it. The ledger therefore keys
each mutant on what it changes: ``app._Hub._set_active:<8 hex digits>``, a hash of the changed lines only.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import io
import json
import tokenize
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["OUTCOMES", "Mutant", "kind_of", "outcome_of", "read_mutants"]

PACKAGE = "oxen_contract.hub."
# The safety target's modules sit in ``disposables/``: keyed by module and function, ``provenance.why_not_the_deploys``.
_TOP = "oxen_contract.disposables."
_SEPARATOR = "ǁ"
_MARK = "__mutmut_"

# mutmut's exit statuses (its stats.py) and the suite's (verdict.py), as the report names them.
_TIMEOUTS = frozenset({36, 24, -24, 152, 255})
OUTCOMES = (
    "survived",
    "killed: contract violation",
    "killed: hub unavailable",
    "killed: setup error",
    "killed: timeout",
    "killed: other",
    "not reached",
    "not checked",
)


def outcome_of(exit_code: int | None) -> str:
    """The outcome an exit status of one mutant's suite run stands for."""
    if exit_code is None:
        return "not checked"
    if exit_code == 0:
        return "survived"
    if exit_code == 1:
        return "killed: contract violation"
    if exit_code == 75:
        return "killed: hub unavailable"
    if exit_code == 78:
        return "killed: setup error"
    if exit_code in _TIMEOUTS:
        return "killed: timeout"
    if exit_code == 33:
        # mutmut's "no tests": no test of the suite called the function.
        return "not reached"
    # pytest's 2 (interrupted), 3 (internal error), 4 (usage), or a signal: the suite did not pass.
    return "killed: other"


@dataclass(frozen=True, slots=True)
class Mutant:
    id: str
    module: str
    function: str
    exit_code: int | None
    key: str
    change: str
    lines: tuple[int, ...]
    # Whether the unmutated suite run executed a changed line; None without coverage data.
    executed: bool | None
    diff: str
    # What the differential probe (probe.py) saw this mutant answer differently from the clean hub; None: not probed.
    differences: tuple[str, ...] | None = None

    @property
    def outcome(self) -> str:
        return outcome_of(self.exit_code)

    @property
    def kind(self) -> str:
        """``string`` or ``number`` when only literals of that kind changed, else ``code``."""
        return kind_of(self.change)

    @property
    def described(self) -> str:
        """What a ledger entry's regular expression is searched in: ``<kind>: <old line> => <new line>``."""
        return f"{self.kind}: {self.change}"

    def to_json(self, *, with_diff: bool) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id,
            "module": self.module,
            "function": self.function,
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "key": self.key,
            "change": self.change,
            "kind": self.kind,
            "lines": list(self.lines),
            "executed": self.executed,
        }
        if with_diff:
            out["diff"] = self.diff
            out["differences"] = list(self.differences) if self.differences is not None else None
        return out


def _tokens(text: str) -> list[tuple[int, str]] | None:
    try:
        return [
            (token.type, token.string)
            for token in tokenize.generate_tokens(io.StringIO(text).readline)
            if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)
        ]
    except (tokenize.TokenError, SyntaxError):
        return None


def kind_of(change: str) -> str:
    """Whether a change (``old => new``) touches only string literals, only numbers, or code."""
    old, _, new = change.partition(" => ")
    before, after = _tokens(old), _tokens(new)
    if before is None or after is None or len(before) != len(after):
        return "code"
    differing = {kind for (kind, text), (_, other) in zip(before, after, strict=True) if text != other}
    if differing == {tokenize.STRING}:
        return "string"
    if differing == {tokenize.NUMBER}:
        return "number"
    return "code"


def function_of(mutant_id: str) -> tuple[str, str]:
    """``(module, function)`` of a mutmut id: ``("app", "app._Hub._set_active")``."""
    dotted, _, _ = mutant_id.partition(_MARK)
    module_path, _, mangled = dotted.rpartition(".")
    module = module_path.removeprefix(PACKAGE) if module_path.startswith(PACKAGE) else module_path.removeprefix(_TOP)
    if mangled.startswith("x" + _SEPARATOR):
        _, class_name, name = mangled.split(_SEPARATOR)
        return module, f"{module}.{class_name}.{name}"
    return module, f"{module}.{mangled.removeprefix('x_')}"


def _def_lines(source: str) -> dict[str, int]:
    """The line of each function's ``def`` by its dotted name within the module (``_Hub._set_active``)."""
    found: dict[str, int] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found[node.name] = node.lineno
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    found[f"{node.name}.{item.name}"] = item.lineno
    return found


def _def_index(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if line.lstrip().startswith(("def ", "async def ")):
            return index
    return 0


@dataclass(frozen=True, slots=True)
class _Change:
    removed: tuple[str, ...]
    added: tuple[str, ...]
    orig_indexes: tuple[int, ...]
    diff: str

    @property
    def text(self) -> str:
        return f"{' / '.join(self.removed)} => {' / '.join(self.added)}"


def _change(orig: list[str], mutated: list[str], label: str) -> _Change:
    removed: list[str] = []
    added: list[str] = []
    indexes: list[int] = []
    matcher = difflib.SequenceMatcher(a=orig, b=mutated, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        removed += [line.strip() for line in orig[i1:i2]]
        added += [line.strip() for line in mutated[j1:j2]]
        # A pure insertion changes nothing in the original: point at the line it follows.
        indexes += range(i1, i2) if i2 > i1 else [max(i1 - 1, 0)]
    diff = "\n".join(difflib.unified_diff(orig, mutated, fromfile=label, tofile=label, lineterm=""))
    return _Change(tuple(removed), tuple(added), tuple(indexes), diff)


def _renamed(lines: list[str], generated: str, name: str) -> list[str]:
    """The generated function's lines with its ``def`` named as in the source, dedented to the left margin."""
    width = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    return [line[width:].replace(f"def {generated}(", f"def {name}(", 1) for line in lines]


def _statement_line(line: int, executed: set[int], missing: set[int]) -> int:
    """The first line of the statement ``line`` belongs to (coverage counts statements by their first line)."""
    while line > 1 and line not in executed and line not in missing:
        line -= 1
    return line


def read_mutants(work: Path, coverage: Mapping[str, tuple[set[int], set[int]]] | None = None) -> list[Mutant]:
    """Every mutant of mutmut's run in ``work``, in module then mutmut order.

    ``coverage`` maps a source path relative to ``work`` (``src/oxen_contract/hub/app.py``) to the lines the unmutated
    suite run executed and missed.
    """
    mutants: list[Mutant] = []
    for meta_path in sorted((work / "mutants").rglob("*.py.meta")):
        source_rel = meta_path.relative_to(work / "mutants").as_posix().removesuffix(".meta")
        mutants += _read_module(work, source_rel, (coverage or {}).get(source_rel))
    return mutants


def _read_module(work: Path, source_rel: str, covered: tuple[set[int], set[int]] | None) -> Iterable[Mutant]:
    meta = json.loads((work / "mutants" / f"{source_rel}.meta").read_text("utf-8"))
    spans: dict[str, list[int]] = json.loads((work / "mutants" / f"{source_rel}.spans").read_text("utf-8"))["spans"]
    mutated_lines = (work / "mutants" / source_rel).read_text("utf-8").splitlines()
    def_lines = _def_lines((work / source_rel).read_text("utf-8"))
    exit_codes: dict[str, int | None] = meta["exit_code_by_key"]
    seen: dict[str, int] = {}
    for mutant_id in sorted(exit_codes, key=_mutmut_order):
        module, function = function_of(mutant_id)
        generated = mutant_id.rpartition(".")[2]
        original = generated.partition(_MARK)[0] + _MARK + "orig"
        name = function.rpartition(".")[2]
        orig = _renamed(_span(mutated_lines, spans[original]), original, name)
        mutated = _renamed(_span(mutated_lines, spans[generated]), generated, name)
        change = _change(orig, mutated, source_rel)
        offset = def_lines.get(function.partition(".")[2], 0) - _def_index(orig)
        lines = tuple(sorted({index + offset for index in change.orig_indexes}))
        executed: bool | None = None
        if covered is not None:
            ran, missed = covered
            executed = any(_statement_line(line, ran, missed) in ran for line in lines)
        digest = hashlib.sha1(f"{function}\n{change.text}".encode()).hexdigest()[:8]
        key = f"{function}:{digest}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            # The same change at two places of one function: told apart by their order.
            key += f"#{seen[key]}"
        yield Mutant(mutant_id, module, function, exit_codes[mutant_id], key, change.text, lines, executed, change.diff)


def _span(lines: list[str], span: list[int]) -> list[str]:
    start, end = span
    return lines[start - 1 : end]


def _mutmut_order(mutant_id: str) -> tuple[str, int]:
    head, _, number = mutant_id.rpartition(_MARK)
    return head, int(number) if number.isdigit() else 0
