"""Cassettes for pytest-recording: recorded against any hub, stored against one canonical URL, never holding a key.

Every recorded request is rewritten before it is stored and before it is matched: the hub's base URL becomes
``REPLAY_HUB_URL`` (so a replay needs no hub and a recording from a local hub on a random port is stable), and the
Authorization header's key becomes its label (``$OXEN_API_KEY``, ``$OXEN_API_KEY_OTHER``, ``<invalid key>``, through
``exchange.carried``, the one credential mapping), which is also what requests are matched on, so a request sent
without a key never replays an answer given to one with a key.

A damaged cassette is caught before vcrpy reads it, through the persister ``register_matchers`` installs; finding
and telling the damage is ``cassette_damage.py``'s job.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..checking.exchange import carried
from ..http.redaction import ApiKey, Redactor
from ..settings.config import REPLAY_HUB_URL, RunConfig
from .cassette_damage import check_before_loading

__all__ = [
    "SessionCassette",
    "credential_matcher",
    "freeze_generation",
    "payload_matcher",
    "register_matchers",
    "vcr_config_for",
]

# The Date stays: the local hub dates its answers from one deterministic clock, and a replay proves its models by it.
_DROPPED_RESPONSE_HEADERS = ("server",)
_DROPPED_REQUEST_HEADERS = ("host", "user-agent", "x-schemathesis-testcaseid")
# Cookies can carry a session as good as a key, and nothing in the API needs them replayed.
_DROPPED_CREDENTIAL_HEADERS = ("cookie", "set-cookie", "set-cookie2")


def _secrets(config: RunConfig) -> list[ApiKey]:
    return [key for key in (config.token, config.other_token) if key]


def _scrub_text(text: str, config: RunConfig, redactor: Redactor) -> str:
    if config.hub_url and config.hub_url != REPLAY_HUB_URL:
        text = text.replace(config.hub_url, REPLAY_HUB_URL)
    # The transports' redactor: every spelling of a key (JSON-escaped, percent-encoded, in base64), not only the key.
    return redactor.redact(text)


def _scrub_headers(
    headers: dict[str, Any], config: RunConfig, secrets: list[ApiKey], redactor: Redactor
) -> dict[str, Any]:
    """Drop cookies; label Authorization; replace a key wherever else it appears (an X-Api-Key, an echo)."""
    kept: dict[str, Any] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in _DROPPED_CREDENTIAL_HEADERS:
            continue
        if lowered in ("authorization", "proxy-authorization"):
            kept[name] = carried(str(value), secrets).recorded or ""
        elif isinstance(value, list):
            kept[_scrub_text(name, config, redactor)] = [_scrub_text(str(item), config, redactor) for item in value]
        else:
            kept[_scrub_text(name, config, redactor)] = _scrub_text(str(value), config, redactor)
    return kept


def vcr_config_for(config: RunConfig) -> dict[str, Any]:
    """The ``vcr_config`` pytest-recording applies to every cassette of the run."""
    secrets = _secrets(config)
    redactor = ApiKey.redactor(secrets)

    def before_record_request(request: Any) -> Any:
        request = copy.copy(request)
        request.uri = _scrub_text(request.uri, config, redactor)
        # vcrpy's headers are a plain dict of the names as sent.
        # Headers that differ run to run or tool to tool (the hub's port, schemathesis's random case id, versions, the
        # OpenAI SDK's x-stainless-* platform report)
        # would make every recording a diff; the URI already says where the request went.
        headers = {
            name: value
            for name, value in dict(request.headers).items()
            if name.lower() not in _DROPPED_REQUEST_HEADERS and not name.lower().startswith("x-stainless")
        }
        request.headers = _scrub_headers(headers, config, secrets, redactor)
        if isinstance(request.body, bytes):
            request.body = _scrub_text(request.body.decode("utf-8", "replace"), config, redactor).encode()
        elif isinstance(request.body, str):
            request.body = _scrub_text(request.body, config, redactor)
        return request

    def before_record_response(response: dict[str, Any]) -> dict[str, Any]:
        response = copy.deepcopy(response)
        headers = {
            name: value
            for name, value in response.get("headers", {}).items()
            if name.lower() not in _DROPPED_RESPONSE_HEADERS
        }
        response["headers"] = _scrub_headers(headers, config, secrets, redactor)
        body = response.get("body", {}).get("string")
        if isinstance(body, bytes):
            response["body"]["string"] = _scrub_text(body.decode("utf-8", "replace"), config, redactor).encode()
        elif isinstance(body, str):
            response["body"]["string"] = _scrub_text(body, config, redactor)
        return response

    return {
        "before_record_request": before_record_request,
        "before_record_response": before_record_response,
        "decode_compressed_response": True,
        "match_on": ("method", "scheme", "host", "port", "path", "query", "payload", "credential"),
        "allow_playback_repeats": False,
    }


def credential_matcher(first: Any, second: Any) -> None:
    """Vcrpy matcher: requests match only when they carried the same credential label (or none)."""

    def label(request: Any) -> str:
        for name, value in dict(request.headers).items():
            if name.lower() == "authorization":
                return str(value)
        return ""

    assert label(first) == label(second), f"credential {label(first)!r} != {label(second)!r}"


def freeze_generation() -> Callable[[], None]:
    """Make generated data independent of which of our modules happen to be imported; returns the undo.

    Hypothesis mixes string and number constants found in the source of "local" modules into what it generates. A
    replay imports fewer modules than a recording (no local hub) and an installed wheel counts as non-local, so the
    same seed drew different requests and the cassettes no longer matched. With no local constants, generation
    depends only on the seed and the schema.
    """
    from hypothesis.internal.conjecture import providers

    if not hasattr(providers, "is_local_module_file"):
        raise RuntimeError("hypothesis no longer has providers.is_local_module_file: update freeze_generation()")
    original = providers.is_local_module_file
    providers.is_local_module_file = lambda path: False
    # Constants already gathered (collection may have drawn before the suite was set up) go too.
    providers._local_constants = providers.Constants()  # type: ignore[attr-defined]
    providers._seen_modules.clear()
    providers._sys_modules_len = None
    providers.CONSTANTS_CACHE.cache.clear()

    def thaw() -> None:
        providers.is_local_module_file = original  # type: ignore[attr-defined]

    return thaw


def payload_matcher(first: Any, second: Any) -> None:
    """Vcrpy matcher: the same request body, where no body and an empty body are the same."""

    def payload(request: Any) -> bytes:
        body = request.body
        return body.encode() if isinstance(body, str) else (body or b"")

    assert payload(first) == payload(second), "the request bodies differ"


def register_matchers(vcr: Any) -> None:
    """Our matchers, and a persister that checks each cassette file before vcrpy reads it."""
    vcr.register_matcher("credential", credential_matcher)
    vcr.register_matcher("payload", payload_matcher)
    check_before_loading(vcr)


class SessionCassette:
    """One cassette, loaded once, for the exchanges that belong to no single test (the shared model's deploy).

    pytest-recording opens a cassette per test; an exchange made on behalf of the whole session would otherwise land
    in whichever test happened to run first, and a replay of a subset would miss it. Activating this cassette on top
    of a test's cassette sends the exchange here instead; its play counts persist across activations.
    """

    def __init__(self, path: Path, record_mode: str, vcr_config: dict[str, Any]) -> None:
        import vcr
        from vcr.cassette import Cassette, CassetteContextDecorator

        if record_mode == "rewrite":
            path.unlink(missing_ok=True)
        mode = {"rewrite": "new_episodes", "none": "none"}.get(record_mode, record_mode)
        per_cassette = {key: vcr_config[key] for key in ("allow_playback_repeats",) if key in vcr_config}
        recorder = vcr.VCR(**{key: value for key, value in vcr_config.items() if key not in per_cassette})
        register_matchers(recorder)
        self.path = path
        merged = recorder.get_merged_config(path=str(path), record_mode=mode, **per_cassette)
        # What use_cassette() would strip before loading (vcr's CassetteContextDecorator does the same).
        for key in CassetteContextDecorator._non_cassette_arguments:
            merged.pop(key, None)
        self._cassette = Cassette.load(**merged)

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        from vcr.patch import CassettePatcherBuilder

        with contextlib.ExitStack() as stack:
            for patcher in CassettePatcherBuilder(self._cassette).build():
                stack.enter_context(patcher)
            yield

    def save(self) -> None:
        self._cassette._save()
