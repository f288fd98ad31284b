"""tally.py: worker tallies merged in a fixed order report what one process fed the same events would."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from oxen_contract.checking.contracts import load_contract
from oxen_contract.checking.exchange import Credential, Exchange, model_path
from oxen_contract.checking.tally import _OPEN_VALUES, Tally, _named_fields, _present_fields, _unknown_fields

CONTRACT = load_contract()
# Few clauses, ids and requests, so that the events repeat failures and sightings often.
CLAUSES = ("rule:documented-status", "rule:deleted-model-is-gone", "model.schema.json#/required")

_models = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["m1", "m2", "m3", "m4", "m5"]),
        "object": st.just("model"),
        "created": st.just(1),
        "owned_by": st.just("oxen"),
        "capabilities": st.fixed_dictionaries(
            {"input": st.lists(st.sampled_from(["text", "audio", "image"]), max_size=2)},
            optional={"beta": st.just(True)},
        ),
    },
    optional={"extra_field": st.just(1), "developer": st.fixed_dictionaries({"name": st.sampled_from(["oxen", "x"])})},
)
_validations = st.one_of(
    st.tuples(st.just("validated"), st.just("model"), st.booleans(), _models),
    st.tuples(
        st.just("validated"),
        st.just("model-list"),
        st.booleans(),
        st.fixed_dictionaries({"object": st.just("list"), "data": st.lists(_models, max_size=3)}),
    ),
)


def _exchange(method: str, model_id: str, status: int) -> Exchange:
    return Exchange(
        operation="deleteModel" if method == "DELETE" else "retrieveModel",
        method=method,
        url=f"http://hub.test{model_path(model_id)}",
        path=model_path(model_id),
        model_id=model_id,
        credential=Credential.KEY,
        status=status,
        headers={"content-type": "application/json"},
        text="{}",
    )


_exchanges = st.builds(_exchange, st.sampled_from(["GET", "DELETE"]), st.sampled_from(["m1", "m2"]), st.just(404))
_events = st.one_of(
    st.tuples(st.just("rule"), st.sampled_from(CLAUSES)),
    _validations,
    st.tuples(st.just("failed"), _exchanges, st.sampled_from(CLAUSES), st.sampled_from(["first", "second"])),
)
_event_lists = st.lists(_events, max_size=25)


def _fed(events: list[tuple[Any, ...]]) -> Tally:
    tally = Tally(CONTRACT)
    for event in events:
        match event:
            case ("rule", clause):
                tally.rule(clause)
            case ("validated", contract_name, strict, body):
                tally.validated(contract_name, strict, body)
            case ("failed", exchange, clause, actual):
                # As the Verifier does: a clause is counted as checked before it is reported broken.
                tally.rule(clause)
                tally.failed(exchange, clause, "expected", actual, "/id")
    return tally


def _through_json(data: dict[str, Any]) -> dict[str, Any]:
    """What the controller receives: workeroutput crosses a process boundary."""
    loaded: dict[str, Any] = json.loads(json.dumps(data))
    return loaded


@given(first=_event_lists, second=_event_lists)
def test_two_workers_merged_in_order_report_what_one_process_fed_all_events_reports(
    first: list[tuple[Any, ...]], second: list[tuple[Any, ...]]
) -> None:
    merged = Tally(CONTRACT)
    merged.merge(_through_json(_fed(first).to_json()))
    merged.merge(_through_json(_fed(second).to_json()))
    assert merged.to_json() == _fed(first + second).to_json()


@given(events=_event_lists)
def test_a_snapshot_survives_a_json_round_trip(events: list[tuple[Any, ...]]) -> None:
    snapshot = _fed(events).to_json()
    assert _through_json(snapshot) == snapshot


@given(events=_event_lists)
def test_merging_an_empty_snapshot_changes_nothing(events: list[tuple[Any, ...]]) -> None:
    tally = _fed(events)
    before = tally.to_json()
    tally.merge(Tally(CONTRACT).to_json())
    tally.merge({})
    assert tally.to_json() == before


def test_a_failure_two_workers_both_saw_is_reported_once_as_the_first_worker_saw_it() -> None:
    exchange = _exchange("DELETE", "m1", 404)
    workers = [_fed([("failed", exchange, "rule:deleted-model-is-gone", actual)]) for actual in ("first", "second")]
    merged = Tally(CONTRACT)
    for worker in workers:
        merged.merge(worker.to_json())
    assert [failure["actual"] for failure in merged.failures] == ["first"]
    assert merged.broken["rule:deleted-model-is-gone"] == 1
    assert merged.checked["rule:deleted-model-is-gone"] == 2


def _drift_one_model_at_a_time(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """The drift report as counted before models were remembered: each model of each answer walked on its own."""
    tally = Tally(CONTRACT)
    known = _named_fields(CONTRACT.documents["model.schema.json"])
    for body in answers:
        for model in [item for item in body["data"] if isinstance(item, dict)]:
            model_id = model.get("id") if isinstance(model.get("id"), str) else None
            for where in _unknown_fields(model, "", known):
                tally.unknown_fields[where].saw(model_id)
            tally.seen_fields |= _present_fields(model, "", known)
            for label, (parent, member) in _OPEN_VALUES:
                container = model.get(parent)
                values = container.get(member) if isinstance(container, dict) else None
                for value in values if isinstance(values, list) else [values]:
                    if isinstance(value, str):
                        tally.open_values[label][value].saw(model_id)
    snapshot = tally.to_json()
    return {key: snapshot[key] for key in ("unknown_fields", "open_values", "seen_fields")}


_list_answers = st.lists(
    st.fixed_dictionaries({"object": st.just("list"), "data": st.lists(st.one_of(_models, st.just(3)), max_size=6)}),
    max_size=6,
)


@given(answers=_list_answers)
def test_a_model_repeated_in_many_answers_counts_in_the_drift_report_once_per_answer_as_before(
    answers: list[dict[str, Any]],
) -> None:
    tally = Tally(CONTRACT)
    for body in answers:
        tally.validated("model-list", False, body)
    snapshot = tally.to_json()
    assert {key: snapshot[key] for key in ("unknown_fields", "open_values", "seen_fields")} == (
        _drift_one_model_at_a_time(answers)
    )
    # Counters: a clause checked no time is one not counted.
    assert Counter(snapshot["checked"]) == Counter(dict.fromkeys(CONTRACT.clauses("model-list", False), len(answers)))
