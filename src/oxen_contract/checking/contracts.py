"""The one reader of ``contracts/``.

Every test, check and report asks this module for a validator and gets back violations that
name the clause they break: the schema file and the JSON pointer of the failing keyword, the
expected value and the actual one. Loading the files anywhere else would let two readings of
the contract drift apart.

The default variant is open (unknown fields are allowed, as the OpenAI-compatible API grows);
the strict variant is ``strict.schema.json``, which references the default schemas and only
closes their objects.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from referencing import Registry, Resource

from .failures import OxenContractError

__all__ = ["CONTRACT_NAMES", "ClauseViolation", "Contract", "canonical_key", "contract_digest", "load_contract"]

SCHEMA_FILES = (
    "model.schema.json",
    "model-list.schema.json",
    "error.schema.json",
    "deploy.schema.json",
    "strict.schema.json",
)
OPENAPI_FILE = "openapi.yaml"

# contract name -> (file, fragment) in the default variant and in the strict variant.
_DEFAULT = {
    "model": ("model.schema.json", ""),
    "model-list": ("model-list.schema.json", ""),
    "search-answer": ("model-list.schema.json", "#/$defs/searchAnswer"),
    "error": ("error.schema.json", ""),
    "fine-tune-deploy": ("deploy.schema.json", "#/$defs/fineTuneDeployAnswer"),
    "checkpoint-deploy": ("deploy.schema.json", "#/$defs/checkpointDeployAnswer"),
}
_STRICT = {
    **_DEFAULT,
    "model": ("strict.schema.json", "#/$defs/model"),
    "model-list": ("strict.schema.json", "#/$defs/modelList"),
    "search-answer": ("strict.schema.json", "#/$defs/searchAnswer"),
}
CONTRACT_NAMES = tuple(_DEFAULT)
# contract name -> the clauses a validation against it exercises, as prefixes of clause ids: the part of its file it
# validates with, and model.schema.json where it holds models. A strict validation also exercises strict.schema.json
# where that variant differs (_STRICT).
_CLAUSES = {
    "model": ("model.schema.json",),
    "model-list": ("model-list.schema.json#/type", "model-list.schema.json#/required", "model.schema.json"),
    "search-answer": ("model-list.schema.json#/$defs/searchAnswer", "model.schema.json"),
    "error": ("error.schema.json",),
    "fine-tune-deploy": ("deploy.schema.json#/$defs/fineTuneDeployAnswer",),
    "checkpoint-deploy": ("deploy.schema.json#/$defs/checkpointDeployAnswer", "model.schema.json"),
}

# The registry's key for each file. The files carry no $id on purpose: tools that read openapi.yaml from disk
# (schemathesis, openapi-spec-validator) then resolve `model.schema.json` beside it, instead of fetching it from a URL.
BASE_URI = "https://contracts.oxen-contract.dev/"
# Distinct instances (answers, and the models of list answers) whose violations a Contract keeps, the oldest dropped
# first: more than a large catalogue holds, so that a list seen again costs no validation at all. Kept by digest, each
# a few hundred bytes.
_SEEN_LIMIT = 20_000
# The contracts whose answers hold models under "data": each model is validated on its own (as "model", in the same
# variant, which is what their items refer to) and the wrapper apart.
_LISTS = frozenset({"model-list", "search-answer"})
# Canonical JSON: equal text for equal values, whatever the key order; 1, 1.0 and true stay apart.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False)


class ContractNotFound(OxenContractError, RuntimeError):
    """The contract files are neither packaged with the wheel nor beside the source tree."""


@dataclass(frozen=True, slots=True)
class ClauseViolation:
    """One broken clause: where in the contract, where in the body, and what differed."""

    schema_file: str
    pointer: str
    instance_pointer: str
    keyword: str
    expected: Any
    actual: Any
    message: str

    @property
    def clause(self) -> str:
        """``file#/json/pointer``: the address SOURCES.md and failure messages use."""
        return f"{self.schema_file}#{self.pointer}"


# The contracts' folder in a checkout (an installed wheel carries it as ``oxen_contract/_contracts``).
CHECKOUT_FOLDER = "contracts"


def _contract_dir() -> Path:
    package = Path(__file__).resolve().parents[1]
    # A wheel carries the files as package data; an editable install or a checkout reads them in place.
    for candidate in (package / "_contracts", package.parents[1] / CHECKOUT_FOLDER):
        if (candidate / OPENAPI_FILE).is_file():
            return candidate
    raise ContractNotFound(f"contracts/ not found beside {package}; reinstall the package (pip install -e .)")


@cache
def contract_digest() -> str:
    """Which contract a run checked: sha256 over the files of contracts/, one after another in sorted order of name.

    In a checkout, ``cat $(LC_ALL=C ls -d contracts/* | sort) | sha256sum`` gives the same; the wheel carries the same
    files, so an installed run names the digest of the checkout it was built from.
    """
    folder = _contract_dir()
    digest = hashlib.sha256()
    for path in sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.relative_to(folder).as_posix()):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _escape(token: object) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _pointer(parts: Iterator[object] | tuple[object, ...] | list[object]) -> str:
    return "".join(f"/{_escape(part)}" for part in parts)


def _walk(node: Any, path: tuple[object, ...]) -> Iterator[tuple[int, tuple[object, ...]]]:
    if isinstance(node, dict):
        yield id(node), path
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def _unknown_fields(error: ValidationError) -> list[str]:
    # jsonschema names the offending keys only in its message: "('a', 'b' were unevaluated and invalid)".
    return re.findall(r"'([^']*)'", error.message.partition("(")[2])


def _recognised(schema: Any, instance: Any, resolver: Any) -> int:
    """How many members of ``instance``, at any depth, ``schema`` names under ``properties``."""
    if isinstance(schema, dict) and "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        schema, resolver = resolved.contents, resolved.resolver
    if not isinstance(schema, dict) or not isinstance(instance, dict):
        return 0
    properties = schema.get("properties", {})
    return sum(1 + _recognised(sub, instance[key], resolver) for key, sub in properties.items() if key in instance)


class Contract:
    """The loaded contracts: documents, a referencing registry keyed by BASE_URI + file name, and validators."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.documents: dict[str, dict[str, Any]] = {
            name: json.loads((directory / name).read_text(encoding="utf-8")) for name in SCHEMA_FILES
        }
        self.registry: Registry[Any] = Registry().with_resources(
            (BASE_URI + name, Resource.from_contents(document)) for name, document in self.documents.items()
        )
        self._location: dict[int, tuple[str, tuple[object, ...]]] = {
            node_id: (name, path) for name, document in self.documents.items() for node_id, path in _walk(document, ())
        }
        self._clauses: dict[tuple[str, bool], tuple[str, ...]] = {}
        self._seen: dict[tuple[str, bool, bytes], list[ClauseViolation]] = {}
        # The list body ``violations`` judged last, and its models' keys, until the tally takes them (``model_keys``).
        self._keyed: tuple[Any, list[bytes | None]] | None = None

    @property
    def openapi_path(self) -> Path:
        return self.directory / OPENAPI_FILE

    def openapi(self) -> dict[str, Any]:
        document: dict[str, Any] = yaml.safe_load(self.openapi_path.read_text(encoding="utf-8"))
        return document

    def schema_files_by_operation(self) -> dict[str, frozenset[str]]:
        """OperationId -> the schema files its documented answers are checked against, cross-file $refs followed.

        The report's grid uses it to mark where a schema clause cannot apply (a deploy answer's clause under
        listModels); ``strict.schema.json`` closes every default schema, so it goes wherever one of them does.
        """
        document = self.openapi()
        responses = document.get("components", {}).get("responses", {})

        def files(node: Any) -> set[str]:
            found: set[str] = set()
            for ref in _refs(node):
                if ref.startswith("#/components/responses/"):
                    found |= files(responses.get(ref.rsplit("/", 1)[1], {}))
                elif ref.split("#")[0] in self.documents:
                    found |= _reached(self.documents, ref.split("#")[0])
            return found

        operations: dict[str, frozenset[str]] = {}
        for item in document.get("paths", {}).values():
            for operation in item.values() if isinstance(item, dict) else ():
                if isinstance(operation, dict) and "operationId" in operation:
                    reached = files(operation.get("responses", {}))
                    if reached - {"error.schema.json"}:
                        reached.add("strict.schema.json")
                    operations[operation["operationId"]] = frozenset(reached)
        return operations

    def rules(self) -> dict[str, str]:
        """Clause -> the rule in words, from the tables of SOURCES.md (schema clauses and the suite's own rules)."""
        return _rules(self.directory / "SOURCES.md")

    def clauses(self, name: str, strict: bool) -> tuple[str, ...]:
        """The clauses (of ``rules()``) a validation against contract ``name`` exercises, in the given variant."""
        if name not in _CLAUSES:
            raise KeyError(f"unknown contract {name!r}; known: {', '.join(CONTRACT_NAMES)}")
        key = (name, strict)
        if key not in self._clauses:
            sources = list(_CLAUSES[name])
            if strict and _STRICT[name] != _DEFAULT[name]:
                sources.append(_STRICT[name][0])
            prefixes = tuple(source if "#" in source else source + "#" for source in sources)
            self._clauses[key] = tuple(clause for clause in self.rules() if clause.startswith(prefixes))
        return self._clauses[key]

    def uri(self, name: str, *, strict: bool = False) -> str:
        file, fragment = (_STRICT if strict else _DEFAULT)[name]
        return BASE_URI + file + fragment

    def validator(self, name: str, *, strict: bool = False) -> Validator:
        if name not in _DEFAULT:
            raise KeyError(f"unknown contract {name!r}; known: {', '.join(CONTRACT_NAMES)}")
        return _validator(self, self.uri(name, strict=strict))

    def violations(self, name: str, instance: Any, *, strict: bool = False) -> list[ClauseViolation]:
        """Every clause of contract ``name`` that ``instance`` breaks; empty when it conforms."""
        if name in _LISTS and isinstance(instance, dict) and isinstance(instance.get("data"), list):
            return self._list_violations(name, instance, strict)
        return list(self._cached(name, instance, strict, canonical_key(instance)))

    def model_keys(self, body: dict[str, Any]) -> list[bytes | None]:
        """The ``canonical_key`` of each model in a list answer's ``data``.

        The tally asks right after ``violations`` judged the same body: the keys that call computed are handed over
        once, not computed again (a thousand models take milliseconds to encode); any other call computes them.
        """
        keyed, self._keyed = self._keyed, None
        if keyed is not None and keyed[0] is body:
            return keyed[1]
        return [canonical_key(model) for model in body["data"]]

    def _list_violations(self, name: str, body: dict[str, Any], strict: bool) -> list[ClauseViolation]:
        # A run gets the same models in answer after answer (every list, every search, every retrieve): validated as
        # a whole, a list of N models costs N validations each time. Its items refer to the model contract of the same
        # variant and nothing else about the list looks into them, so the wrapper (its models left out) and each
        # distinct model are validated once, and the violations found read as a validation of the whole would give.
        wrapper = {**body, "data": []}
        found = [
            # A violation of the whole wrapper (a required member missing) shows the answer, not the stand-in.
            replace(violation, actual=body)
            if not violation.instance_pointer and isinstance(violation.actual, dict)
            else violation
            for violation in self._cached(name, wrapper, strict, canonical_key(wrapper))
        ]
        keys = [canonical_key(model) for model in body["data"]]
        # Holding the body itself, so that no other object can take its id while the keys wait for the tally.
        self._keyed = (body, keys)
        for index, (model, model_key) in enumerate(zip(body["data"], keys, strict=True)):
            for violation in self._cached("model", model, strict, model_key):
                found.append(replace(violation, instance_pointer=f"/data/{index}{violation.instance_pointer}"))
        return sorted(found, key=lambda v: (v.instance_pointer, v.clause))

    def _cached(self, name: str, instance: Any, strict: bool, digest: bytes | None) -> list[ClauseViolation]:
        """The violations of ``instance``, validated once per distinct (contract, variant, canonical JSON)."""
        # A validation is a pure function of the contract and the JSON text, so each distinct text is validated once.
        if digest is None:
            return self._validate(name, instance, strict)
        cache_key = (name, strict, digest)
        found = self._seen.get(cache_key)
        if found is None:
            found = self._validate(name, instance, strict)
            if len(self._seen) >= _SEEN_LIMIT:
                self._seen.pop(next(iter(self._seen)))
            self._seen[cache_key] = found
        return found

    def _validate(self, name: str, instance: Any, strict: bool) -> list[ClauseViolation]:
        found: dict[tuple[str, str], ClauseViolation] = {}
        for error in self.validator(name, strict=strict).iter_errors(instance):
            for leaf in self._leaves(error):
                # The strict variant applies a default clause through two references; report it once.
                violation = self._violation(leaf)
                found.setdefault((violation.clause, violation.instance_pointer), violation)
        return sorted(found.values(), key=lambda v: (v.instance_pointer, v.clause))

    def _leaves(self, error: ValidationError) -> list[ValidationError]:
        """The errors that name a clause; under an anyOf, those of the branch the instance came closest to."""
        if not error.context:
            return [error]
        branches: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)

        # Closest: fewest errors, then the branch that names most of what the instance holds (an error body with
        # error.type and error.title is a broken shape 1, not a shape 2 missing its message).
        alternatives: list[Any] = list(error.validator_value) if isinstance(error.validator_value, list) else []

        def distance(index: int) -> tuple[int, int]:
            branch = alternatives[index] if index < len(alternatives) else {}
            return len(branches[index]), -_recognised(branch, error.instance, self._resolver_for(error.schema))

        closest = min(branches, key=distance)
        return [leaf for sub in branches[closest] for leaf in self._leaves(sub)]

    def _resolver_for(self, node: Any) -> Any:
        file, _ = self._location.get(id(node), ("", ()))
        return self.registry.resolver(BASE_URI + file if file else "")

    def _violation(self, error: ValidationError) -> ClauseViolation:
        file, path = self._location.get(id(error.schema), ("<unknown>", ()))
        return ClauseViolation(
            schema_file=file,
            pointer=_pointer((*path, str(error.validator))),
            instance_pointer=_pointer(list(error.absolute_path)),
            keyword=str(error.validator),
            expected=error.validator_value,
            actual=_unknown_fields(error) if error.validator == "unevaluatedProperties" else error.instance,
            message=error.message,
        )


def canonical_key(instance: Any) -> bytes | None:
    """What a validation of ``instance`` is remembered by: a digest of its canonical JSON (None: not JSON)."""
    try:
        text = _CANONICAL.encode(instance)
    except (TypeError, ValueError, RecursionError):
        return None
    # ASCII: the encoder escapes everything else, lone surrogates included.
    return hashlib.blake2b(text.encode("ascii"), digest_size=16).digest()


@cache
def _validator(contract: Contract, uri: str) -> Validator:
    validator: Validator = Draft202012Validator({"$ref": uri}, registry=contract.registry)
    return validator


def _refs(node: Any) -> Iterator[str]:
    """Every $ref value in a document, at any depth."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _reached(documents: dict[str, dict[str, Any]], name: str) -> set[str]:
    """The schema file ``name`` and every file its $refs reach."""
    found: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in found or current not in documents:
            continue
        found.add(current)
        todo += [ref.split("#")[0] for ref in _refs(documents[current]) if not ref.startswith("#")]
    return found


@cache
def _rules(sources: Path) -> dict[str, str]:
    rows = re.findall(r"^\| `([^`]+)` \| (.+?) \|", sources.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {clause: rule for clause, rule in rows if "#" in clause or clause.startswith("rule:")}


@cache
def load_contract() -> Contract:
    """The contracts of this installation, loaded once per process."""
    return Contract(_contract_dir())
