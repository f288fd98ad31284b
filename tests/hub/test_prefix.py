"""A hub URL with a path: the whole API served below a gateway's prefix, and nothing outside it."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from oxen_contract.hub import LocalHub
from oxen_contract.hub.audit import Audit
from oxen_contract.hub.routing import gateway_prefix, strip_prefix

from ._helpers import ALICE, DEPLOY, DEPLOY_CHECKPOINT, MODELS, TOKENS, model_path
from .conftest import MakeClient


@pytest.mark.parametrize(
    ("text", "prefix"), [("", ""), ("/oxen", "/oxen"), ("/oxen/", "/oxen"), ("/a/b-1.c~", "/a/b-1.c~")]
)
def test_a_prefix_is_a_plain_path_without_a_trailing_slash(text: str, prefix: str) -> None:
    assert gateway_prefix(text) == prefix


@pytest.mark.parametrize("text", ["oxen", "/ox en", "/oxen?x=1", "//oxen", "/a/../b", "/%2F", "/oxen#f"])
def test_a_prefix_that_is_not_a_plain_path_is_refused_saying_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match="expected a path such as /oxen"):
        gateway_prefix(text)


def test_stripping_the_prefix_leaves_the_api_path_or_nothing() -> None:
    assert strip_prefix(b"/oxen/api/ai/models", "/oxen") == b"/api/ai/models"
    assert strip_prefix(b"/api/ai/models", "") == b"/api/ai/models"
    for outside in (b"/api/ai/models", b"/oxenx/api/ai/models", b"/oxen", b"/OXEN/api/ai/models"):
        assert strip_prefix(outside, "/oxen") is None


def test_below_the_prefix_every_operation_answers_as_without_it(make_client: MakeClient) -> None:
    plain, prefixed = make_client(), make_client(prefix="/oxen")
    for client, at in ((plain, ""), (prefixed, "/oxen")):
        mine = client.post(at + DEPLOY.format(owner="alice"), headers=ALICE).json()["deployment"]
        assert mine["endpoint"] == f"http://hub.test{at}/api/ai/chat/completions"
        assert client.get(at + model_path(mine["model_slug"]), headers=ALICE).status_code == 200
        assert client.get(at + f"{MODELS}/search?search=sandbox", headers=ALICE).json()["data"]
        assert client.post(at + DEPLOY_CHECKPOINT.format(owner="alice"), headers=ALICE).status_code == 200
        assert client.delete(at + model_path(mine["model_slug"]), headers=ALICE).status_code == 200
    assert plain.get(MODELS, headers=ALICE).content == prefixed.get("/oxen" + MODELS, headers=ALICE).content


@pytest.mark.parametrize("path", [MODELS, "/oxen", "/oxenx/api/ai/models", "/", "/other/api/ai/models"])
def test_outside_the_prefix_every_path_answers_a_documented_404(make_client: MakeClient, path: str) -> None:
    client = make_client(prefix="/oxen")
    response = client.get(path, headers=ALICE)
    assert response.status_code == 404
    body = response.json()
    assert (body["status"], body["error"]["type"]) == ("error", "resource_not_found")


def test_the_audit_records_paths_as_they_arrived_prefix_and_all(make_client: MakeClient) -> None:
    client = make_client(prefix="/oxen")
    mine = client.post("/oxen" + DEPLOY.format(owner="alice"), headers=ALICE).json()["deployment"]["model_slug"]
    assert client.delete(model_path(mine), headers=ALICE).status_code == 404
    assert client.delete("/oxen" + model_path(mine), headers=ALICE).status_code == 200
    audit: Audit = client.app.state.audit
    assert [(record.path, record.model_id, record.deleted) for record in audit.deletes()] == [
        (model_path(mine), None, False),
        ("/oxen" + model_path(mine), mine, True),
    ]
    assert audit.created_ids() == (mine,)


def test_a_redirect_below_the_prefix_keeps_it(make_client: MakeClient) -> None:
    client = make_client("hostile-delete-redirect", prefix="/oxen")
    mine = client.post("/oxen" + DEPLOY.format(owner="alice"), headers=ALICE).json()["deployment"]["model_slug"]
    location = client.delete("/oxen" + model_path(mine), headers=ALICE).headers["location"]
    assert location == "/oxen/api/ai/models/alice%3Asandbox%2Fft-1-prod"


def test_a_local_hub_with_a_prefix_hands_out_a_url_with_a_path() -> None:
    with LocalHub(TOKENS, prefix="/oxen/") as hub, httpx.Client() as client:
        assert hub.url.startswith("http://127.0.0.1:") and hub.url.endswith("/oxen")
        assert client.get(hub.url + MODELS, headers=ALICE).status_code == 200
        assert client.get(hub.url.removesuffix("/oxen") + MODELS, headers=ALICE).status_code == 404


def test_the_command_line_serves_below_a_prefix_and_prints_the_url_with_it() -> None:
    hub = [sys.executable, "-m", "oxen_contract.hub", "--token", "dev=alice", "--port", "0", "--prefix", "/oxen"]
    process = subprocess.Popen(hub, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[-1]
        assert url.endswith("/oxen")
        assert httpx.get(url + MODELS, headers={"Authorization": "Bearer dev"}).status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=15)


def test_a_bad_prefix_on_the_command_line_is_one_line_and_exit_2() -> None:
    command = [sys.executable, "-m", "oxen_contract.hub", "--token", "dev=alice", "--prefix", "oxen"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "invalid prefix 'oxen'" in result.stderr
