"""Every clause of contracts/SOURCES.md rejects an instance that breaks it, and only it.

The table in SOURCES.md is the list of clauses; the cases below are the hand-written violations. A clause added to
SOURCES.md without a case here fails ``test_every_schema_clause_has_a_violation_case``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from oxen_contract.checking.contracts import Contract, load_contract

from .instances import BASE_MODEL, CUSTOM_MODEL

DROP = object()


def _edit(instance: Any, pointer: str, value: Any) -> Any:
    if pointer == "":
        return value
    *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in pointer.lstrip("/").split("/")]
    target = instance
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key: Any = int(last) if isinstance(target, list) else last
    if value is DROP:
        del target[key]
    else:
        target[key] = value
    return instance


@dataclass(frozen=True)
class Case:
    clause: str
    edits: dict[str, Any]
    contract: str = "model"
    start: Any = field(default_factory=lambda: CUSTOM_MODEL)
    strict: bool = False
    # Where the violation is reported, when that is not the clause itself (a $ref row names the referenced clause).
    reported_as: str | None = None

    def instance(self) -> Any:
        broken = copy.deepcopy(self.start)
        for pointer, value in self.edits.items():
            broken = _edit(broken, pointer, value)
        return broken

    @property
    def id(self) -> str:
        return f"{self.clause} {'strict ' if self.strict else ''}{sorted(self.edits)}"


M = "model.schema.json#"


def _cost_fields() -> tuple[str, ...]:
    # Read from the contract, not copied: a price field added there with the cost clause is broken here too.
    schema = load_contract().documents["model.schema.json"]
    pricing = schema["$defs"]["pricing"]["properties"]
    return tuple(name for name, node in pricing.items() if node.get("$ref") == "#/$defs/cost")


COST_FIELDS = _cost_fields()
L = "model-list.schema.json#"
E = "error.schema.json#"
D = "deploy.schema.json#"
S = "strict.schema.json#"
LIST = {"object": "list", "data": [CUSTOM_MODEL, BASE_MODEL]}
TYPED_ERROR = {
    "error": {"type": "resource_not_found", "title": "Model not found", "detail": "Model not found: x"},
    "status": "error",
    "status_message": "resource_not_found",
}
MESSAGE_ERROR = {"error": {"message": "Model not found: bad-model-name"}}
FT_DEPLOY = {"deployment": {"model_slug": "oxen:tutorials/x-1", "status": "deploying", "endpoint": "https://h/api"}}
CP_DEPLOY = {"deployment_id": "d-1", "fine_tune": {"id": "ft-1"}, "model": CUSTOM_MODEL, "status": "ok"}

CASES = [
    Case(f"{M}/type", {"": [CUSTOM_MODEL]}),
    *(Case(f"{M}/required", {f"/{name}": DROP}) for name in ("created", "id", "object", "owned_by")),
    Case(f"{M}/properties/created/type", {"/created": "1767225600"}),
    Case(f"{M}/properties/created/type", {"/created": 1767225600.5}),
    Case(f"{M}/properties/id/type", {"/id": 17}),
    Case(f"{M}/properties/object/enum", {"/object": "models"}),
    Case(f"{M}/properties/owned_by/type", {"/owned_by": None}),
    Case(f"{M}/properties/capabilities/type", {"/capabilities": ["text"]}),
    Case(f"{M}/properties/capabilities/properties/input/type", {"/capabilities/input": "text"}),
    Case(f"{M}/properties/capabilities/properties/input/items/type", {"/capabilities/input/0": 1}),
    Case(f"{M}/properties/capabilities/properties/output/type", {"/capabilities/output": {"text": True}}),
    Case(f"{M}/properties/capabilities/properties/output/items/type", {"/capabilities/output/0": None}),
    Case(f"{M}/properties/deployments/type", {"/deployments": {"status": "active"}}),
    Case(f"{M}/$defs/deployment/type", {"/deployments/0": "active"}),
    Case(f"{M}/$defs/deployment/properties/status/enum", {"/deployments/0/status": "running"}),
    Case(f"{M}/properties/description/type", {"/description": 3}),
    Case(f"{M}/properties/developer/type", {"/developer": "alice"}),
    Case(f"{M}/properties/developer/properties/name/type", {"/developer/name": None}),
    Case(f"{M}/properties/developer/properties/logo/type", {"/developer/logo": 1}),
    Case(f"{M}/properties/display_name/type", {"/display_name": None}),
    Case(f"{M}/properties/endpoint/enum", {"/endpoint": "/audio/speech"}),
    Case(f"{M}/properties/fine_tuning/type", {"/fine_tuning": True}),
    Case(f"{M}/properties/fine_tuning/properties/actions/type", {"/fine_tuning/actions": None}),
    Case(f"{M}/properties/fine_tuning/properties/actions/items/type", {"/fine_tuning/actions/0": {}}),
    Case(f"{M}/properties/fine_tuning/properties/cost_per_second/type", {"/fine_tuning/cost_per_second": "0.01"}),
    Case(f"{M}/properties/image_url/type", {"/image_url": ["x"]}),
    Case(f"{M}/properties/model_type/enum", {"/model_type": "fine_tuned"}),
    Case(f"{M}/$defs/pricing/type", {"/pricing": None}),
    Case(f"{M}/$defs/pricing/properties/method/enum", {"/pricing/method": "per_token"}),
    *(Case(f"{M}/$defs/cost/type", {f"/pricing/{name}": "0.1"}) for name in COST_FIELDS),
    Case(f"{M}/$defs/pricing/properties/cost_per_image_grid/type", {"/pricing/cost_per_image_grid": 1.47}),
    Case(
        f"{M}/$defs/pricing/properties/cost_per_image_grid/additionalProperties/type",
        {"/pricing/cost_per_image_grid/high": 1.47},
    ),
    Case(
        f"{M}/$defs/pricing/properties/cost_per_image_grid/additionalProperties/additionalProperties/type",
        {"/pricing/cost_per_image_grid/high/4K": "1.47"},
    ),
    Case(
        f"{M}/$defs/pricing/properties/cost_per_second_by_resolution/type",
        {"/pricing/cost_per_second_by_resolution": [0.096]},
    ),
    Case(
        f"{M}/$defs/pricing/properties/cost_per_second_by_resolution/additionalProperties/type",
        {"/pricing/cost_per_second_by_resolution/480p": None},
    ),
    Case(f"{M}/properties/released_at/type", {"/released_at": 1750291200}),
    Case(f"{M}/properties/request_schema/type", {"/request_schema": "{}"}),
    Case(f"{M}/$defs/showcase/type", {"/showcase": []}),
    Case(f"{M}/$defs/showcase/properties/gallery/type", {"/showcase/gallery": None}),
    Case(f"{M}/$defs/showcaseItem/type", {"/showcase/gallery/0": "https://example.test/1.png"}),
    Case(f"{M}/$defs/showcaseItem/required", {"/showcase/gallery/0/src": DROP}),
    Case(f"{M}/$defs/showcaseItem/required", {"/showcase/gallery/0/alt": DROP}),
    *(
        Case(f"{M}/$defs/showcaseItem/properties/{name}/type", {f"/showcase/gallery/0/{name}": 5})
        for name in ("src", "alt", "category", "details", "prompt", "title")
    ),
    Case(f"{M}/$defs/showcase/properties/hero_image/type", {"/showcase/hero_image": 5}),
    Case(f"{M}/$defs/showcase/properties/tagline/type", {"/showcase/tagline": 5}),
    Case(f"{M}/properties/source_model/type", {"/source_model": 5}),
    Case(f"{M}/properties/summary/type", {"/summary": 5}),
    Case(f"{M}/$defs/baseModelIsOwnedByOxen/then/properties/owned_by/const", {"/owned_by": "alice"}, start=BASE_MODEL),
    Case(
        f"{M}/$defs/baseModelHasNoDeployments/then/properties/deployments/maxItems",
        {"/deployments": [{"status": "active"}]},
        start=BASE_MODEL,
    ),
    # list and search answers
    Case(f"{L}/type", {"": [CUSTOM_MODEL]}, contract="model-list", start=LIST),
    Case(f"{L}/required", {"/object": DROP}, contract="model-list", start=LIST),
    Case(f"{L}/required", {"/data": DROP}, contract="model-list", start=LIST),
    Case(f"{L}/properties/object/enum", {"/object": "models"}, contract="model-list", start=LIST),
    Case(f"{L}/properties/data/type", {"/data": CUSTOM_MODEL}, contract="model-list", start=LIST),
    Case(
        f"{L}/properties/data/items/$ref",
        {"/data/1/created": DROP},
        contract="model-list",
        start=LIST,
        reported_as=f"{M}/required",
    ),
    Case(f"{L}/$defs/searchAnswer/type", {"": "[]"}, contract="search-answer", start=LIST),
    Case(f"{L}/$defs/searchAnswer/required", {"/data": DROP}, contract="search-answer", start=LIST),
    Case(
        f"{L}/$defs/searchAnswer/required",
        {"/object": "models"},
        contract="search-answer",
        start=LIST,
        reported_as=f"{L}/properties/object/enum",
    ),
    # errors
    Case(f"{E}/type", {"": "Model not found"}, contract="error", start=TYPED_ERROR),
    Case(f"{E}/required", {"": {"detail": "Model not found: x"}}, contract="error", start=TYPED_ERROR),
    Case(f"{E}/properties/error/type", {"/error": "Model not found: x"}, contract="error", start=MESSAGE_ERROR),
    Case(f"{E}/$defs/typedError/required", {"/status": DROP}, contract="error", start=TYPED_ERROR),
    Case(f"{E}/$defs/typedError/required", {"/status_message": DROP}, contract="error", start=TYPED_ERROR),
    Case(
        f"{E}/$defs/typedError/properties/error/required", {"/error/title": DROP}, contract="error", start=TYPED_ERROR
    ),
    Case(f"{E}/$defs/typedError/properties/error/required", {"/error/type": DROP}, contract="error", start=TYPED_ERROR),
    Case(
        f"{E}/$defs/typedError/properties/error/properties/type/type",
        {"/error/type": 404},
        contract="error",
        start=TYPED_ERROR,
    ),
    Case(
        f"{E}/$defs/typedError/properties/error/properties/title/type",
        {"/error/title": None},
        contract="error",
        start=TYPED_ERROR,
    ),
    Case(
        f"{E}/$defs/typedError/properties/error/properties/detail/type",
        {"/error/detail": ["Model not found: x"]},
        contract="error",
        start=TYPED_ERROR,
    ),
    Case(f"{E}/$defs/typedError/properties/status/const", {"/status": "failed"}, contract="error", start=TYPED_ERROR),
    Case(
        f"{E}/$defs/typedError/properties/status_message/type",
        {"/status_message": 404},
        contract="error",
        start=TYPED_ERROR,
    ),
    Case(f"{E}/$defs/messageError/properties/error/required", {"/error": {}}, contract="error", start=MESSAGE_ERROR),
    Case(
        f"{E}/$defs/messageError/properties/error/properties/message/type",
        {"/error/message": 404},
        contract="error",
        start=MESSAGE_ERROR,
    ),
    # deploy answers
    Case(f"{D}/$defs/fineTuneDeployAnswer/type", {"": []}, contract="fine-tune-deploy", start=FT_DEPLOY),
    Case(
        f"{D}/$defs/fineTuneDeployAnswer/properties/deployment/type",
        {"/deployment": "oxen:tutorials/x-1"},
        contract="fine-tune-deploy",
        start=FT_DEPLOY,
    ),
    *(
        Case(
            f"{D}/$defs/fineTuneDeployAnswer/properties/deployment/properties/{name}/type",
            {f"/deployment/{name}": 1},
            contract="fine-tune-deploy",
            start=FT_DEPLOY,
        )
        for name in ("model_slug", "status", "endpoint")
    ),
    Case(f"{D}/$defs/checkpointDeployAnswer/type", {"": None}, contract="checkpoint-deploy", start=CP_DEPLOY),
    Case(
        f"{D}/$defs/checkpointDeployAnswer/properties/fine_tune/type",
        {"/fine_tune": "ft-1"},
        contract="checkpoint-deploy",
        start=CP_DEPLOY,
    ),
    Case(
        f"{D}/$defs/checkpointDeployAnswer/properties/model/$ref",
        {"/model/object": "models"},
        contract="checkpoint-deploy",
        start=CP_DEPLOY,
        reported_as=f"{M}/properties/object/enum",
    ),
    # strict variant: an unknown field where the default allows it
    Case(f"{S}/$defs/model/unevaluatedProperties", {"/json_request_schema": {}}, strict=True),
    *(
        Case(f"{S}/$defs/model/properties/{pointer}/unevaluatedProperties", {f"/{path}/extra": 1}, strict=True)
        for pointer, path in (
            ("capabilities", "capabilities"),
            ("deployments/items", "deployments/0"),
            ("developer", "developer"),
            ("fine_tuning", "fine_tuning"),
            ("pricing", "pricing"),
            ("showcase", "showcase"),
            ("showcase/properties/gallery/items", "showcase/gallery/0"),
        )
    ),
    Case(
        f"{S}/$defs/modelList/unevaluatedProperties",
        {"/has_more": False},
        contract="model-list",
        start=LIST,
        strict=True,
    ),
    Case(
        f"{S}/$defs/searchAnswer/$ref",
        {"/object": DROP},
        contract="search-answer",
        start=LIST,
        strict=True,
        reported_as=f"{L}/required",
    ),
]


def _documented_clauses() -> list[str]:
    text = (load_contract().directory / "SOURCES.md").read_text(encoding="utf-8")
    return re.findall(r"^\| `([\w.-]+\.(?:json|yaml)#[^`]*)` \|", text, flags=re.MULTILINE)


SCHEMA_CLAUSES = [clause for clause in _documented_clauses() if ".json#" in clause]
OPENAPI_CLAUSES = [clause for clause in _documented_clauses() if clause.startswith("openapi.yaml#")]


def test_sources_lists_the_clauses() -> None:
    assert len(SCHEMA_CLAUSES) > 80
    assert len(SCHEMA_CLAUSES) == len(set(SCHEMA_CLAUSES)), "a clause is listed twice in SOURCES.md"


@pytest.mark.parametrize("clause", SCHEMA_CLAUSES)
def test_every_schema_clause_has_a_violation_case(clause: str) -> None:
    assert any(case.clause == clause for case in CASES), f"SOURCES.md lists {clause} but no case breaks it"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_violation_is_rejected_and_names_only_its_clause(contract: Contract, case: Case) -> None:
    assert case.clause in SCHEMA_CLAUSES, f"{case.clause} is not a row of SOURCES.md"
    violations = contract.violations(case.contract, case.instance(), strict=case.strict)
    assert {violation.clause for violation in violations} == {case.reported_as or case.clause}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_unbroken_start_instance_conforms(contract: Contract, case: Case) -> None:
    # Without this, a case could "fail only its clause" because the start instance was broken already.
    assert contract.violations(case.contract, case.start, strict=case.strict) == []


@pytest.mark.parametrize("clause", OPENAPI_CLAUSES)
def test_openapi_document_states_each_operation_clause(contract: Contract, clause: str) -> None:
    node: Any = contract.openapi()
    for part in clause.partition("#")[2].lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    assert node not in (None, False, [], {})
