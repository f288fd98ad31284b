"""cassettes.py: what a recording keeps (one canonical hub, labels for keys) and when a stored request matches."""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import vcr.request
from vcr.serialize import deserialize
from vcr.serializers import yamlserializer

from oxen_contract.checking.exchange import LABELS, Credential, authorization
from oxen_contract.recording.cassettes import credential_matcher, payload_matcher, vcr_config_for
from oxen_contract.settings.config import LOCAL_OTHER_TOKEN, LOCAL_TOKEN, REPLAY_HUB_URL, RunConfig
from tests.configs import run_config

HUB = "http://127.0.0.1:8123"
CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def _config() -> RunConfig:
    return run_config(HUB, LOCAL_TOKEN, LOCAL_OTHER_TOKEN, local_hub=True, cassette_dir=CASSETTES)


def _recorded(headers: dict[str, str], uri: str = f"{HUB}/api/ai/models", body: bytes = b"") -> Any:
    return vcr_config_for(_config())["before_record_request"](vcr.request.Request("GET", uri, body, headers))


@cache
def _stored_requests() -> tuple[Any, ...]:
    requests: list[Any] = []
    for path in sorted(CASSETTES.rglob("*.yaml")):
        stored, _ = deserialize(path.read_text(encoding="utf-8"), yamlserializer)
        requests.extend(stored)
    return tuple(requests)


def test_a_recorded_request_names_the_replay_hub_whatever_hub_answered() -> None:
    request = _recorded({}, uri=f"{HUB}/api/ai/models?search=x", body=f'{{"url": "{HUB}/x"}}'.encode())
    assert request.uri == f"{REPLAY_HUB_URL}/api/ai/models?search=x"
    assert request.body == f'{{"url": "{REPLAY_HUB_URL}/x"}}'.encode()


def test_headers_that_differ_from_run_to_run_are_not_recorded() -> None:
    sent = {
        "Host": "127.0.0.1:8123",
        "User-Agent": "python-httpx/0.28",
        "X-Schemathesis-TestCaseId": "abc",
        "X-Stainless-OS": "Linux",
        "Accept": "application/json",
    }
    assert dict(_recorded(sent).headers) == {"Accept": "application/json"}


@pytest.mark.parametrize(
    ("sent", "recorded"),
    [
        (f"Bearer {LOCAL_TOKEN}", "Bearer $OXEN_API_KEY"),
        (f"Bearer {LOCAL_OTHER_TOKEN}", "Bearer $OXEN_API_KEY_OTHER"),
        (authorization(Credential.INVALID), "Bearer <invalid key>"),
        (authorization(Credential.NOT_BEARER), "Basic <invalid key>"),
        ("Bearer a-key-of-nobody", "Bearer <unknown key>"),
    ],
    ids=["key", "other-key", "invalid", "not-bearer", "unknown"],
)
def test_each_credential_is_recorded_in_the_spelling_the_stored_cassettes_replay_by(sent: str, recorded: str) -> None:
    assert _recorded({"Authorization": sent}).headers["Authorization"] == recorded
    assert recorded in {request.headers.get("authorization") for request in _stored_requests()}


def test_every_stored_authorization_is_a_scheme_and_a_label() -> None:
    values = {request.headers["authorization"] for request in _stored_requests() if "authorization" in request.headers}
    assert values
    assert [value for value in values if not any(value.endswith(f" {label}") for label in LABELS)] == []


def test_a_stored_request_records_again_as_itself() -> None:
    # vcrpy runs before_record_request on every request it loads, before it matches one.
    record = vcr_config_for(_config())["before_record_request"]
    for request in _stored_requests():
        again = record(request)
        assert (again.uri, dict(again.headers), again.body) == (request.uri, dict(request.headers), request.body)


def test_a_response_keeps_its_date_but_no_server_or_cookie_and_names_the_replay_hub() -> None:
    response: dict[str, Any] = {
        "status": {"code": 307, "message": "Temporary Redirect"},
        "headers": {
            "Date": ["Thu, 01 Jan 2026 00:00:00 GMT"],
            "Server": ["uvicorn"],
            "Set-Cookie": ["session=abc"],
            "Location": [f"{HUB}/api/ai/models/x"],
        },
        "body": {"string": f'{{"next": "{HUB}/api/ai/models?page=2"}}'.encode()},
    }
    stored = vcr_config_for(_config())["before_record_response"](response)
    # The Date stays: a replay proves its models' provenance by the hub's time (provenance.py).
    assert stored["headers"] == {
        "Date": ["Thu, 01 Jan 2026 00:00:00 GMT"],
        "Location": [f"{REPLAY_HUB_URL}/api/ai/models/x"],
    }
    assert stored["body"]["string"] == f'{{"next": "{REPLAY_HUB_URL}/api/ai/models?page=2"}}'.encode()
    assert response["headers"]["Date"], "the live response is left as it was"


def _request(headers: dict[str, str], body: bytes | str | None = b"") -> Any:
    return vcr.request.Request("GET", f"{REPLAY_HUB_URL}/api/ai/models", body, headers)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"Authorization": "Bearer $OXEN_API_KEY"}, {}),
        ({"Authorization": "Bearer $OXEN_API_KEY"}, {"Authorization": "Bearer $OXEN_API_KEY_OTHER"}),
        ({"Authorization": "Bearer <invalid key>"}, {"Authorization": "Basic <invalid key>"}),
    ],
    ids=["key-and-none", "key-and-other", "bearer-and-basic"],
)
def test_requests_with_different_credentials_do_not_match(first: dict[str, str], second: dict[str, str]) -> None:
    with pytest.raises(AssertionError, match="credential"):
        credential_matcher(_request(first), _request(second))


def test_requests_with_the_same_credential_match_whatever_the_header_s_case() -> None:
    credential_matcher(
        _request({"authorization": "Bearer $OXEN_API_KEY"}), _request({"Authorization": "Bearer $OXEN_API_KEY"})
    )
    credential_matcher(_request({}), _request({}))


def test_no_body_and_an_empty_body_are_the_same_payload_and_others_differ() -> None:
    payload_matcher(_request({}, None), _request({}, b""))
    payload_matcher(_request({}, '{"a": 1}'), _request({}, b'{"a": 1}'))
    with pytest.raises(AssertionError, match="bodies differ"):
        payload_matcher(_request({}, b'{"a": 1}'), _request({}, b'{"a": 2}'))


# The characters JSON, URLs and base64 spell differently.
SLASHED_KEY = "sk-rec/ord+Key0123456789"


def test_a_recording_keeps_no_spelling_of_a_key_on_either_side() -> None:
    config = vcr_config_for(run_config(HUB, SLASHED_KEY, LOCAL_OTHER_TOKEN))
    basic = base64.b64encode(f"user:{SLASHED_KEY}".encode()).decode()
    encoded = quote(SLASHED_KEY, safe="")
    request = config["before_record_request"](
        vcr.request.Request(
            "POST",
            f"{HUB}/api/ai/models?key={encoded}&double={quote(encoded, safe='')}",
            json.dumps({"key": SLASHED_KEY}).replace("/", "\\/").encode(),
            {"Authorization": f"Basic {basic}", "X-Api-Key": encoded},
        )
    )
    response = config["before_record_response"](
        {
            "status": {"code": 500, "message": "Internal Server Error"},
            "headers": {"X-Debug-Authorization": [f"Basic {basic}"], f"X-Echo-{encoded}": ["1"]},
            "body": {"string": json.dumps({"echo": SLASHED_KEY, "basic": basic}).replace("/", "\\/").encode()},
        }
    )
    stored = json.dumps([request.uri, request.body.decode(), dict(request.headers), response], default=repr)
    assert SLASHED_KEY not in stored
    assert request.uri == f"{REPLAY_HUB_URL}/api/ai/models?key=$OXEN_API_KEY&double=$OXEN_API_KEY"
    assert json.loads(request.body) == {"key": "$OXEN_API_KEY"}
    assert dict(request.headers) == {"Authorization": "Basic $OXEN_API_KEY", "X-Api-Key": "$OXEN_API_KEY"}
    assert response["headers"] == {"X-Debug-Authorization": ["Basic $OXEN_API_KEY"], "X-Echo-$OXEN_API_KEY": ["1"]}
    assert json.loads(response["body"]["string"]) == {"echo": "$OXEN_API_KEY", "basic": "$OXEN_API_KEY"}
