"""The scenario every fault is judged by: one request of each operation and each kind of answer, as labelled steps.

``run_scenario`` plays it against a fresh deterministic hub with the given faults; ``BASELINE`` is its run without
any. The label sets name the steps by what they answer (lists, searches, errors, ...), for the expectations.
"""

from __future__ import annotations

from typing import Any

from oxen_contract.hub import create_app
from oxen_contract.hub.faults import Fault

from ._helpers import ALICE, BOB, DEPLOY, DEPLOY_CHECKPOINT, MODELS, TOKENS, HubClient, model_path

# Status, content type, Allow, body, Location.
Answer = tuple[int, str | None, str | None, bytes, str | None]
Steps = dict[str, Answer]


def _answered_id(body: Any, serial: int) -> str:
    """The id a deploy answered; when it answered none (an error after creating, a mistyped answer), the model's id."""
    deployment = body.get("deployment") if isinstance(body, dict) else None
    if isinstance(deployment, dict) and isinstance(deployment.get("model_slug"), str):
        return str(deployment["model_slug"])
    if isinstance(body, dict) and "model" in body:
        return str(body["model"]["id"])
    return f"alice:sandbox/ft-1-{serial}"


def _scenario(client: HubClient) -> Steps:
    steps: Steps = {}

    def step(label: str, method: str, url: str, headers: dict[str, str] | None = ALICE) -> Any:
        response = client.request(method, url, headers=headers or {})
        allow, location = response.headers.get("allow"), response.headers.get("location")
        steps[label] = (response.status_code, response.headers.get("content-type"), allow, response.content, location)
        try:
            return response.json()
        except (ValueError, RecursionError):  # not JSON, or nested past the parser (search-body-nested-too-deep)
            return None

    m1 = _answered_id(step("deploy", "POST", DEPLOY.format(owner="alice")), 1)
    m2 = _answered_id(step("deploy-checkpoint", "POST", DEPLOY_CHECKPOINT.format(owner="alice")), 2)
    m3 = _answered_id(step("deploy-2", "POST", DEPLOY.format(owner="alice")), 3)
    m4 = _answered_id(step("deploy-3", "POST", DEPLOY.format(owner="alice")), 4)
    step("list", "GET", MODELS)
    step("list-foreign", "GET", MODELS, BOB)
    step("list-filtered", "GET", f"{MODELS}?developer_name=openai")
    step("list-anonymous", "GET", MODELS, None)
    step("list-bad-token", "GET", MODELS, {"Authorization": "Bearer nope"})
    step("search", "GET", f"{MODELS}/search?search=sandbox")
    step("search-base", "GET", f"{MODELS}/search?search=gpt")
    step("search-missing", "GET", f"{MODELS}/search")
    step("retrieve-base", "GET", model_path("gpt-4o"))
    step("retrieve-custom", "GET", model_path(m1))
    step("retrieve-live", "GET", model_path(m1) + "?deployment_status=live")
    step("retrieve-bad-status", "GET", model_path("gpt-4o") + "?deployment_status=archived")
    step("retrieve-unknown", "GET", model_path("no-such-model"))
    step("retrieve-foreign", "GET", model_path(m1), BOB)
    step("retrieve-anonymous", "GET", model_path(m1), None)
    step("activate-base", "POST", model_path("gpt-4o", "activate"))
    step("deactivate-base", "POST", model_path("gpt-4o", "deactivate"))
    step("deactivate-custom", "POST", model_path(m1, "deactivate"))
    step("activate-custom", "POST", model_path(m1, "activate"))
    step("activate-foreign", "POST", model_path(m1, "activate"), BOB)
    step("delete-base", "DELETE", model_path("gpt-4o"))
    step("delete-foreign", "DELETE", model_path(m2), BOB)
    step("delete-anonymous", "DELETE", model_path(m3), None)
    step("delete-unknown", "DELETE", model_path("no-such-model"))
    step("delete", "DELETE", model_path(m1))
    step("retrieve-deleted", "GET", model_path(m1))
    step("delete-again", "DELETE", model_path(m1))
    step("activate-deleted", "POST", model_path(m1, "activate"))
    step("method-not-allowed", "PUT", model_path(m4))
    step("after-base", "GET", model_path("gpt-4o"))
    step("after-foreign", "GET", model_path(m2))
    step("after-anonymous", "GET", model_path(m3))
    step("list-after", "GET", MODELS)
    step("list-action", "GET", f"{MODELS}?action=text_generation")
    step("deploy-missing", "POST", DEPLOY.format(owner="alice").replace("/ft-1/", "/no-such-fine-tune/"))
    step("near-miss", "GET", f"{MODELS}X")
    return steps


def run_scenario(*faults: str | Fault) -> Steps:
    # The drip still sends byte by byte, only without a noticeable pause; a gzip bomb decodes to 64 KiB, not 400 MiB.
    app = create_app(TOKENS, faults, deterministic=True, hang_seconds=0.0, drip_seconds=1e-5, bomb_bytes=2**16)
    try:
        return _scenario(HubClient(app))
    finally:
        app.state.store.close()


BASELINE = run_scenario()
LISTS = {"list", "list-foreign", "list-filtered", "list-after", "list-action"}
SEARCHES = {"search", "search-base"}
RETRIEVED = {"retrieve-base", "retrieve-custom", "retrieve-live", "after-base", "after-foreign", "after-anonymous"}
MODEL_ANSWERS = LISTS | SEARCHES | RETRIEVED | {"deploy-checkpoint", "activate-base", "deactivate-custom"}
MODEL_ANSWERS |= {"activate-custom", "delete"}
NOT_FOUND = {"retrieve-unknown", "retrieve-foreign", "delete-unknown", "retrieve-deleted", "delete-again"}
NOT_FOUND |= {"activate-deleted", "activate-foreign", "delete-foreign"}
AUTH_ERRORS = {"list-anonymous", "list-bad-token", "retrieve-anonymous", "delete-anonymous"}
REFUSALS = {"deactivate-base", "delete-base", "activate-foreign", "delete-foreign"}
INVALID = {"search-missing", "retrieve-bad-status", "method-not-allowed"}
# 404s that name no model: a deploy of a fine-tune the hub does not hold, and a path no route takes.
OTHER_NOT_FOUND = {"deploy-missing", "near-miss"}
ERRORS = NOT_FOUND | AUTH_ERRORS | REFUSALS | INVALID | OTHER_NOT_FOUND
CUSTOM_RETRIEVED = {"retrieve-custom", "retrieve-live", "after-foreign", "after-anonymous"}
# The id of the sandbox fine-tune's base model, which answers carrying "another model's id" name.
SOURCE_MODEL = "meta-llama/llama-3.1-8b-instruct"
# Every step whose answer names a custom model's id.
CUSTOM_IDS = {"deploy", "deploy-2", "deploy-3", "deploy-checkpoint", "list", "list-after", "search"}
CUSTOM_IDS |= {"retrieve-custom", "retrieve-live", "deactivate-custom", "activate-custom", "delete", "after-foreign"}
CUSTOM_IDS |= {"after-anonymous", "retrieve-foreign", "activate-foreign", "delete-foreign", "retrieve-deleted"}
CUSTOM_IDS |= {"delete-again", "activate-deleted"}
# Every step that shows a namespace's custom models without naming one: pre-seeded models appear there.
CROWDED = {"list", "list-foreign", "search", "list-after"}
# A delete that redirects deletes nothing, so the model is still there afterwards.
REDIRECTED = CROWDED | {"delete", "retrieve-deleted", "delete-again", "activate-deleted"}
VICTIM_PATH = "/api/ai/models/alice%3Asandbox%2Fft-1-prod"
PRESEEDED = ["alice:sandbox/ft-1-prod", "alice:sandbox/ft-1-old"]
DEPLOYS = {"deploy", "deploy-2", "deploy-3"}
EVERY_DEPLOY = DEPLOYS | {"deploy-checkpoint"}
# The steps sent without an Authorization header.
ANONYMOUS = {"list-anonymous", "retrieve-anonymous", "delete-anonymous"}
LENIENCIES = ("benign-ignores-unknown-deployment-status", "benign-search-without-term-lists-all")
