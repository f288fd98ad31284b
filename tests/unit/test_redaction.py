"""redaction.py: every spelling of a key a hub may write back becomes the key's label, and nothing else changes."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oxen_contract.http.redaction import ApiKey, Redactor

# Keys hold "/" and "+" (and "="): the characters that JSON, URLs and base64 spell differently.
KEY = "sk-Ab/cd+EF/gh=0123456789"
OTHER = "sk-other+key/9876543210"
LABEL, OTHER_LABEL = "$OXEN_API_KEY", "$OXEN_API_KEY_OTHER"
REDACTOR = Redactor([(KEY, LABEL), (OTHER, OTHER_LABEL)])


def _unicode(text: str, upper: bool) -> str:
    return "".join(f"\\u{ord(char):04X}" if upper else f"\\u{ord(char):04x}" for char in text)


def _percent(text: str, upper: bool) -> str:
    return "".join(f"%{ord(char):02X}" if upper else f"%{ord(char):02x}" for char in text)


SPELLINGS = {
    "literal": KEY,
    "json": json.dumps(KEY)[1:-1],
    "json-escaped-slashes": json.dumps(KEY)[1:-1].replace("/", "\\/"),
    "json-unicode-upper": _unicode(KEY, upper=True),
    "json-unicode-lower": _unicode(KEY, upper=False),
    "json-twice": json.dumps(json.dumps(KEY)[1:-1].replace("/", "\\/"))[1:-1],
    "json-mixed": "".join(_unicode(char, i % 3 == 0) if i % 2 else char for i, char in enumerate(KEY)),
    "percent-encoded": quote(KEY, safe=""),
    "percent-every-character-upper": _percent(KEY, upper=True),
    "percent-every-character-lower": _percent(KEY, upper=False),
    "percent-some-characters": "".join(
        _percent(char, i % 4 == 0) if i % 3 == 0 else char for i, char in enumerate(KEY)
    ),
    "percent-twice": quote(quote(KEY, safe=""), safe=""),
    "percent-twice-every-character": "".join(f"%25{ord(char):02x}" for char in KEY),
    "json-and-percent-mixed": "".join(
        (_unicode(char, True), _percent(char, False), char)[i % 3] for i, char in enumerate(KEY)
    ),
    # The outsider attack on issue 18 (finding 5): spellings of other encoders and escapers.
    "hex-lower": KEY.encode().hex(),
    "hex-upper": KEY.encode().hex().upper(),
    "html-decimal": "".join(f"&#{ord(char)};" for char in KEY),
    "html-hex": "".join(f"&#x{ord(char):x};" for char in KEY),
    "html-hex-upper-no-semicolons": "".join(f"&#X{ord(char):X}" for char in KEY),
    "html-owasp-slash-and-plus": KEY.replace("/", "&#x2F;").replace("+", "&#x2B;"),
    "html-named": KEY.replace("/", "&sol;").replace("+", "&plus;").replace("=", "&equals;"),
    "c-hex-escapes": "".join(f"\\x{ord(char):02x}" for char in KEY),
    "c-octal-escapes": "".join(f"\\{ord(char):03o}" for char in KEY),
    "percent-u": "".join(f"%u{ord(char):04x}" for char in KEY),
}


@pytest.mark.parametrize("spelled", list(SPELLINGS.values()), ids=list(SPELLINGS))
def test_each_spelling_of_a_key_becomes_its_label(spelled: str) -> None:
    # A space after it: an HTML reference's optional ";" would take a ";" that followed along with the key.
    assert REDACTOR.redact(f"echo: {spelled} end") == f"echo: {LABEL} end"


def _spell(char: str, how: int) -> str:
    return [
        char,
        f"\\u{ord(char):04X}",
        f"\\u{ord(char):04x}",
        f"%{ord(char):02X}",
        f"%{ord(char):02x}",
        f"%25{ord(char):02X}",
        "\\/" if char == "/" else char,
    ][how]


@given(st.lists(st.integers(0, 6), min_size=len(OTHER), max_size=len(OTHER)))
def test_any_mix_of_escaped_encoded_and_plain_characters_is_redacted(hows: list[int]) -> None:
    spelled = "".join(_spell(char, how) for char, how in zip(OTHER, hows, strict=True))
    assert REDACTOR.redact(f'{{"echo": "{spelled}"}}') == f'{{"echo": "{OTHER_LABEL}"}}'


def _base64_cases() -> dict[str, str]:
    cases = {}
    for encode, alphabet in ((base64.b64encode, "standard"), (base64.urlsafe_b64encode, "url-safe")):
        # Every alignment of the key within the encoded bytes, with something after it or not.
        for before in ("", ":", "u:", "us:", "user:", "a-longer-user-name:"):
            for after in ("", ":", ":x"):
                token = encode(f"{before}{KEY}{after}".encode()).decode()
                cases[f"{alphabet}-{before or 'none'}-{after or 'none'}"] = token
                cases[f"{alphabet}-{before or 'none'}-{after or 'none'}-unpadded"] = token.rstrip("=")
    return cases


BASE64 = _base64_cases()


@pytest.mark.parametrize("token", list(BASE64.values()), ids=list(BASE64))
def test_a_key_inside_base64_takes_its_whole_token_with_it(token: str) -> None:
    assert REDACTOR.redact(f"Authorization: Basic {token}\r\n") == f"Authorization: Basic {LABEL}\r\n"


def test_a_base64_key_in_json_with_escaped_slashes_takes_its_whole_token() -> None:
    token = base64.b64encode(f"user:{KEY}".encode()).decode()
    assert "/" in token + KEY  # the escapes below are exercised
    body = json.dumps({"debug": {"authorization": f"Basic {token}", "key": KEY}}).replace("/", "\\/")
    assert json.loads(REDACTOR.redact(body)) == {"debug": {"authorization": f"Basic {LABEL}", "key": LABEL}}


def test_a_json_body_stays_json_with_the_same_structure() -> None:
    document = {
        "id": "alice:sandbox/ft-1",
        "echo": [KEY, OTHER, f"Bearer {KEY}"],
        "url": f"https://hub.example/api?key={quote(KEY, safe='')}",
        "note": "caf\u00e9 \u2014 not a key",
    }
    for body in (
        json.dumps(document),
        json.dumps(document, ensure_ascii=False),
        json.dumps(document).replace("/", "\\/"),
    ):
        assert json.loads(REDACTOR.redact(body)) == {
            "id": "alice:sandbox/ft-1",
            "echo": [LABEL, OTHER_LABEL, f"Bearer {LABEL}"],
            "url": f"https://hub.example/api?key={LABEL}",
            "note": "caf\u00e9 \u2014 not a key",
        }


def test_a_text_without_a_key_is_left_exactly_as_it_was() -> None:
    text = json.dumps({"data": [{"id": "gpt-4.1-mini", "url": "a%2Fb", "escaped": "\\/ \\u00e9"}]}) + KEY[:-1]
    image = base64.b64encode(bytes(range(256)) * 4).decode()
    assert REDACTOR.redact(text) == text
    assert REDACTOR.redact(image) == image
    assert Redactor().redact(KEY) == KEY


def test_a_key_that_holds_another_key_is_replaced_whole() -> None:
    redactor = Redactor([("replay-key", LABEL), ("replay-key-other", OTHER_LABEL)])
    assert redactor.redact("replay-key-other and replay-key") == f"{OTHER_LABEL} and {LABEL}"


def test_bytes_that_are_not_utf_8_are_kept_around_a_redacted_key() -> None:
    data = b"\xff\xfe " + KEY.encode() + b" \x80"
    assert REDACTOR.redact_bytes(data) == b"\xff\xfe " + LABEL.encode() + b" \x80"


def test_api_key_redacts_its_every_spelling_and_never_shows_itself() -> None:
    key = ApiKey(KEY, LABEL)
    for spelled in (*SPELLINGS.values(), *BASE64.values()):
        assert KEY not in key.redact(spelled)
        assert key.appears_in(f"x {spelled} x")
    assert KEY not in repr(key) + str(key)
    assert not key.appears_in("nothing here")
