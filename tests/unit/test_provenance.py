"""provenance.py: the one rule that makes a model the run's, and the reconciliation window, rule by rule."""

from __future__ import annotations

import json
import time
from email.utils import formatdate
from typing import Any

import pytest

from oxen_contract.checking.exchange import Credential, Exchange, id_problem, model_path
from oxen_contract.checking.failures import ProvisioningError
from oxen_contract.disposables.provenance import (
    DeployEvidence,
    HubTime,
    created_of,
    deployed_id,
    is_ours,
    listed_models,
    not_ours,
    reconcile,
    shown_candidates,
    why_not_disposable,
    why_not_the_deploys,
)

NOW = 1_767_225_600
SKEW = 180.0
MINE = {
    "id": "alice:sandbox/ft-1-3",
    "object": "model",
    "created": NOW + 5,
    "owned_by": "alice",
    "model_type": "custom",
}
DEPLOY_PATH = "/api/repos/alice/sandbox/fine_tunes/ft-1/deploy"


def _answer(
    status: int,
    body: Any,
    path: str = model_path(MINE["id"]),
    *,
    operation: str = "retrieveModel",
    date: float | None = NOW + 10,
    **headers: str,
) -> Exchange:
    text = body if isinstance(body, str) else json.dumps(body)
    if date is not None:
        headers["date"] = formatdate(date, usegmt=True)
    if "date_header" in headers:
        headers["date"] = headers.pop("date_header")
    return Exchange(operation, "GET", f"https://hub.test{path}", path, None, Credential.KEY, status, headers, text)


def _evidence(**changes: Any) -> DeployEvidence:
    fields: dict[str, Any] = {
        "listed_before": frozenset({"gpt-4.1-mini"}),
        "sent_at": HubTime(NOW, True),
        "foreign": frozenset(),
        "skew": SKEW,
    }
    return DeployEvidence(**{**fields, **changes})


@pytest.mark.parametrize(
    ("model_id", "says"),
    [
        ("alice:sandbox/ft-1-3", None),
        ("alice:sandbox/ft-1.v2", None),
        (".", "not one path segment"),
        ("..", "not one path segment"),
        ("search", "not one path segment"),
        ("featured", "not one path segment"),
        ("", "no id"),
        (None, "no id"),
        ("alice%3Asandbox%2Fft-1-prod", "holds a character outside"),
        ("alice:sandbox/ft-1?x", "holds a character outside"),
        ("alice:sandbox/ft-1#x", "holds a character outside"),
        ("alice:sandbox\\ft-1", "holds a character outside"),
        (" alice:sandbox/ft-1", "holds a character outside"),
        ("alice:sandbox/ft-1\n", "holds a character outside"),
        ("alice:sandbox/../ft-1-prod", "dot segment"),
        ("alice:sandbox/.", "dot segment"),
    ],
)
def test_an_id_is_deletable_only_as_one_segment_that_decodes_to_itself(model_id: Any, says: str | None) -> None:
    problem = id_problem(model_id)
    assert (problem is None) if says is None else (problem is not None and says in problem)


@pytest.mark.parametrize(
    ("model", "namespace", "ours"),
    [
        (MINE, "alice", True),
        ({key: value for key, value in MINE.items() if key != "model_type"}, "alice", True),
        (MINE, "bob", False),
        (MINE, None, False),
        ({**MINE, "model_type": "base"}, "alice", False),
        ({**MINE, "owned_by": "oxen"}, "oxen", False),
        ({**MINE, "id": 7}, "alice", False),
        ("not a model", "alice", False),
    ],
    ids=[
        "custom-of-namespace",
        "type-unstated",
        "other-namespace",
        "no-namespace",
        "base",
        "oxen",
        "no-id",
        "not-a-dict",
    ],
)
def test_a_model_is_ours_only_as_a_custom_model_of_the_namespace(model: Any, namespace: str | None, ours: bool) -> None:
    assert is_ours(model, namespace) == ours


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (_answer(200, MINE), None),
        (_answer(404, {"error": {}}), "retrieving it answered 404"),
        (_answer(200, {**MINE, "id": "alice:sandbox/ft-1-4"}), "did not answer that model"),
        (_answer(200, "not json"), "did not answer that model"),
        (_answer(200, {**MINE, "owned_by": "bob"}), "owned by 'bob' of type 'custom'"),
    ],
    ids=["ours", "gone", "another-model", "not-json", "another-owner"],
)
def test_a_retrieve_answer_says_why_the_model_is_not_ours(answer: Exchange, says: str | None) -> None:
    problem = not_ours(answer, MINE["id"], "alice")
    assert (problem is None) if says is None else (problem is not None and says in problem)


@pytest.mark.parametrize(
    ("model_id", "retrieved", "evidence", "says"),
    [
        (MINE["id"], _answer(200, MINE), _evidence(), None),
        # The hub's clock and its Date may disagree a little: within the skew, still the deploy's.
        (MINE["id"], _answer(200, {**MINE, "created": NOW - 170}), _evidence(), None),
        (MINE["id"], _answer(200, {**MINE, "created": NOW - 30 * 86400}), _evidence(), "before the deploy was sent"),
        (MINE["id"], _answer(200, {**MINE, "created": NOW - 181}), _evidence(), "before the deploy was sent"),
        (MINE["id"], _answer(200, {**MINE, "created": NOW + 10 + 181}), _evidence(), "after the hub's time"),
        (MINE["id"], _answer(200, {**MINE, "created": str(NOW)}), _evidence(), "not a Unix time"),
        (MINE["id"], _answer(200, {**MINE, "created": True}), _evidence(), "not a Unix time"),
        (MINE["id"], _answer(200, MINE), _evidence(listed_before=frozenset({MINE["id"]})), "already listed"),
        (MINE["id"], _answer(200, MINE), _evidence(foreign=frozenset({MINE["id"]})), "another run's ledger"),
        (MINE["id"], _answer(200, {**MINE, "owned_by": "bob"}), _evidence(), "owned by 'bob'"),
        ("alice%3Asandbox%2Fft-1-prod", _answer(200, MINE), _evidence(), "holds a character outside"),
    ],
    ids=[
        "proved",
        "within-the-skew",
        "a-month-old-model",
        "just-past-the-skew",
        "created-in-the-future",
        "created-a-string",
        "created-a-bool",
        "listed-before",
        "another-run-s",
        "another-namespace-s",
        "encoded-spelling",
    ],
)
def test_a_deploy_answer_s_model_is_the_run_s_only_when_every_rule_holds(
    model_id: str, retrieved: Exchange, evidence: DeployEvidence, says: str | None
) -> None:
    problem = why_not_the_deploys(model_id, retrieved, "alice", evidence)
    assert (problem is None) if says is None else (problem is not None and says in problem), problem


def test_a_given_disposable_model_needs_only_the_id_and_retrieve_rules() -> None:
    old = _answer(200, {**MINE, "created": 1})
    assert why_not_disposable(MINE["id"], old, "alice") is None
    assert "owned by 'bob'" in str(why_not_disposable(MINE["id"], _answer(200, {**MINE, "owned_by": "bob"}), "alice"))


def test_the_hub_s_time_is_its_date_header_or_the_run_s_clock_where_it_sends_none() -> None:
    assert HubTime.of(_answer(200, MINE, date=NOW)) == HubTime(NOW, True)
    assert HubTime.of(_answer(200, MINE, date=None), clock=lambda: 42.0) == HubTime(42.0, False)
    assert HubTime.of(_answer(200, MINE, date=None, date_header="yesterday"), clock=lambda: 7.0) == HubTime(7.0, False)
    assert HubTime.of(None, clock=lambda: 7.0) == HubTime(7.0, False)
    assert "the run's clock" in HubTime(7.0, False).describe()


def _model(model_id: str, created: Any, owner: str = "alice") -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": owner, "model_type": "custom"}


def test_reconciliation_places_new_custom_models_of_the_namespace_in_the_deploy_s_window() -> None:
    listed = [
        _model("alice:sandbox/ft-1-old", NOW - 30 * 86400),  # made long before
        _model("alice:sandbox/ft-1-9", NOW + 20),  # the deploy's
        _model("alice:sandbox/ft-1-later", NOW + 5000),  # made after the list read
        _model("bob:sandbox/ft-1-9", NOW + 20, owner="bob"),  # another namespace
        _model("alice:sandbox/ft-1-known", NOW + 20),  # named in a ledger
        _model("alice:sandbox/ft-1-listed", NOW + 20),  # listed before the deploy
        {"id": "gpt-4.1-mini", "object": "model", "created": NOW, "owned_by": "oxen", "model_type": "base"},
    ]
    found = reconcile(
        listed,
        "alice",
        snapshot=frozenset({"alice:sandbox/ft-1-listed"}),
        known=["alice:sandbox/ft-1-known"],
        start=HubTime(NOW, True),
        end=HubTime(NOW + 60, True),
        skew=SKEW,
    )
    assert [c.model_id for c in found.placed] == ["alice:sandbox/ft-1-9"]
    assert found.one is not None and found.one.model_id == "alice:sandbox/ft-1-9"
    assert found.window == (NOW - SKEW, NOW + 60 + SKEW)


@pytest.mark.parametrize(
    ("listed", "nothing"),
    [
        ([], True),
        ([_model("a:s/1", NOW + 1), _model("a:s/2", NOW + 2)], False),
        ([_model("a:s/1", NOW + 1), _model("a:s/2", "yesterday")], False),
        ([_model("a:s/2", None)], False),
    ],
    ids=["none", "two-in-the-window", "one-placed-one-not", "one-that-cannot-be-placed"],
)
def test_reconciliation_adopts_nothing_when_it_cannot_tell_which_model_is_the_deploy_s(
    listed: list[dict[str, Any]], nothing: bool
) -> None:
    found = reconcile(
        listed,
        "alice",
        snapshot=frozenset(),
        known=(),
        start=HubTime(NOW, True),
        end=HubTime(NOW + 60, True),
        skew=SKEW,
    )
    assert found.one is None
    assert found.nothing == nothing


def test_a_deploy_answer_names_the_model_it_made_at_its_route_s_place() -> None:
    slug = _answer(200, {"deployment": {"model_slug": MINE["id"]}}, DEPLOY_PATH, operation="deployFineTune")
    assert deployed_id(slug) == MINE["id"]
    checkpoint = _answer(200, {"model": {"id": "m"}}, DEPLOY_PATH, operation="deployCheckpoint")
    assert deployed_id(checkpoint) == "m"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("<html>", "answered a body that is not JSON"),
        ({"deployment": {"model_slug": ""}}, "answered without a model id at deployment.model_slug"),
        ({"deployment": []}, "answered without a model id at deployment.model_slug"),
    ],
    ids=["not-json", "empty-id", "wrong-shape"],
)
def test_a_deploy_answer_without_a_model_id_is_a_provisioning_error_showing_the_answer(body: Any, says: str) -> None:
    answer = _answer(200, body, DEPLOY_PATH, operation="deployFineTune")
    with pytest.raises(ProvisioningError, match=says) as refused:
        deployed_id(answer)
    assert f"reproduce with: curl -X GET https://hub.test{DEPLOY_PATH}" in str(refused.value)


def test_a_model_created_after_the_deploy_was_answered_is_late_and_keeps_anything_from_being_adopted() -> None:
    listed = [_model("a:s/mine", NOW + 1), _model("a:s/colleague", NOW + 30)]
    found = reconcile(
        [{**m, "owned_by": "alice"} for m in listed],
        "alice",
        snapshot=frozenset(),
        known=(),
        start=HubTime(NOW, True),
        end=HubTime(NOW + 60, True),
        skew=0,
        answered=HubTime(NOW + 2, True),
    )
    assert [c.model_id for c in found.placed] == ["a:s/mine"]
    assert [c.model_id for c in found.late] == ["a:s/colleague"]
    assert found.one is None and not found.nothing
    assert found.window == (NOW, NOW + 2)


# Rule 4's edges: "not earlier than the hub's time when the deploy was sent, less the skew", "nor later than the hub's
# time of the retrieve plus that skew". The edge itself is inside: a model created exactly then may be the deploy's.


@pytest.mark.parametrize(
    ("created", "proved"),
    [
        (NOW - int(SKEW), True),
        (NOW - int(SKEW) - 1, False),
        (NOW + 10 + int(SKEW), True),
        (NOW + 10 + int(SKEW) + 1, False),
    ],
    ids=["earliest", "a-second-before", "latest", "a-second-after"],
)
def test_the_window_of_a_deploy_s_model_holds_its_edges(created: int, proved: bool) -> None:
    # The retrieve answers at NOW + 10 (its Date).
    problem = why_not_the_deploys(MINE["id"], _answer(200, {**MINE, "created": created}), "alice", _evidence())
    assert (problem is None) == proved, problem


def test_a_model_too_old_to_be_the_deploy_s_is_named_with_both_times_a_person_can_check() -> None:
    problem = why_not_the_deploys(MINE["id"], _answer(200, {**MINE, "created": NOW - 3600}), "alice", _evidence())
    assert problem == (
        "it was created at 2025-12-31T23:00:00Z, before the deploy was sent (2026-01-01T00:00:00Z by the hub's Date, "
        "less the 180 s of clock skew allowed): an existing model, not the deploy's"
    )
    later = why_not_the_deploys(MINE["id"], _answer(200, {**MINE, "created": NOW + 3600}), "alice", _evidence())
    assert later == (
        "it was created at 2026-01-01T01:00:00Z, after the hub's time of retrieving it "
        "(2026-01-01T00:00:10Z by the hub's Date)"
    )


def test_the_run_s_clock_is_named_as_such_where_the_hub_sends_no_date() -> None:
    assert HubTime(NOW, False).describe() == "2026-01-01T00:00:00Z by the run's clock: the hub sent no Date"
    assert HubTime(NOW, True).describe() == "2026-01-01T00:00:00Z by the hub's Date"


@pytest.mark.parametrize(
    ("created", "placed"),
    [
        (NOW - int(SKEW), True),
        (NOW - int(SKEW) - 1, False),
        (NOW + 60 + int(SKEW), True),
        (NOW + 61 + int(SKEW), False),
    ],
    ids=["window-start", "before-it", "window-end", "after-it"],
)
def test_the_reconciliation_window_holds_its_edges(created: int, placed: bool) -> None:
    found = reconcile(
        [_model("alice:sandbox/ft-1-9", created)],
        "alice",
        snapshot=frozenset(),
        known=(),
        start=HubTime(NOW, True),
        end=HubTime(NOW + 60, True),
        skew=SKEW,
    )
    assert [(c.model_id, c.created) for c in found.placed] == ([("alice:sandbox/ft-1-9", created)] if placed else [])
    assert found.window_shown() == "between 2025-12-31T23:57:00Z and 2026-01-01T00:04:00Z"


def test_candidates_are_shown_with_their_created_for_a_person_to_check() -> None:
    found = reconcile(
        [_model("a:s/1", NOW + 1, "a"), _model("a:s/2", "yesterday", "a"), _model("a:s/3", True, "a")],
        "a",
        snapshot=frozenset(),
        known=(),
        start=HubTime(NOW, True),
        end=HubTime(NOW + 60, True),
        skew=SKEW,
    )
    assert shown_candidates((*found.placed, *found.unplaced)) == (
        "'a:s/1' (created 2026-01-01T00:00:01Z), 'a:s/2' (created 'yesterday'), 'a:s/3' (created True)"
    )
    assert shown_candidates(()) == "none"


@pytest.mark.parametrize(
    "answer",
    [
        _answer(500, {"data": []}),
        _answer(200, [{"id": "a"}]),
        _answer(200, {"data": {"a": {}}}),
        _answer(200, "not json"),
    ],
    ids=["not-200", "a-bare-array", "data-not-a-list", "not-json"],
)
def test_an_answer_that_is_no_list_of_models_is_read_as_none(answer: Exchange) -> None:
    assert listed_models(answer) is None


def test_a_list_answer_s_models_are_read_as_they_are() -> None:
    assert listed_models(_answer(200, {"object": "list", "data": [MINE, 7]})) == [MINE, 7]


@pytest.mark.parametrize(("model", "created"), [(MINE, NOW + 5), ({**MINE, "created": True}, None), ("x", None)])
def test_created_is_read_only_as_a_unix_time_of_a_model(model: Any, created: int | None) -> None:
    assert created_of(model) == created


def test_a_retrieve_answer_of_another_model_or_type_is_named_with_what_it_answered() -> None:
    other = not_ours(_answer(200, {**MINE, "id": "alice:sandbox/ft-1-4"}), MINE["id"], "alice")
    assert other == "retrieving it did not answer that model"
    base = {k: v for k, v in MINE.items() if k != "model_type"}
    assert not_ours(_answer(200, {**base, "owned_by": "oxen"}), MINE["id"], "alice") == (
        "retrieving it answered a model owned by 'oxen' of type 'unstated', not a custom model of the run's "
        "namespace 'alice'"
    )


def test_a_deploy_answer_of_an_unknown_operation_is_read_at_the_fine_tune_route_s_place() -> None:
    answer = _answer(200, {"deployment": {"model_slug": MINE["id"]}}, DEPLOY_PATH, operation="somethingElse")
    assert deployed_id(answer) == MINE["id"]
    with pytest.raises(ProvisioningError) as refused:
        deployed_id(_answer(200, "<html>", DEPLOY_PATH, operation="deployFineTune"))
    assert "  body: <html>\n" in str(refused.value)
    expected = f'reproduce with: curl -X GET https://hub.test{DEPLOY_PATH} -H "Authorization: Bearer $OXEN_API_KEY"'
    assert expected in str(refused.value)


def test_a_model_created_in_the_second_its_deploy_was_sent_in_is_the_deploy_s_with_no_skew_allowed() -> None:
    # `created` is in whole seconds and a deploy's time is not: sent at NOW + 0.6, made at NOW + 0.7, `created` NOW.
    evidence = _evidence(sent_at=HubTime(NOW + 0.6, True), skew=0)
    assert why_not_the_deploys(MINE["id"], _answer(200, {**MINE, "created": NOW}), "alice", evidence) is None
    assert why_not_the_deploys(MINE["id"], _answer(200, {**MINE, "created": NOW - 1}), "alice", evidence) is not None


def test_a_model_created_after_an_error_answer_is_late_however_much_clock_skew_is_allowed() -> None:
    # The skew widens the window before the deploy (the runner's clock against the hub's), never past its answer: a
    # colleague's model made seconds after a 502 is not the deploy's, whatever --clock-skew says.
    listed = [{**_model("a:s/colleague", NOW + 5), "owned_by": "alice"}]
    found = reconcile(
        listed,
        "alice",
        snapshot=frozenset(),
        known=(),
        start=HubTime(NOW, True),
        end=HubTime(NOW + 60, True),
        skew=180,
        answered=HubTime(NOW + 2, True),
    )
    assert found.placed == () and [c.model_id for c in found.late] == ["a:s/colleague"]


def test_the_times_a_person_is_shown_are_utc_whatever_the_runner_s_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        assert HubTime(NOW, True).describe() == "2026-01-01T00:00:00Z by the hub's Date"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_deploy_answer_that_is_not_json_is_named_as_such() -> None:
    with pytest.raises(ProvisioningError) as refused:
        deployed_id(_answer(200, "<html>", DEPLOY_PATH, operation="deployFineTune"))
    assert str(refused.value).splitlines()[0] == (
        f"cannot provision a disposable model: GET {DEPLOY_PATH} answered a body that is not JSON"
    )


@pytest.mark.parametrize(
    ("retrieved", "evidence", "says"),
    [
        (
            _answer(200, MINE),
            _evidence(listed_before=frozenset({MINE["id"]})),
            "a model that was already listed before the deploy (the run did not make it)",
        ),
        (
            _answer(200, MINE),
            _evidence(foreign=frozenset({MINE["id"]})),
            "a model another run's ledger names (that run made it or saw it answered, not this one)",
        ),
        (
            _answer(200, {**MINE, "created": None}),
            _evidence(),
            "its `created` is not a Unix time, so it cannot be told from a model made before the deploy",
        ),
    ],
    ids=["listed-before", "another-run-s", "created-not-a-time"],
)
def test_a_refused_deploy_answer_names_the_evidence_that_failed(
    retrieved: Exchange, evidence: DeployEvidence, says: str
) -> None:
    assert why_not_the_deploys(MINE["id"], retrieved, "alice", evidence) == says


def test_a_model_created_after_the_deploy_was_answered_is_late_until_the_list_read_to_reconcile_plus_the_skew() -> None:
    # Late runs from the end of the deploy's window (its answer's second) to the list's time plus the skew, and
    # each late candidate is shown with its `created`.
    listed = [_model("a:s/mine", NOW + 1), _model("a:s/colleague", NOW + 200), _model("a:s/later", NOW + 300)]
    found = reconcile(
        listed,
        "alice",
        snapshot=frozenset(),
        known=(),
        start=HubTime(NOW, True),
        end=HubTime(NOW + 60, True),
        skew=SKEW,
        answered=HubTime(NOW + 2, True),
    )
    assert [c.model_id for c in found.placed] == ["a:s/mine"]
    assert [(c.model_id, c.created) for c in found.late] == [("a:s/colleague", NOW + 200)]
    assert found.one is None


def test_a_date_whose_offset_overflows_is_no_date() -> None:
    when = HubTime.of(
        _answer(200, {}, date=None, date_header="Mon, 07 Dec 2026 15:00:00 +99999999999999999999"), lambda: 5.0
    )
    assert when == HubTime(5.0, False)


def test_a_date_without_a_zone_is_no_date() -> None:
    # "-0000" says the zone is unknown (RFC 5322 3.3): no moment of the hub's clock.
    when = HubTime.of(_answer(200, {}, date=None, date_header="Mon, 07 Dec 2026 15:00:00 -0000"), lambda: 5.0)
    assert when == HubTime(5.0, False)
