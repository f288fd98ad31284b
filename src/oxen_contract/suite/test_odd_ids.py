"""Odd ids never get a 5xx or a body that is not JSON, whatever the hub makes of them."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.vcr, pytest.mark.contract]

ODD_IDS = {
    "unicode": "模型-ünïcødé-🚀",
    "reserved-characters": "a/b?c#d%e&f=g+h",
    "colon": "oxen:not-a-model",
    "dots": "not.a.model.v1",
    "slash-and-colon": "alice:sandbox/ft-1-does-not-exist",
    "spaces": "  padded id  ",
    "nul": "nul\x00byte",
    "very-long": "x" * 10_000,
    "percent-encoded-looking": "%2F%00%ff",
    # Sent as %FF: a path segment that is not UTF-8 once decoded.
    "not-utf-8": "not-utf8-\udcff",
}


@pytest.mark.parametrize("operation", ["retrieve", "activate", "deactivate"])
@pytest.mark.parametrize("model_id", list(ODD_IDS.values()), ids=list(ODD_IDS))
def test_odd_id_answers_json_and_no_server_error(hub: Any, verifier: Any, operation: str, model_id: str) -> None:
    exchange = getattr(hub, operation)(model_id)
    if exchange.status >= 500:
        verifier.same(exchange, "rule:no-server-error", "", "a status below 500", exchange.status)
    body = verifier.body(exchange)
    if 400 <= exchange.status < 500:
        verifier.conforms(exchange, "error", body)


@pytest.mark.parametrize("model_id", list(ODD_IDS.values()), ids=list(ODD_IDS))
def test_a_delete_of_an_odd_id_that_names_no_model_is_refused_never_a_server_error(
    hub: Any, verifier: Any, model_id: str
) -> None:
    # Only an id retrieve has just answered 404 for is sent: it names no model, so the DELETE can harm nothing.
    looked = hub.retrieve(model_id)
    if looked.status != 404:
        pytest.skip(f"retrieve answered {looked.status} for this id, not 404: it is not sent to DELETE")
    verifier.error(hub.delete_unknown(model_id), None, "rule:unknown-id-delete-is-refused")
