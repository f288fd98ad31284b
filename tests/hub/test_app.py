"""Routes, statuses, auth and error bodies of the hub app, in-process."""

from __future__ import annotations

import json

import pytest

from oxen_contract.hub.catalog import BASE_MODELS
from oxen_contract.hub.clock import EPOCH

from ._helpers import ALICE, BOB, DEPLOY, DEPLOY_CHECKPOINT, MODELS, HubClient, deploy, model_path
from .conftest import MakeClient

BASE_IDS = [model.id for model in BASE_MODELS]


def _error_type(body: dict[str, object]) -> object:
    error = body["error"]
    assert isinstance(error, dict)
    assert body["status"] == "error"
    assert body["status_message"] == error["type"]
    return error["type"]


def test_list_answers_the_list_wrapper_with_every_base_model(client: HubClient) -> None:
    response = client.get(MODELS, headers=ALICE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["object"] == "list"
    assert [model["id"] for model in body["data"]] == BASE_IDS
    assert all(model["deployments"] == [] and model["owned_by"] == "oxen" for model in body["data"])


def test_list_shows_custom_models_only_to_their_owner(client: HubClient) -> None:
    mine = deploy(client)
    theirs = deploy(client, BOB, "bob")
    alice_ids = [model["id"] for model in client.get(MODELS, headers=ALICE).json()["data"]]
    bob_ids = [model["id"] for model in client.get(MODELS, headers=BOB).json()["data"]]
    assert alice_ids == [*BASE_IDS, mine]
    assert bob_ids == [*BASE_IDS, theirs]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("developer_name=openai", {"gpt-4.1-mini", "gpt-4o", "gpt-image-1"}),
        ("developer_name=ANTHROPIC", {"claude-sonnet-4", "claude-3-5-haiku"}),
        ("action=image_generation", {"black-forest-labs/flux.1-dev"}),
        ("action=text_generation", {"meta-llama/llama-3.1-8b-instruct", "qwen3-8b"}),
        ("provider_name=fal", {"black-forest-labs/flux.1-dev", "kling-2.1"}),
        ("developer_name=google&provider_name=google", {"gemini-2.5-flash", "imagen-4", "veo-3"}),
        ("developer_name=nobody", set()),
        ("developer_name=", set(BASE_IDS)),
    ],
)
def test_list_filters_narrow_the_answer(client: HubClient, query: str, expected: set[str]) -> None:
    body = client.get(f"{MODELS}?{query}", headers=ALICE).json()
    assert body["object"] == "list"
    assert {model["id"] for model in body["data"]} == expected


def test_provider_name_is_internal_and_never_rendered(client: HubClient) -> None:
    assert all("provider_name" not in model for model in client.get(MODELS, headers=ALICE).json()["data"])


def test_search_is_a_case_insensitive_substring_match(client: HubClient) -> None:
    custom = deploy(client)
    for term, expected in [("FLUX", {"black-forest-labs/flux.1-dev"}), ("sandbox", {custom})]:
        body = client.get(f"{MODELS}/search", params={"search": term}, headers=ALICE).json()
        assert body["object"] == "list"
        assert {model["id"] for model in body["data"]} == expected
    by_description = client.get(f"{MODELS}/search?search=lora", headers=ALICE).json()["data"]
    assert [model["id"] for model in by_description] == ["black-forest-labs/flux.1-dev"]


@pytest.mark.parametrize("query", ["", "?search=", "?q=gpt"])
def test_search_without_a_term_answers_400(client: HubClient, query: str) -> None:
    response = client.get(f"{MODELS}/search{query}", headers=ALICE)
    assert response.status_code == 400
    assert _error_type(response.json()) == "invalid_params"


@pytest.mark.parametrize("model_id", ["gpt-4o", "black-forest-labs/flux.1-dev", "wan2.2-t2v"])
def test_retrieve_answers_a_base_model(client: HubClient, model_id: str) -> None:
    response = client.get(model_path(model_id), headers=ALICE)
    assert response.status_code == 200
    assert response.json()["id"] == model_id
    assert response.json()["model_type"] == "base"


def test_retrieve_accepts_an_unencoded_slash_in_the_id(client: HubClient) -> None:
    custom = deploy(client)
    assert client.get(f"{MODELS}/{custom}", headers=ALICE).json()["id"] == custom
    assert client.get(f"{MODELS}/black-forest-labs/flux.1-dev", headers=ALICE).status_code == 200


def test_retrieve_accepts_deployment_status_live_only(client: HubClient) -> None:
    assert client.get(model_path("gpt-4o") + "?deployment_status=live", headers=ALICE).status_code == 200
    for value in ("", "dead", "LIVE"):
        response = client.get(model_path("gpt-4o"), params={"deployment_status": value}, headers=ALICE)
        assert response.status_code == 400
        assert _error_type(response.json()) == "invalid_params"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("model_id", ["no-such-model", "alice:sandbox/ft-1-99", "ünïcödé:🦬", "a.b:c"])
def test_unknown_id_answers_404_naming_the_id(client: HubClient, method: str, model_id: str) -> None:
    response = client.request(method, model_path(model_id), headers=ALICE)
    assert response.status_code == 404
    body = response.json()
    assert _error_type(body) == "resource_not_found"
    assert body["error"]["detail"] == f"Model not found: {model_id}"


@pytest.mark.parametrize("action", ["activate", "deactivate"])
def test_actions_on_unknown_ids_answer_404(client: HubClient, action: str) -> None:
    response = client.post(model_path("nope", action), headers=ALICE)
    assert response.status_code == 404
    assert response.json()["error"]["detail"] == "Model not found: nope"


def test_activate_of_a_base_model_answers_it_unchanged(client: HubClient) -> None:
    response = client.post(model_path("gpt-4o", "activate"), headers=ALICE)
    assert response.status_code == 200
    assert response.content == client.get(model_path("gpt-4o"), headers=ALICE).content


def test_deactivate_of_a_base_model_is_refused(client: HubClient) -> None:
    response = client.post(model_path("gpt-4o", "deactivate"), headers=ALICE)
    assert response.status_code == 400
    assert _error_type(response.json()) == "invalid_params"
    assert client.get(model_path("gpt-4o"), headers=ALICE).json()["deployments"] == []


def test_activate_and_deactivate_change_the_deployment_status(client: HubClient) -> None:
    custom = deploy(client)
    off = client.post(model_path(custom, "deactivate"), headers=ALICE)
    assert off.status_code == 200
    assert off.json()["deployments"] == [{"status": "inactive"}]
    assert client.get(model_path(custom), headers=ALICE).json()["deployments"] == [{"status": "inactive"}]
    on = client.post(f"{MODELS}/{custom}/activate", headers=ALICE)
    assert on.status_code == 200
    assert on.json()["deployments"] == [{"status": "active"}]


def test_delete_answers_the_model_exactly_as_stored(client: HubClient) -> None:
    custom = deploy(client)
    client.post(model_path(custom, "deactivate"), headers=ALICE)
    before = client.get(model_path(custom), headers=ALICE)
    response = client.delete(model_path(custom), headers=ALICE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == before.content


def test_after_delete_every_operation_answers_404(client: HubClient) -> None:
    custom = deploy(client)
    assert client.delete(model_path(custom), headers=ALICE).status_code == 200
    assert client.get(model_path(custom), headers=ALICE).status_code == 404
    assert client.post(model_path(custom, "activate"), headers=ALICE).status_code == 404
    assert client.post(model_path(custom, "deactivate"), headers=ALICE).status_code == 404
    assert custom not in {m["id"] for m in client.get(MODELS, headers=ALICE).json()["data"]}
    assert client.get(f"{MODELS}/search?search=sandbox", headers=ALICE).json()["data"] == []


def test_second_delete_answers_404(client: HubClient) -> None:
    custom = deploy(client)
    assert client.delete(f"{MODELS}/{custom}", headers=ALICE).status_code == 200
    second = client.delete(model_path(custom), headers=ALICE)
    assert second.status_code == 404
    assert second.json()["error"]["detail"] == f"Model not found: {custom}"


def test_delete_of_a_base_model_is_refused_and_keeps_it(client: HubClient) -> None:
    response = client.delete(model_path("gpt-4o"), headers=ALICE)
    assert response.status_code == 400
    assert _error_type(response.json()) == "invalid_params"
    assert "Base models cannot be deleted" in response.json()["error"]["detail"]
    assert client.get(model_path("gpt-4o"), headers=ALICE).status_code == 200
    assert "gpt-4o" in {m["id"] for m in client.get(MODELS, headers=ALICE).json()["data"]}


@pytest.mark.parametrize(
    ("method", "action"), [("GET", ""), ("POST", "activate"), ("POST", "deactivate"), ("DELETE", "")]
)
def test_another_namespaces_model_is_404_and_stays_in_place(client: HubClient, method: str, action: str) -> None:
    custom = deploy(client)
    response = client.request(method, model_path(custom, action), headers=BOB)
    assert response.status_code == 404
    assert response.json()["error"]["detail"] == f"Model not found: {custom}"
    mine = client.get(model_path(custom), headers=ALICE)
    assert mine.status_code == 200
    assert mine.json()["deployments"] == [{"status": "active"}]


def test_fine_tune_deploy_answers_the_new_model_slug(client: HubClient) -> None:
    response = client.post(DEPLOY.format(owner="alice"), headers=ALICE)
    assert response.status_code == 200
    deployment = response.json()["deployment"]
    assert deployment == {
        "model_slug": "alice:sandbox/ft-1-1",
        "status": "deploying",
        "endpoint": "http://hub.test/api/ai/chat/completions",
    }
    model = client.get(model_path(deployment["model_slug"]), headers=ALICE).json()
    assert model["model_type"] == "custom"
    assert model["owned_by"] == "alice"
    assert model["source_model"] == "meta-llama/llama-3.1-8b-instruct"
    assert model["deployments"] == [{"status": "active"}]
    # The deploy was the hub's first request: registered at the start of the deterministic clock, as its answer said.
    assert model["created"] == EPOCH
    assert response.headers["date"] == "Thu, 01 Jan 2026 00:00:00 GMT"


@pytest.mark.parametrize("body", [None, {}, {"deployment_type": "fast"}, {"deployment_type": "normal", "x": 1}])
def test_checkpoint_deploy_answers_the_new_model(client: HubClient, body: object) -> None:
    response = client.post(
        DEPLOY_CHECKPOINT.format(owner="alice") + "?retry=false",
        headers=ALICE,
        content=json.dumps(body) if body else b"",
    )
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"deployment_id", "fine_tune", "model", "status", "status_message"}
    assert answer["fine_tune"]["id"] == "ft-1"
    model = answer["model"]
    assert model["id"] == "alice:sandbox/ft-1-1"
    assert client.get(model_path(model["id"]), headers=ALICE).json() == model
    # Copied from the base model it was fine-tuned from.
    base = client.get(model_path(model["source_model"]), headers=ALICE).json()
    assert (model["endpoint"], model["capabilities"], model["pricing"]) == (
        base["endpoint"],
        base["capabilities"],
        base["pricing"],
    )


def test_each_deploy_creates_a_new_model(client: HubClient) -> None:
    assert len({deploy(client) for _ in range(3)}) == 3


@pytest.mark.parametrize(
    "path",
    [
        "/api/repos/alice/sandbox/fine_tunes/ft-2/deploy",
        "/api/repos/alice/other/fine_tunes/ft-1/deploy",
        "/api/repos/bob/sandbox/fine_tunes/ft-1/deploy",
        "/api/repos/bob/sandbox/fine_tunes/ft-1/checkpoints/1/deploy",
        "/api/repos/carol/sandbox/fine_tunes/ft-1/checkpoints/1/deploy",
    ],
)
def test_deploy_of_an_unknown_or_foreign_fine_tune_answers_404(client: HubClient, path: str) -> None:
    response = client.post(path, headers=ALICE)
    assert response.status_code == 404
    assert response.json()["error"]["detail"] == "Fine-tune not found"


def test_deploy_of_an_unknown_checkpoint_answers_404(client: HubClient) -> None:
    response = client.post("/api/repos/alice/sandbox/fine_tunes/ft-1/checkpoints/2/deploy", headers=ALICE)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("step", "query", "body"),
    [
        ("one", "", b""),
        ("-1", "", b""),
        ("1", "?retry=maybe", b""),
        ("1", "", b"{not json"),
        ("1", "", b"[1, 2]"),
        ("1", "", b'{"deployment_type": "slow"}'),
        ("1", "", b"\xff\xfe"),
        ("1", "", b"[" * 5000),
    ],
)
def test_bad_checkpoint_deploy_input_answers_400(client: HubClient, step: str, query: str, body: bytes) -> None:
    path = f"/api/repos/alice/sandbox/fine_tunes/ft-1/checkpoints/{step}/deploy{query}"
    response = client.post(path, headers=ALICE, content=body)
    assert response.status_code == 400
    assert _error_type(response.json()) == "invalid_params"


ROUTES = [
    ("GET", MODELS),
    ("GET", f"{MODELS}/search?search=gpt"),
    ("GET", model_path("gpt-4o")),
    ("POST", model_path("gpt-4o", "activate")),
    ("POST", model_path("gpt-4o", "deactivate")),
    ("DELETE", model_path("gpt-4o")),
    ("POST", DEPLOY.format(owner="alice")),
    ("POST", DEPLOY_CHECKPOINT.format(owner="alice")),
]
BAD_CREDENTIALS = [None, "Bearer nope", "Basic dG9rLWFsaWNlOg==", "Bearer", "tok-alice", "Token tok-alice", ""]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("credential", BAD_CREDENTIALS)
def test_every_route_answers_401_without_a_valid_bearer_token(
    client: HubClient, method: str, path: str, credential: str | None
) -> None:
    headers = {} if credential is None else {"Authorization": credential}
    response = client.request(method, path, headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert _error_type(body) == "unauthenticated"
    assert body["error"]["title"] == "Unauthenticated"
    assert body["error"]["detail"]


def test_a_delete_without_a_token_deletes_nothing(client: HubClient) -> None:
    custom = deploy(client)
    assert client.delete(model_path(custom)).status_code == 401
    assert client.get(model_path(custom), headers=ALICE).status_code == 200


def test_the_bearer_scheme_is_case_insensitive(client: HubClient) -> None:
    assert client.get(MODELS, headers={"Authorization": "bearer tok-alice"}).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", model_path("gpt-4o"), "DELETE, GET"),
        ("PATCH", MODELS, "GET"),
        ("POST", MODELS, "GET"),
        ("HEAD", MODELS, "GET"),
        ("OPTIONS", f"{MODELS}/search", "DELETE, GET"),
        ("PUT", f"{MODELS}/gpt-4o/activate", "DELETE, GET, POST"),
        ("GET", DEPLOY.format(owner="alice"), "POST"),
        ("BREW", model_path("x"), "DELETE, GET"),
    ],
)
def test_an_unknown_method_answers_405_with_allow(client: HubClient, method: str, path: str, allow: str) -> None:
    response = client.request(method, path, headers=ALICE)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    if method != "HEAD":
        assert _error_type(response.json()) == "invalid_params"


def test_get_on_an_action_path_retrieves_an_id_with_a_raw_slash(client: HubClient) -> None:
    response = client.get(f"{MODELS}/gpt-4o/activate", headers=ALICE)
    assert response.status_code == 404
    assert response.json()["error"]["detail"] == "Model not found: gpt-4o/activate"


@pytest.mark.parametrize("path", ["/", "/api", "/api/ai/modelsx", "/api/repos/alice", "/api/repos/a/b/fine_tunes/c/x"])
def test_an_unknown_route_answers_404_with_an_error_body(client: HubClient, path: str) -> None:
    response = client.get(path, headers=ALICE)
    assert response.status_code == 404
    assert _error_type(response.json()) == "resource_not_found"


@pytest.mark.parametrize("headers", [ALICE, {}], ids=["with-a-key", "anonymous"])
@pytest.mark.parametrize("path", [MODELS, f"{MODELS}X", f"{MODELS}/", "/api/ai", "/", f"{MODELS}/search/x/y"])
def test_a_delete_no_route_takes_is_refused_never_a_server_error(
    client: HubClient, path: str, headers: dict[str, str]
) -> None:
    # rule:no-server-error holds for any request; the contract suite never sends these (it deletes only models it
    # proved its own), so the hub's own tests hold it here.
    response = client.delete(path, headers=headers)
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_a_hub_where_no_model_is_fine_tuneable_keeps_none_under_an_action_filter(make_client: MakeClient) -> None:
    # The nullable-fields-null variant answers fine_tuning null everywhere, which says "not fine-tuneable" ([S]).
    client = make_client("nullable-fields-null")
    listed = client.get(MODELS, headers=ALICE).json()["data"]
    assert listed and all(model["fine_tuning"] is None for model in listed)
    assert client.get(f"{MODELS}?action=text_generation", headers=ALICE).json()["data"] == []


def test_a_body_on_get_is_ignored(client: HubClient) -> None:
    response = client.request("GET", MODELS, headers=ALICE, content=b"\x00\xff{garbage")
    assert response.status_code == 200


def _session(client: HubClient) -> list[tuple[int, str | None, bytes]]:
    custom = deploy(client)
    other = client.post(DEPLOY_CHECKPOINT.format(owner="alice"), headers=ALICE).json()["model"]["id"]
    calls = [
        client.get(MODELS, headers=ALICE),
        client.get(f"{MODELS}/search?search=sandbox", headers=ALICE),
        client.post(model_path(custom, "deactivate"), headers=ALICE),
        client.get(model_path(other), headers=ALICE),
        client.delete(model_path(custom), headers=ALICE),
        client.delete(model_path(custom), headers=ALICE),
        client.get(MODELS, headers=BOB),
        client.delete(model_path("gpt-4o"), headers=ALICE),
    ]
    return [(r.status_code, r.headers.get("content-type"), r.content) for r in calls]


def test_deterministic_mode_answers_byte_identically(make_client: MakeClient) -> None:
    first, second = _session(make_client()), _session(make_client())
    assert first == second


def test_without_deterministic_mode_ids_are_fresh_and_created_is_now(make_client: MakeClient) -> None:
    one, two = make_client(deterministic=False), make_client(deterministic=False)
    first, second = deploy(one), deploy(two)
    assert first != second
    assert first.startswith("alice:sandbox/ft-1-1-")
    assert client_created(one, first) > EPOCH - 10**8


def client_created(client: HubClient, model_id: str) -> int:
    created: int = client.get(model_path(model_id), headers=ALICE).json()["created"]
    return created
