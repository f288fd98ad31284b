"""Property tests of the contracts themselves: what they accept, and that each clause rejects what breaks it.

The hand-written cases of ``tests/schemas/test_clauses.py`` break each clause of one fixed instance. Here Hypothesis
(through hypothesis-jsonschema) generates the instances: every one must conform, and breaking one clause of a
generated instance must be rejected with a violation that names exactly that clause's pointer. hypothesis-jsonschema
neither follows our cross-file ``$ref``s nor knows ``unevaluatedProperties``, so each schema is first inlined into a
self-contained copy (through ``contract.registry``, never by reading ``contracts/``) and closed where strict closes it.
"""

from __future__ import annotations

import copy
import types
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import hypothesis_jsonschema._from_schema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as conjecture_utils
from hypothesis_jsonschema import from_schema

from oxen_contract.checking.contracts import BASE_URI, Contract, load_contract

# Keywords that hypothesis-jsonschema does not know or that only annotate; never property names (see _inline).
_DROPPED = {"$schema", "$id", "$defs", "$comment", "title", "description", "unevaluatedProperties"}
_SUBSCHEMA = {"items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"}
_SUBSCHEMAS = {"allOf", "anyOf", "oneOf", "prefixItems"}
_CHECKED = ("type", "enum", "const", "required", "unevaluatedProperties")
_UNKNOWN = "x_field_no_contract_names"
_BAD_ENUM = "value-no-contract-allows"

PROPERTY_SETTINGS = settings(
    max_examples=4,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
VARIANTS = [("model", False), ("model-list", False), ("search-answer", False), ("error", False)]
VARIANTS += [("model", True), ("model-list", True), ("search-answer", True)]


class _ManyWithMore(conjecture_utils.many):
    """``many`` with the ``more()`` loop that hypothesis-jsonschema 0.23.1 calls and Hypothesis 6.1xx removed.

    Without it every object schema fails with "'many' object has no attribute 'more'". Only hypothesis-jsonschema's
    module sees this class (below); Hypothesis's own strategies keep theirs.
    """

    _elements: Iterator[None] | None = None

    def more(self) -> bool:
        if self._elements is None:
            self.__enter__()
            self._elements = iter(self)
        if next(self._elements, False) is False:
            self.__exit__(None, None, None)
            return False
        return True


vars(hypothesis_jsonschema._from_schema)["cu"] = types.SimpleNamespace(
    **{**vars(conjecture_utils), "many": _ManyWithMore}
)


def _contract() -> Contract:
    return load_contract()


def _inline(schema: Any, resolver: Any) -> Any:
    """``schema`` with every ``$ref`` replaced by its target, recursively, and the unsupported keywords dropped."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED or key == "$ref":
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {name: _inline(sub, resolver) for name, sub in value.items()}
        elif key in _SUBSCHEMA:
            out[key] = _inline(value, resolver)
        elif key in _SUBSCHEMAS:
            out[key] = [_inline(sub, resolver) for sub in value]
        else:
            out[key] = value
    if "$ref" in schema:
        target = resolver.lookup(schema["$ref"])
        inlined = _inline(target.contents, target.resolver)
        return {"allOf": [inlined, out]} if out else inlined
    return out


def _closed(schema: Any) -> Any:
    """What strict adds, in a form generators understand: no property beyond those named (conditionals untouched)."""
    if not isinstance(schema, dict):
        return schema
    out = {
        key: (
            {name: _closed(sub) for name, sub in value.items()}
            if key == "properties"
            else [_closed(sub) for sub in value]
            if key in _SUBSCHEMAS
            else value
            if key in ("if", "then", "else")
            else _closed(value)
            if key in _SUBSCHEMA
            else value
        )
        for key, value in schema.items()
    }
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _unconditional(schema: Any) -> Any:
    """``schema`` without its if/then rules: generators only filter for them, which is slow; _conform applies them."""
    if isinstance(schema, list):
        return [_unconditional(sub) for sub in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _unconditional(value) for key, value in schema.items() if key not in ("if", "then", "else")}
    if "allOf" in out:
        out["allOf"] = [sub for sub in out["allOf"] if sub != {}]
        if not out["allOf"]:
            del out["allOf"]
    return out


@cache
def resolved(name: str, strict: bool = False) -> Any:
    """The contract ``name`` as one self-contained schema; strict: the default one with every named object closed."""
    contract = _contract()
    # Strict only closes the default objects (and search answers the list wrapper), which _closed does on the default.
    uri = contract.uri("model-list" if strict and name == "search-answer" else name)
    target = contract.registry.resolver().lookup(uri)
    schema = _inline(target.contents, target.resolver)
    return _closed(schema) if strict else schema


def _conform(instance: Any) -> Any:
    """Apply the model's conditional rules to a generated instance: a base model is owned by oxen, deploys nothing."""
    data = instance.get("data") if isinstance(instance, dict) else None
    models = data if isinstance(data, list) else [instance]
    for model in models:
        if isinstance(model, dict) and model.get("model_type") == "base":
            model["owned_by"] = "oxen"
            if model.get("deployments"):
                # Keep the deployments (a clause may sit in them): the model is a custom one then.
                model["model_type"] = "custom"
    return instance


def _at(instance: Any, path: tuple[object, ...]) -> Any:
    for part in path:
        instance = instance[part]
    return instance


# Clause sites: where in the contract a checked keyword sits, and where in an instance it applies ----------------------


@dataclass(frozen=True)
class Site:
    contract: str
    strict: bool
    clause: str
    keyword: str
    value: Any
    path: tuple[object, ...]

    @property
    def id(self) -> str:
        at = "/" + "/".join(map(str, self.path))
        return f"{'strict ' if self.strict else ''}{self.contract} {self.clause} at {at}"


def _split(uri: str) -> tuple[str, tuple[str, ...]]:
    file, _, fragment = uri.removeprefix(BASE_URI).partition("#")
    return file, tuple(part.replace("~1", "/").replace("~0", "~") for part in fragment.lstrip("/").split("/") if part)


def _sites(
    file: str, where: tuple[str, ...], path: tuple[object, ...], depth: int = 0
) -> Iterator[tuple[str, str, Any, tuple[object, ...]]]:
    node: Any = _contract().documents[file]
    for part in where:
        node = node[part]
    pointer = "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in where) if where else ""
    for keyword in _CHECKED:
        if keyword in node:
            yield f"{file}#{pointer}/{keyword}", keyword, node[keyword], path
    if "$ref" in node and depth < 8:
        ref = node["$ref"]
        target_file, target = _split(BASE_URI + (file + ref if ref.startswith("#") else ref))
        yield from _sites(target_file, target, path, depth + 1)
    for name in node.get("properties", {}):
        yield from _sites(file, (*where, "properties", name), (*path, name), depth)
    if isinstance(node.get("items"), dict):
        yield from _sites(file, (*where, "items"), (*path, 0), depth)
    if isinstance(node.get("additionalProperties"), dict):
        yield from _sites(file, (*where, "additionalProperties"), (*path, "k"), depth)


def sites(name: str, strict: bool) -> list[Site]:
    # The list wrappers' items are model objects: their clauses are tested on the model itself, once.
    file, where = _split(_contract().uri(name, strict=strict))
    seen: dict[tuple[str, tuple[object, ...]], Site] = {}
    for clause, keyword, value, path in _sites(file, where, ()):
        if name != "model" and path[:1] == ("data",) and len(path) > 2:
            continue
        seen.setdefault((clause, path), Site(name, strict, clause, keyword, value, path))
    return list(seen.values())


ALL_SITES = [site for name, strict in VARIANTS for site in sites(name, strict)]


def _full(schema: Any) -> Any:
    """``schema`` with every named field required and every array and map non-empty: each clause then has a target."""
    if isinstance(schema, list):
        return [_full(sub) for sub in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _full(value) for key, value in schema.items()}
    for key in ("properties", "additionalProperties", "items"):
        if isinstance(out.get(key), dict) and isinstance(out.get("type"), list):
            # A nullable object or array must be the object or array, or there is nothing inside to break.
            out["type"] = [kind for kind in out["type"] if kind != "null"]
    if isinstance(out.get("properties"), dict) and out["properties"]:
        out["required"] = sorted({*out.get("required", []), *out["properties"]})
    if isinstance(out.get("additionalProperties"), dict):
        out["properties"] = {**out.get("properties", {}), "k": out["additionalProperties"]}
        out["required"] = sorted({*out.get("required", []), "k"})
    if isinstance(out.get("items"), dict):
        out["minItems"] = max(out.get("minItems", 0), 1)
    return out


@cache
def _strategy(name: str, strict: bool, full: bool) -> st.SearchStrategy[Any]:
    schema = _unconditional(resolved(name, strict))
    if name != "model" and name != "error":
        # A few models per list are enough to break one clause, and keep generation fast.
        schema = {"allOf": [schema, {"properties": {"data": {"maxItems": 2}}}]}
    return from_schema(_full(schema) if full else schema).map(_conform)


@cache
def _error_branch(branch: str) -> st.SearchStrategy[Any]:
    """Error bodies of one documented shape, every field present."""
    contract = _contract()
    root = {k: v for k, v in contract.documents["error.schema.json"].items() if k != "anyOf"}
    resolver = contract.registry.resolver(BASE_URI + "error.schema.json")
    shape = _inline({"allOf": [root, {"$ref": f"#/$defs/{branch}"}]}, resolver)
    return from_schema(_full(shape))


def _types(value: Any) -> set[str]:
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer", "number"}
    kinds = {float: "number", str: "string", list: "array", dict: "object", type(None): "null"}
    return {kinds[type(value)]}


def _break(instance: Any, site: Site) -> Any:
    """``instance`` with only ``site``'s clause broken."""
    broken = copy.deepcopy(instance)
    *parents, last = site.path or (None,)
    holder = _at(broken, tuple(parents)) if site.path else None
    if site.keyword == "type":
        allowed = {site.value} if isinstance(site.value, str) else set(site.value)
        candidates: tuple[Any, ...] = ("x", 7, 7.5, True, None, [], {})
        bad = next(v for v in candidates if not _types(v) & allowed)
        if holder is None:
            return bad
        holder[last] = bad
    elif site.keyword in ("enum", "const"):
        holder[last] = _BAD_ENUM  # type: ignore[index]
    elif site.keyword == "required":
        # The last required name: the first may be required by an enclosing schema too (error is, at the root).
        del _at(broken, site.path)[site.value[-1]]
    elif site.keyword == "unevaluatedProperties":
        _at(broken, site.path)[_UNKNOWN] = 1
    return broken


@pytest.mark.parametrize(("name", "strict"), VARIANTS, ids=[f"{'strict ' if s else ''}{n}" for n, s in VARIANTS])
@PROPERTY_SETTINGS
@given(data=st.data())
def test_every_generated_instance_conforms(name: str, strict: bool, data: st.DataObject) -> None:
    instance = data.draw(_strategy(name, strict, False))
    assert _contract().violations(name, instance, strict=strict) == []


def test_every_kind_of_clause_has_sites() -> None:
    keywords = {site.keyword for site in ALL_SITES}
    # const sits only in the conditional rules and the error shapes, which have tests of their own below.
    assert keywords == {"type", "enum", "required", "unevaluatedProperties"}
    assert len(ALL_SITES) > 60


def _misnamed(contract: str, strict: bool, instance: Any, chosen: list[Site]) -> list[str]:
    """Each site whose broken instance is not rejected naming exactly that site's clause, with what was named."""
    wrong = []
    for site in chosen:
        named = {v.clause for v in _contract().violations(contract, _break(instance, site), strict=strict)}
        if named != {site.clause}:
            wrong.append(f"{site.id}: named {sorted(named)}")
    return wrong


# One generated instance (every field present) serves every clause of its contract: one draw, many mutations.
@pytest.mark.parametrize(("name", "strict"), VARIANTS, ids=[f"{'strict ' if s else ''}{n}" for n, s in VARIANTS])
@PROPERTY_SETTINGS
@given(data=st.data())
def test_breaking_any_one_clause_of_a_generated_instance_names_that_clause(
    name: str, strict: bool, data: st.DataObject
) -> None:
    instance = data.draw(_strategy(name, strict, True))
    assert _contract().violations(name, instance, strict=strict) == []
    assert _misnamed(name, strict, instance, sites(name, strict)) == []


@pytest.mark.parametrize(("clause", "edit"), [("owned_by", "vendor"), ("deployments", [{"status": "active"}])])
@PROPERTY_SETTINGS
@given(data=st.data())
def test_a_generated_base_model_breaking_a_conditional_rule_names_that_rule(
    clause: str, edit: Any, data: st.DataObject
) -> None:
    base = {"required": ["model_type"], "properties": {"model_type": {"const": "base"}}}
    instance = data.draw(from_schema({"allOf": [_unconditional(resolved("model")), base]}).map(_conform))
    instance[clause] = edit
    rule = "baseModelIsOwnedByOxen/then/properties/owned_by/const"
    if clause == "deployments":
        rule = "baseModelHasNoDeployments/then/properties/deployments/maxItems"
    assert {v.clause for v in _contract().violations("model", instance)} == {f"model.schema.json#/$defs/{rule}"}


@PROPERTY_SETTINGS
@given(data=st.data())
def test_an_unknown_field_is_rejected_by_strict_and_accepted_by_default(data: st.DataObject) -> None:
    instance = data.draw(_strategy("model", True, False))
    instance[_UNKNOWN] = {"anything": 1}
    assert _contract().violations("model", instance) == []
    clauses = {v.clause for v in _contract().violations("model", instance, strict=True)}
    assert clauses == {"strict.schema.json#/$defs/model/unevaluatedProperties"}


ERROR_SHAPE_SITES = [
    (branch, Site("error", False, clause, keyword, value, path))
    for branch in ("typedError", "messageError")
    for clause, keyword, value, path in _sites("error.schema.json", ("$defs", branch), ())
]


@pytest.mark.parametrize("branch", ["typedError", "messageError"])
@PROPERTY_SETTINGS
@given(data=st.data())
def test_breaking_any_one_clause_of_a_generated_error_shape_names_that_clause(branch: str, data: st.DataObject) -> None:
    instance = data.draw(_error_branch(branch))
    assert _contract().violations("error", instance) == []
    chosen = [site for shape, site in ERROR_SHAPE_SITES if shape == branch]
    assert _misnamed("error", False, instance, chosen) == []
