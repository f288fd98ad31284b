"""Requests no operation documents never get a 5xx: near-miss paths, and methods a documented path does not have.

``rule:no-server-error`` holds for any request, however odd. The suite sends such requests only where they can harm
nothing on a shared hub: GET and HEAD (which change nothing) on paths beside the documented ones and on documented
paths that have no such method, and PUT and PATCH ([S]'s update is a PUT) on the run's own model only. Each is
declared to the guard as a probe; nothing is POSTed to the collection, and no DELETE is sent here (the local hub's
own tests cover DELETEs of paths no route takes). Any answer but a 5xx is fine: the docs say nothing of these paths.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from oxen_contract.checking.exchange import MODELS, model_path
from oxen_contract.checking.skips import skip_by_settings

pytestmark = [pytest.mark.vcr, pytest.mark.contract]

# What the exchanges of this module are counted as in the report's coverage: no documented operation.
OPERATION = "undocumentedRequest"

# Paths one typo or one slash away from a documented one.
NEAR_MISS_PATHS = {
    "models-with-a-suffix": f"{MODELS}X",
    "model-in-the-singular": "/api/ai/model",
    "models-with-a-trailing-slash": f"{MODELS}/",
    "search-with-a-trailing-slash": f"{MODELS}/search/",
    "the-api-root": "/api/ai",
}


def _no_server_error(hub: Any, verifier: Any, method: str, path: str) -> None:
    with hub.guard.probing(method, path=path):
        exchange = hub.send(OPERATION, method, path)
    # 502, 503 and 504 fail too: no other clause of this request would, and triage sorts an outage out of them.
    verifier.no_server_error(exchange, every_5xx=True)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", list(NEAR_MISS_PATHS.values()), ids=list(NEAR_MISS_PATHS))
def test_a_near_miss_path_never_answers_a_server_error(hub: Any, verifier: Any, method: str, path: str) -> None:
    _no_server_error(hub, verifier, method, path)


def test_head_of_the_documented_paths_never_answers_a_server_error(hub: Any, verifier: Any, shared_model: str) -> None:
    # No path documents HEAD; the list, search and the run's own model are where a client would try it.
    for path in (MODELS, f"{MODELS}/search", model_path(shared_model)):
        _no_server_error(hub, verifier, "HEAD", path)


def test_get_of_the_run_s_own_model_s_actions_never_answers_a_server_error(
    hub: Any, verifier: Any, shared_model: str
) -> None:
    # activate and deactivate are POST only; a GET of them changes nothing.
    for action in ("activate", "deactivate"):
        _no_server_error(hub, verifier, "GET", model_path(shared_model, action))


def test_get_of_the_run_s_own_repos_path_never_answers_a_server_error(
    hub: Any, verifier: Any, live_config: Any
) -> None:
    # The path above the deploy routes, in the run's own namespace. Never the deploy route itself, not even by GET: a
    # gateway that routes a GET as the POST it is not would deploy, a paid model the run never counted.
    if not live_config.fine_tunes or live_config.deploy_source(shared=True).owner != live_config.namespace:
        skip_by_settings("no --fine-tune in the run's own namespace: no repo path of the run's own to probe")
    source = live_config.deploy_source(shared=True)
    _no_server_error(hub, verifier, "GET", f"/api/repos/{quote(source.owner, safe='')}")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_put_and_patch_of_the_run_s_own_model_never_answer_a_server_error(
    hub: Any, verifier: Any, shared_model: str, method: str
) -> None:
    # Only on the run's own model: [S] documents PUT as update, which a hub may carry out (nothing is sent to change).
    with hub.guard.probing(method, shared_model):
        exchange = hub.send(OPERATION, method, model_path(shared_model), model_id=shared_model)
    verifier.no_server_error(exchange, every_5xx=True)
