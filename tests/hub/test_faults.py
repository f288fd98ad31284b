"""Every fault changes exactly what its catalog line says, and nothing else.

One scenario touches every operation and every kind of answer. It runs on a deterministic hub without faults and on
one with the fault; the steps listed for the fault must differ, and every other step must answer byte for byte the
same. A second check per fault says how the listed steps differ.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from oxen_contract.hub import FAULTS, LocalHub, create_app
from oxen_contract.hub.faults import FAULTS_BY_NAME, Fault, UnknownFaultError, resolve

from ._fault_expectations import DIFFERING, HOW, answer_json
from ._fault_scenario import BASELINE, LENIENCIES, run_scenario
from ._helpers import ALICE, DEPLOY, MODELS, TOKENS, HubClient, model_path


def test_the_catalog_has_enough_faults_and_every_benign_variant() -> None:
    assert len([fault for fault in FAULTS if not fault.benign]) >= 24
    assert len(FAULTS_BY_NAME) == len(FAULTS)
    assert {fault.name for fault in FAULTS if fault.benign} >= {
        "extra-fields",
        "optional-fields-absent",
        "nullable-fields-null",
        "error-shape-message",
        "refusal-403",
        "refusal-404",
        "refusal-409",
        "every-deployment-status",
        "dotted-ids",
        "reverse-order",
    }


def test_every_fault_has_an_expectation_here() -> None:
    assert set(DIFFERING) == set(FAULTS_BY_NAME) == set(HOW)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.name)
def test_fault_changes_exactly_the_steps_its_line_names(fault: Fault) -> None:
    steps = run_scenario(fault.name)
    assert steps.keys() == BASELINE.keys()
    differing = {label for label in steps if steps[label] != BASELINE[label]}
    assert differing == DIFFERING[fault.name]
    assert HOW[fault.name](steps), fault.line()


@pytest.mark.parametrize("fault", [fault for fault in FAULTS if fault.benign], ids=lambda fault: fault.name)
def test_benign_variants_never_answer_a_5xx(fault: Fault) -> None:
    assert all(answer[0] < 500 for answer in run_scenario(fault.name).values())


def test_a_delete_of_an_odd_unknown_id_answers_500() -> None:
    client = HubClient(create_app(TOKENS, ["delete-of-odd-id-answers-500"], deterministic=True))
    try:
        for odd in ("  padded id  ", "模型-ünïcødé", "a/b?c#d%e&f=g+h", "nul\x00byte"):
            assert client.get(model_path(odd), headers=ALICE).status_code == 404
            answer = client.delete(model_path(odd), headers=ALICE)
            assert (answer.status_code, answer.json()["error"]["type"]) == (500, "unknown_error")
        for plain in ("no-such-model", "alice:sandbox/ft-1-does-not-exist", "not.a.model.v1"):
            assert client.delete(model_path(plain), headers=ALICE).status_code == 404
    finally:
        client.app.state.store.close()


def test_a_search_with_an_empty_term_lists_all_under_the_leniency() -> None:
    app = create_app(TOKENS, ["benign-search-without-term-lists-all"], deterministic=True)
    try:
        client = HubClient(app)
        listed = client.get(MODELS, headers=ALICE).json()
        assert client.get(f"{MODELS}/search?search=", headers=ALICE).json() == listed
        assert listed["object"] == "list" and listed["data"]
    finally:
        app.state.store.close()


def test_the_invalid_query_fault_joins_both_leniencies_and_nothing_else() -> None:
    strict = FAULTS_BY_NAME["invalid-query-accepted"]
    assert strict.kind == "strict-only"
    leniencies = {FAULTS_BY_NAME[name].switches for name in LENIENCIES}
    assert strict.switches == frozenset().union(*leniencies)
    assert all(FAULTS_BY_NAME[name].kind == "benign" for name in LENIENCIES)


def test_a_fault_is_at_most_one_kind() -> None:
    with pytest.raises(ValueError, match="at most one of"):
        Fault("both", "rule", "effect", benign=True, strict_only=True)
    with pytest.raises(ValueError, match="at most one of"):
        Fault("both", "rule", "effect", hostile=True, outage=True)
    assert Fault("down", "rule", "effect", outage=True).kind == "outage"


def test_a_rate_limited_search_answers_429_with_retry_after_before_the_key_is_looked_at() -> None:
    client = HubClient(create_app(TOKENS, ["search-rate-limited"], deterministic=True))
    try:
        for headers in (ALICE, {}, {"Authorization": "Bearer nope"}):
            answer = client.get(f"{MODELS}/search?search=gpt", headers=headers)
            assert (answer.status_code, answer.headers["retry-after"]) == (429, "0")
        # Only search: the list (the suite's health probe) and retrieve answer as ever.
        assert client.get(MODELS, headers=ALICE).status_code == 200
        assert client.get(model_path("gpt-4o"), headers=ALICE).status_code == 200
    finally:
        client.app.state.store.close()


def test_undecodable_bodies_fail_a_strict_parser_each_its_own_way() -> None:
    steps = run_scenario("search-body-nested-too-deep", "activate-body-holds-nan", "deactivate-body-not-utf8")
    with pytest.raises(RecursionError):
        json.loads(steps["search"][3])
    strict = {"parse_constant": lambda name: pytest.fail(f"{name} is no JSON")}
    with pytest.raises(pytest.fail.Exception, match="NaN is no JSON"):
        json.loads(steps["activate-custom"][3], **strict)
    with pytest.raises(UnicodeDecodeError):
        steps["deactivate-custom"][3].decode("utf-8")
    # Otherwise each is the answer it was: a lenient reading finds the model, or the list, as without the fault.
    assert json.loads(steps["activate-custom"][3])["id"] == answer_json(BASELINE["activate-custom"])["id"]
    lenient = json.loads(steps["deactivate-custom"][3].decode("latin-1"))
    assert lenient["description"] == "Modèle" and lenient["id"] == answer_json(BASELINE["deactivate-custom"])["id"]


def test_faults_combine() -> None:
    steps = run_scenario("extra-fields", "delete-missing-created")
    deleted = answer_json(steps["delete"])
    assert "created" not in deleted and "x_hub_rank" in deleted


def test_an_unknown_fault_name_is_refused() -> None:
    with pytest.raises(UnknownFaultError, match="no-such-fault"):
        resolve(["no-such-fault"])


def test_a_fault_defined_outside_the_catalog_can_be_injected() -> None:
    custom = Fault("delete-summary", "model.summary is a string or null", "summary is 3", ops=frozenset({"delete"}))
    custom = Fault(custom.name, custom.clause, custom.effect, ops=custom.ops, model=lambda m: {**m, "summary": 3})
    assert answer_json(run_scenario(custom)["delete"])["summary"] == 3


def test_delete_hangs_while_other_routes_answer() -> None:
    with LocalHub(TOKENS, ["delete-hangs"], hang_seconds=3600) as hub, httpx.Client(base_url=hub.url) as client:
        model_id = client.post(DEPLOY.format(owner="alice"), headers=ALICE).json()["deployment"]["model_slug"]
        outcome: list[str] = []

        def delete() -> None:
            try:
                httpx.delete(hub.url + model_path(model_id), headers=ALICE, timeout=1.0)
                outcome.append("answered")
            except httpx.TimeoutException:
                outcome.append("timed out")

        worker = threading.Thread(target=delete)
        started = time.monotonic()
        worker.start()
        assert client.get(MODELS, headers=ALICE).status_code == 200
        assert client.get(model_path(model_id), headers=ALICE).status_code == 200
        assert time.monotonic() - started < 1.0
        worker.join(timeout=10)
        assert outcome == ["timed out"]


def test_hang_seconds_bounds_the_hang() -> None:
    client = HubClient(create_app(TOKENS, ["delete-hangs"], hang_seconds=0.3))
    started = time.monotonic()
    assert client.delete(model_path("gpt-4o"), headers=ALICE).status_code == 400
    assert time.monotonic() - started >= 0.3
    client.app.state.store.close()
