"""The contract documents are well-formed: valid schemas, a valid OpenAPI document, and no dangling reference."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing.exceptions import Unresolvable

from oxen_contract.checking.contracts import BASE_URI, SCHEMA_FILES, Contract


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_valid_against_its_meta_schema(contract: Contract, name: str) -> None:
    document = contract.documents[name]
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(document)


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_has_no_id_so_tools_resolve_refs_beside_it(contract: Contract, name: str) -> None:
    # With an $id, schemathesis resolved `model.schema.json` against it and tried to fetch it over the network.
    assert "$id" not in contract.documents[name]


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_every_ref_in_a_schema_resolves(contract: Contract, name: str) -> None:
    resolver = contract.registry.resolver(BASE_URI + name)
    refs = _refs(contract.documents[name])
    for ref in refs:
        try:
            resolver.lookup(ref)
        except Unresolvable as error:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{name}: $ref {ref!r} does not resolve: {error}")


def test_openapi_document_passes_openapi_spec_validator(contract: Contract) -> None:
    validate(contract.openapi(), base_uri=contract.openapi_path.as_uri())


def test_every_ref_in_the_openapi_document_resolves_to_a_contract(contract: Contract) -> None:
    document = contract.openapi()
    refs = _refs(document)
    assert any(not ref.startswith("#") for ref in refs), "openapi.yaml must reference the schema files"
    for ref in refs:
        target, _, fragment = ref.partition("#")
        if target:
            uri = urljoin(BASE_URI + target, "#" + fragment)
            contract.registry.resolver().lookup(uri)
        else:
            node: Any = document
            for part in fragment.lstrip("/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]


def test_openapi_document_copies_no_schema(contract: Contract) -> None:
    # Response bodies come from the schema files by $ref; an inline copy would drift from them.
    for path_item in contract.openapi()["paths"].values():
        for operation in (value for key, value in path_item.items() if key != "parameters"):
            for response in operation["responses"].values():
                for media in response.get("content", {}).values():
                    assert set(media["schema"]) == {"$ref"}


def test_openapi_document_covers_the_models_operations_and_both_deploy_routes(contract: Contract) -> None:
    operations = {
        (method.upper(), path)
        for path, item in contract.openapi()["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert operations == {
        ("GET", "/api/ai/models"),
        ("GET", "/api/ai/models/search"),
        ("GET", "/api/ai/models/{id}"),
        ("DELETE", "/api/ai/models/{id}"),
        ("POST", "/api/ai/models/{id}/activate"),
        ("POST", "/api/ai/models/{id}/deactivate"),
        ("POST", "/api/repos/{owner}/{repo}/fine_tunes/{fine_tune_id}/deploy"),
        ("POST", "/api/repos/{namespace}/{repo_name}/fine_tunes/{id}/checkpoints/{step}/deploy"),
    }


def test_every_models_operation_documents_401_with_the_error_body(contract: Contract) -> None:
    document = contract.openapi()
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for item in document["paths"].values():
        for method, operation in item.items():
            if method != "parameters":
                assert operation["responses"]["401"] == {"$ref": "#/components/responses/Unauthenticated"}
    unauthenticated = document["components"]["responses"]["Unauthenticated"]
    assert unauthenticated["content"]["application/json"]["schema"] == {"$ref": "error.schema.json"}
