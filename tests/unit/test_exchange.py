"""exchange.py: paths name one model, the one credential mapping reads back what it writes, curl lines hide keys."""

from __future__ import annotations

import dataclasses
import re
import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oxen_contract.checking.exchange import (
    INVALID_KEY,
    INVALID_LABEL,
    LABELS,
    UNKNOWN_LABEL,
    Carried,
    Credential,
    Exchange,
    authorization,
    carried,
    curl_line,
    decoded,
    fine_tune_path,
    model_path,
)
from oxen_contract.http.redaction import ApiKey

SECRET = "sk-oxen-secret-0123456789"
OTHER_SECRET = "sk-oxen-other-9876543210"
KEYS = (ApiKey(SECRET, Credential.KEY), ApiKey(OTHER_SECRET, Credential.OTHER))
SENT = (Credential.KEY, Credential.OTHER, Credential.INVALID, Credential.NOT_BEARER)


@pytest.mark.parametrize(
    ("model_id", "path"),
    [
        ("gpt-4.1-mini", "/api/ai/models/gpt-4.1-mini"),
        ("alice:sandbox/ft-1-2", "/api/ai/models/alice%3Asandbox%2Fft-1-2"),
        ("..", "/api/ai/models/.."),
        ("a b?c#d", "/api/ai/models/a%20b%3Fc%23d"),
    ],
)
def test_a_model_id_becomes_exactly_one_path_segment(model_id: str, path: str) -> None:
    assert model_path(model_id) == path
    assert model_path(model_id, "activate") == f"{path}/activate"


def test_a_fine_tune_path_encodes_each_part_as_its_own_segment() -> None:
    assert fine_tune_path("al/ice", "sand box", "ft:1") == "/api/repos/al%2Fice/sand%20box/fine_tunes/ft%3A1"


@pytest.mark.parametrize(
    ("credential", "header"),
    [
        (Credential.KEY, "Bearer $OXEN_API_KEY"),
        (Credential.OTHER, "Bearer $OXEN_API_KEY_OTHER"),
        (Credential.INVALID, f"Bearer {INVALID_KEY}"),
        (Credential.NOT_BEARER, f"Basic {INVALID_KEY}"),
        (Credential.NONE, None),
    ],
)
def test_each_credential_stands_for_one_authorization_header(credential: str, header: str | None) -> None:
    assert authorization(credential) == header


@pytest.mark.parametrize("credential", [*SENT, Credential.NONE])
def test_a_header_the_suite_sends_reads_back_as_its_credential(credential: str) -> None:
    assert carried(authorization(credential)).credential == credential


@pytest.mark.parametrize(("key", "credential"), [(SECRET, Credential.KEY), (OTHER_SECRET, Credential.OTHER)])
def test_a_key_as_sent_reads_back_as_its_label_and_is_recorded_as_it(key: str, credential: str) -> None:
    assert carried(f"Bearer {key}", KEYS) == Carried(credential, f"Bearer {credential}")


@pytest.mark.parametrize(
    ("header", "credential", "recorded"),
    [
        (f"Bearer {INVALID_KEY}", Credential.INVALID, f"Bearer {INVALID_LABEL}"),
        (f"Basic {INVALID_KEY}", Credential.NOT_BEARER, f"Basic {INVALID_LABEL}"),
        ("Bearer some-fuzzed-token", Credential.INVALID, f"Bearer {UNKNOWN_LABEL}"),
        ("Token some-fuzzed-token", Credential.NOT_BEARER, f"Token {UNKNOWN_LABEL}"),
        (f"Basic {SECRET}", Credential.NOT_BEARER, "Basic $OXEN_API_KEY"),
        (f"Bearer {SECRET}x", Credential.INVALID, f"Bearer {UNKNOWN_LABEL}"),
    ],
    ids=["invalid", "not-bearer", "fuzzed-bearer", "fuzzed-scheme", "key-under-basic", "key-and-more"],
)
def test_a_header_is_recorded_with_its_scheme_and_a_label_in_place_of_its_token(
    header: str, credential: str, recorded: str
) -> None:
    assert carried(header, KEYS) == Carried(credential, recorded)


def test_no_header_is_no_credential_and_records_nothing() -> None:
    assert carried(None, KEYS) == carried("", KEYS) == Carried(Credential.NONE, None)


_SCHEMES = st.sampled_from(["Bearer", "Basic", "Token", SECRET, "", "h2R;'_\"'"])
_TOKENS = st.one_of(st.sampled_from([SECRET, OTHER_SECRET, INVALID_KEY, *LABELS, ""]), st.text(max_size=12))


@given(scheme=_SCHEMES, token=_TOKENS)
def test_a_recorded_header_holds_no_key_and_records_again_as_itself(scheme: str, token: str) -> None:
    recorded = carried(f"{scheme} {token}", KEYS).recorded
    assert recorded is not None
    assert SECRET not in recorded and OTHER_SECRET not in recorded
    assert any(recorded.endswith(f" {label}") for label in LABELS)
    # vcrpy runs its hooks again on every request it loads from a cassette.
    assert carried(recorded, KEYS).recorded == recorded


def test_a_curl_line_names_a_key_by_a_variable_the_shell_expands() -> None:
    line = curl_line("DELETE", "https://hub.test/api/ai/models/a%3Ab", Credential.KEY)
    assert line == 'curl -X DELETE https://hub.test/api/ai/models/a%3Ab -H "Authorization: Bearer $OXEN_API_KEY"'


def test_a_curl_line_quotes_every_other_header_and_the_body_as_sent() -> None:
    line = curl_line("POST", "https://hub.test/x?a=1&b=2", Credential.NOT_BEARER, '{"name": "it\'s"}')
    assert shlex.split(line) == [
        "curl",
        "-X",
        "POST",
        "https://hub.test/x?a=1&b=2",
        "-H",
        f"Authorization: Basic {INVALID_KEY}",
        "-H",
        "Content-Type: application/json",
        "--data",
        '{"name": "it\'s"}',
    ]


def test_a_curl_line_without_a_credential_sends_no_authorization_header() -> None:
    assert "Authorization" not in curl_line("GET", "https://hub.test/api/ai/models", Credential.NONE)


def _exchange(text: str, headers: dict[str, str]) -> Exchange:
    return Exchange(
        "listModels", "GET", "https://hub.test/api/ai/models", "/api/ai/models", None, "none", 200, headers, text
    )


def test_an_exchange_reads_its_body_as_json_or_says_it_is_none() -> None:
    assert _exchange('{"data": []}', {"content-type": "application/json"}).json_or_none() == {"data": []}
    assert _exchange("<html>", {}).json_or_none() is None
    with pytest.raises(ValueError):
        _exchange("<html>", {}).json()


def test_each_exchange_is_a_new_answer_and_equal_exchanges_stay_equal() -> None:
    first, second = _exchange("{}", {}), _exchange("{}", {})
    assert first.answer_id != second.answer_id
    assert first == second


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply to parse"),
        (b'{"created": NaN}', "NaN is not JSON"),
        (b'{"created": -Infinity}', "-Infinity is not JSON"),
        (b'{"id": "\xff"}', "not UTF-8 (byte 8)"),
    ],
    ids=["too-deep", "nan", "infinity", "not-utf-8"],
)
def test_a_body_that_is_no_json_text_is_a_value_error_naming_why_never_a_crash(content: bytes, says: str) -> None:
    text, problem = decoded(content)
    exchange = Exchange("listModels", "GET", "https://h/api/ai/models", "/api/ai/models", None, "k", 200, {}, text)
    exchange = dataclasses.replace(exchange, body_problem=problem)
    with pytest.raises(ValueError, match=re.escape(says)):
        exchange.json()
    assert exchange.json_or_none() is None
