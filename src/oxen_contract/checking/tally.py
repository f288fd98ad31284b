"""What a run saw: how often each clause was checked and broken, every failure, and drift from the contract.

The nightly reader wants more than pass/fail: which clauses the run actually exercised, and what the hub answers that
the contract does not name yet (new fields, new values in open string fields). The Verifier feeds one Tally per
session; ``report.write_contract_report`` turns it into Markdown and JSON. Under pytest-xdist each worker keeps its
own Tally: ``to_json`` snapshots it for ``workeroutput`` and the controller ``merge``s the snapshots into its own.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .contracts import Contract, canonical_key
from .exchange import Exchange, curl_line

__all__ = ["Drift", "Tally"]

# Open string fields whose values are worth watching: the docs route models to more than they enumerate.
_OPEN_VALUES = (
    ("capabilities.input[]", ("capabilities", "input")),
    ("capabilities.output[]", ("capabilities", "output")),
    ("fine_tuning.actions[]", ("fine_tuning", "actions")),
    ("developer.name", ("developer", "name")),
)
_EXAMPLES = 3
# Distinct model objects whose sightings a Tally keeps (the oldest dropped first): more than a large catalogue holds.
_SIGHTINGS_LIMIT = 20_000


@dataclass(slots=True)
class Drift:
    """A field or value seen in answers that the contract does not name.

    Its examples are the alphabetically first model ids seen, not the first in time: which answer comes first differs
    between a serial run and one split over xdist workers, and the report must not.
    """

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def saw(self, model_id: str | None) -> None:
        self.count += 1
        if model_id:
            self._keep([model_id])

    def saw_many(self, count: int, model_ids: Iterable[str]) -> None:
        """``count`` sightings at once, of these models: as ``count`` calls of ``saw`` would leave it."""
        self.count += count
        self._keep(heapq.nsmallest(_EXAMPLES, model_ids))

    def _keep(self, model_ids: list[str]) -> None:
        self.examples = sorted({*self.examples, *model_ids})[:_EXAMPLES]

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "examples": list(self.examples)}

    def merge(self, data: dict[str, Any]) -> None:
        """Add another tally's sightings."""
        self.count += data["count"]
        self._keep(list(data["examples"]))


@dataclass(slots=True)
class Tally:
    contract: Contract
    checked: Counter[str] = field(default_factory=Counter)
    broken: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, Any]] = field(default_factory=list)
    unknown_fields: defaultdict[str, Drift] = field(default_factory=lambda: defaultdict(Drift))
    open_values: defaultdict[str, defaultdict[str, Drift]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Drift))
    )
    # "operation status" -> answers checked, e.g. "deleteModel 200": the coverage the verdict needs.
    answers: Counter[str] = field(default_factory=Counter)
    # Requests the docs do not say a hub must refuse, which this hub accepted: a warning unless --strict-contract.
    lenient_inputs: list[dict[str, Any]] = field(default_factory=list)
    # Documented fields seen (not null) in at least one model answer: the others have vanished, or never came.
    seen_fields: set[str] = field(default_factory=set)
    # What a careful hub would do where the docs are silent, and this one did not: a warning unless --strict-contract.
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # The key of each failure, in the order of ``failures`` (a dict as an ordered set): ``merge`` needs them.
    _seen_failures: dict[tuple[str, str, int, str], None] = field(default_factory=dict)
    # Field path ("", "pricing", "deployments[]", ...) -> the names the model contract gives its members.
    _known: dict[str, frozenset[str]] = field(default_factory=dict)
    # What each distinct model object (by its canonical JSON, ``contracts.canonical_key``) shows the drift report.
    _sightings: dict[bytes, _Sighting] = field(default_factory=dict)

    def validated(self, contract_name: str, strict: bool, body: Any) -> None:
        """An answer was validated against ``contract_name``: its clauses were checked, its models seen.

        Every model counts in the drift report once per answer it came in; what it shows is worked out once per
        distinct model, however many answers repeat it (a list of a thousand models, listed forty times).
        """
        self.checked.update(self.contract.clauses(contract_name, strict))
        seen = _Answer()
        for model, key in self._models(contract_name, body):
            sighting = self._sightings.get(key) if key is not None else None
            if sighting is None:
                sighting = self._sighting(model)
                if key is not None:
                    if len(self._sightings) >= _SIGHTINGS_LIMIT:
                        self._sightings.pop(next(iter(self._sightings)))
                    self._sightings[key] = sighting
            seen.add(sighting)
        seen.count_into(self)

    def _models(self, contract_name: str, body: Any) -> list[tuple[dict[str, Any], bytes | None]]:
        models = _models(contract_name, body)
        if contract_name in ("model-list", "search-answer") and models and isinstance(body.get("data"), list):
            # The keys the contract computed as it judged this very body: each model is encoded once per answer.
            keys = self.contract.model_keys(body)
            return [(model, key) for model, key in zip(body["data"], keys, strict=True) if isinstance(model, dict)]
        return [(model, canonical_key(model)) for model in models]

    def rule(self, clause: str) -> None:
        self.checked[clause] += 1

    def answered(self, exchange: Exchange) -> None:
        """One answer was checked (counted once per answer, whichever checks ran on it)."""
        self.answers[f"{exchange.operation} {exchange.status}"] += 1
        self.checked["rule:answers-in-time"] += 1

    def vanished_fields(self) -> list[str]:
        """Documented fields no model answer of the run carried (empty when the run checked no model)."""
        if not self._known:
            return []
        return sorted(documented_fields(self._known) - self.seen_fields)

    def answers_by_operation(self) -> dict[str, dict[int, int]]:
        found: dict[str, dict[int, int]] = defaultdict(dict)
        for key, count in sorted(self.answers.items()):
            operation, _, status = key.rpartition(" ")
            found[operation][int(status)] = count
        return dict(found)

    def warn(self, exchange: Exchange, clause: str, expected: str, actual: str) -> None:
        entry = _row(exchange, clause, expected=expected, actual=actual)
        if entry not in self.warnings:
            self.warnings.append(entry)

    def lenient(self, exchange: Exchange, clause: str, detail: str) -> None:
        """A request the hub could have refused, and accepted, where no source says it must refuse."""
        self.lenient_inputs.append(_row(exchange, clause, detail=detail))

    def failed(self, exchange: Exchange, clause: str, expected: str, actual: str, at: str) -> None:
        key = (exchange.method, exchange.url, exchange.status, clause)
        if key in self._seen_failures:
            return
        rule = self.contract.rules().get(clause, "")
        failure = _row(exchange, clause, with_id=True, rule=rule, at=at, expected=expected, actual=actual)
        self._add_failure(key, failure)

    def _add_failure(self, key: tuple[str, str, int, str], failure: dict[str, Any]) -> None:
        if key in self._seen_failures:
            return
        self._seen_failures[key] = None
        clause = key[3]
        self.broken[clause] += 1
        self.checked[clause] = max(self.checked[clause], self.broken[clause])
        self.failures.append(failure)

    def to_json(self) -> dict[str, Any]:
        """What the report reads of this tally, as plain JSON (the contract is not in it: every process loads it)."""
        return {
            "checked": dict(self.checked),
            "broken": dict(self.broken),
            "failures": [dict(failure) for failure in self.failures],
            # Parallel to "failures": each one's (method, url, status, clause), by which ``failed`` de-duplicates.
            "failure_keys": [list(key) for key in self._seen_failures],
            "answers": dict(self.answers),
            "lenient_inputs": [dict(entry) for entry in self.lenient_inputs],
            "warnings": [dict(entry) for entry in self.warnings],
            "seen_fields": sorted(self.seen_fields),
            "unknown_fields": {name: seen.to_json() for name, seen in self.unknown_fields.items()},
            "open_values": {
                label: {value: seen.to_json() for value, seen in values.items()}
                for label, values in self.open_values.items()
            },
        }

    def merge(self, data: dict[str, Any]) -> None:
        """Add a ``to_json`` snapshot, as if its events had come after ours; merge in a fixed order to get one result.

        A failure we already hold is dropped and not counted as broken again, as ``failed`` drops a repeat. Checks
        add up. They match one process's count when every failure follows a check of its clause, as in the Verifier;
        a failure with none before it counts as its own check in its tally, and ``checked`` may come out higher.
        """
        self.checked.update(data.get("checked", {}))
        self.answers.update(data.get("answers", {}))
        self.lenient_inputs.extend(dict(entry) for entry in data.get("lenient_inputs", []))
        self.seen_fields |= set(data.get("seen_fields", []))
        for entry in data.get("warnings", []):
            if entry not in self.warnings:
                self.warnings.append(dict(entry))
        for raw_key, failure in zip(data.get("failure_keys", []), data.get("failures", []), strict=True):
            method, url, status, clause = raw_key
            self._add_failure((method, url, status, clause), dict(failure))
        for name, seen in data.get("unknown_fields", {}).items():
            self.unknown_fields[name].merge(seen)
        for label, values in data.get("open_values", {}).items():
            for value, seen in values.items():
                self.open_values[label][value].merge(seen)

    def _sighting(self, model: dict[str, Any]) -> _Sighting:
        """What ``model`` shows the drift report: fields the contract does not name, documented ones, open values."""
        if not self._known:
            self._known.update(_named_fields(self.contract.documents["model.schema.json"]))
        values: list[tuple[str, str]] = []
        for label, (parent, member) in _OPEN_VALUES:
            # Any shape may arrive here (the answer is counted before its violations are reported).
            container = model.get(parent)
            found = container.get(member) if isinstance(container, dict) else None
            values += [
                (label, value) for value in (found if isinstance(found, list) else [found]) if isinstance(value, str)
            ]
        return _Sighting(
            model_id=model.get("id") if isinstance(model.get("id"), str) else None,
            unknown=tuple(_unknown_fields(model, "", self._known)),
            present=frozenset(_present_fields(model, "", self._known)),
            values=tuple(values),
        )


def _row(exchange: Exchange, clause: str, *, with_id: bool = False, **about: Any) -> dict[str, Any]:
    """A row of the report about ``exchange``: its operation and request, what ``about`` says of ``clause``, a curl."""
    request: dict[str, Any] = {"operation": exchange.operation, "method": exchange.method, "path": exchange.path}
    if with_id:
        request["model_id"] = exchange.model_id
    return {
        **request,
        "status": exchange.status,
        "clause": clause,
        **about,
        "curl": curl_line(exchange.method, exchange.url, exchange.credential, exchange.request_body),
    }


@dataclass(frozen=True, slots=True)
class _Sighting:
    """What one distinct model object shows the drift report, each field and value once per occurrence."""

    model_id: str | None
    unknown: tuple[str, ...]
    present: frozenset[str]
    values: tuple[tuple[str, str], ...]  # (label of _OPEN_VALUES, value)


@dataclass(slots=True)
class _Answer:
    """The sightings of one answer, added up before they are counted: a model adds one per field or value it shows.

    Counting an answer's sightings together gives what counting them one model at a time would (counts add, and the
    examples are the alphabetically first ids either way), in a few dictionary updates per field.
    """

    unknown: Counter[str] = field(default_factory=Counter)
    unknown_ids: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    values: Counter[tuple[str, str]] = field(default_factory=Counter)
    value_ids: defaultdict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    # Each distinct sighting once (held, so that no two share an id): its documented fields join seen_fields once.
    distinct: dict[int, _Sighting] = field(default_factory=dict)

    def add(self, sighting: _Sighting) -> None:
        self.unknown.update(sighting.unknown)
        self.values.update(sighting.values)
        if sighting.model_id:
            for where in sighting.unknown:
                self.unknown_ids[where].add(sighting.model_id)
            for value in sighting.values:
                self.value_ids[value].add(sighting.model_id)
        self.distinct.setdefault(id(sighting), sighting)

    def count_into(self, tally: Tally) -> None:
        for where, count in self.unknown.items():
            tally.unknown_fields[where].saw_many(count, self.unknown_ids.get(where, ()))
        for (label, value), count in self.values.items():
            tally.open_values[label][value].saw_many(count, self.value_ids.get((label, value), ()))
        for sighting in self.distinct.values():
            tally.seen_fields |= sighting.present


def _named_fields(document: dict[str, Any]) -> dict[str, frozenset[str]]:
    """Each object of the model contract, by field path, with the member names it declares."""

    def resolve(node: Any) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            target: Any = document
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
        return node

    known: dict[str, frozenset[str]] = {}

    def visit(node: Any, where: str) -> None:
        node = resolve(node)
        if not isinstance(node, dict):
            return
        if "items" in node:
            visit(node["items"], f"{where}[]")
        properties = node.get("properties")
        if isinstance(properties, dict) and "additionalProperties" not in node:
            known[where] = frozenset(properties)
            for name, child in properties.items():
                visit(child, f"{where}.{name}".lstrip("."))

    visit(document, "")
    return known


def _unknown_fields(node: Any, where: str, known: dict[str, frozenset[str]]) -> list[str]:
    if isinstance(node, list):
        return [found for item in node for found in _unknown_fields(item, f"{where}[]", known)]
    if not isinstance(node, dict) or where not in known:
        return []
    found = [f"{where}.{name}".lstrip(".") for name in node if name not in known[where]]
    for name, value in node.items():
        if name in known[where]:
            found.extend(_unknown_fields(value, f"{where}.{name}".lstrip("."), known))
    return found


def _present_fields(node: Any, where: str, known: dict[str, frozenset[str]]) -> set[str]:
    """The documented fields ``node`` carries (with a value other than null), by path."""
    if isinstance(node, list):
        return {found for item in node for found in _present_fields(item, f"{where}[]", known)}
    if not isinstance(node, dict) or where not in known:
        return set()
    found: set[str] = set()
    for name, value in node.items():
        if name in known[where] and value is not None:
            path = f"{where}.{name}".lstrip(".")
            found.add(path)
            found |= _present_fields(value, path, known)
    return found


def documented_fields(known: dict[str, frozenset[str]]) -> set[str]:
    """Every field path the model contract names."""
    return {f"{where}.{name}".lstrip(".") for where, names in known.items() for name in names}


def _models(contract_name: str, body: Any) -> list[dict[str, Any]]:
    if contract_name in ("model", "checkpoint-deploy") and isinstance(body, dict):
        return [body.get("model") if contract_name == "checkpoint-deploy" else body]  # type: ignore[list-item]
    if contract_name in ("model-list", "search-answer") and isinstance(body, dict):
        return [item for item in body.get("data") or [] if isinstance(item, dict)]
    return []
