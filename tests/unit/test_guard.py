"""guard.py: only the requests the suite knows leave, relative to the hub URL's path; deploys within the cap."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from oxen_contract.http.deadline import DeadlineExceeded
from oxen_contract.http.guard import RequestGuard, UnsafeRequest
from oxen_contract.http.redaction import ApiKey

HUB = "http://hub.test"
MINE = "alice:sandbox/ft-1-7"
MINE_PATH = "/api/ai/models/alice%3Asandbox%2Fft-1-7"


def _guard(url: str = HUB, **kwargs: Any) -> RequestGuard:
    return RequestGuard(url, lambda: {MINE}, **kwargs)


@pytest.mark.parametrize(
    "path",
    [
        "/api/ai/models/alice%3Asandbox%2Fft-1-prod",  # not the run's
        "/api/ai/models/",  # what a '.' id becomes once dot segments are removed
        "/api/ai/models/.",
        "/api/ai/models/..",
        "/api/ai/models",
        "/api/ai",
        "/api/ai/models/alice:sandbox/ft-1-7",  # the run's id, but not as one segment
    ],
)
def test_guard_refuses_a_delete_of_anything_but_a_verified_id(path: str) -> None:
    with pytest.raises(UnsafeRequest, match="refusing to send DELETE"):
        _guard().check("DELETE", HUB + path)


def test_guard_lets_out_a_delete_of_a_verified_id_and_a_probe_only_inside_allow_once() -> None:
    guard = _guard()
    guard.check("DELETE", f"{HUB}/api/ai/models/alice%3Asandbox%2Fft-1-7")
    with guard.allow_once("gpt-4.1-mini"):
        guard.check("DELETE", f"{HUB}/api/ai/models/gpt-4.1-mini")
    with pytest.raises(UnsafeRequest):
        guard.check("DELETE", f"{HUB}/api/ai/models/gpt-4.1-mini")


@pytest.mark.parametrize("url", ["http://other.test/api/ai/models", "https://hub.test/api/ai/models"])
def test_guard_refuses_any_request_to_another_origin(url: str) -> None:
    with pytest.raises(UnsafeRequest, match="not the hub"):
        _guard().check("GET", url)


def test_guard_counts_deploy_posts_and_refuses_past_the_cap() -> None:
    guard = _guard(max_deploys=2)
    for path in ("/api/repos/a/b/fine_tunes/ft/deploy", "/api/repos/a/b/fine_tunes/ft/checkpoints/1/deploy"):
        guard.check("POST", HUB + path)
    with pytest.raises(UnsafeRequest, match="--max-provisions"):
        guard.check("POST", f"{HUB}/api/repos/a/b/fine_tunes/ft/deploy")
    assert guard.deploy_posts == 2


def test_after_an_operation_stalls_its_next_request_fails_at_once() -> None:
    guard = _guard()
    guard.stalled_on("retrieveModel")
    with pytest.raises(DeadlineExceeded, match="not waiting again") as failure:
        guard.before("retrieveModel")
    assert failure.value.fast
    guard.before("listModels")  # other operations still wait


# Every request the suite sends, by route (the live suite against the local hub sends these and no other).
ALLOWED = [
    ("GET", "/api/ai/models"),
    ("GET", "/api/ai/models/search"),
    ("GET", "/api/ai/models/gpt-4.1-mini"),
    ("GET", MINE_PATH),
    ("GET", "/api/ai/models/a%2Fb%3Fc%23d%25e"),  # an odd id, one segment once encoded
    ("POST", f"{MINE_PATH}/activate"),
    ("POST", f"{MINE_PATH}/deactivate"),
    ("DELETE", MINE_PATH),
    ("POST", "/api/repos/alice/sandbox/fine_tunes/ft-1/deploy"),
    ("POST", "/api/repos/alice/sandbox/fine_tunes/ft-1/checkpoints/1/deploy"),
]


@pytest.mark.parametrize(
    "base", ["http://hub.test", "http://hub.test/", "http://hub.test/oxen", "http://hub.test/oxen/"]
)
@pytest.mark.parametrize(("method", "route"), ALLOWED)
def test_guard_lets_out_each_request_the_suite_makes_below_the_hub_url_s_path(
    base: str, method: str, route: str
) -> None:
    guard = _guard(base, max_deploys=1)
    guard.check(method, base.rstrip("/") + route)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/ai/models"),  # the hub's routes are below /oxen
        ("DELETE", MINE_PATH),
        ("GET", "/oxenx/api/ai/models"),
        ("GET", "/"),
    ],
)
def test_guard_refuses_a_request_outside_the_hub_url_s_path(method: str, path: str) -> None:
    with pytest.raises(UnsafeRequest, match=f"refusing to send {method} {path}: outside the hub's base path"):
        _guard(f"{HUB}/oxen").check(method, HUB + path)


def test_guard_counts_deploy_posts_below_the_hub_url_s_path_and_refuses_past_the_cap() -> None:
    guard = _guard(f"{HUB}/oxen", max_deploys=1)
    guard.check("POST", f"{HUB}/oxen/api/repos/a/b/fine_tunes/ft/deploy")
    with pytest.raises(UnsafeRequest, match="--max-provisions"):
        guard.check("POST", f"{HUB}/oxen/api/repos/a/b/fine_tunes/ft/checkpoints/1/deploy")
    assert guard.deploy_posts == 1


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("PUT", MINE_PATH),
        ("PATCH", MINE_PATH),
        ("HEAD", MINE_PATH),
        ("OPTIONS", "/api/ai/models"),
        ("POST", "/api/ai/models"),
        ("POST", f"{MINE_PATH}/favorite"),
        ("DELETE", f"{MINE_PATH}/favorite"),
        ("POST", f"{MINE_PATH}/activate/now"),
        ("GET", "/api/ai/models/alice:sandbox/ft-1-7"),  # two segments
        ("GET", "/api/ai/models/"),
        ("GET", "/api/ai/models/%2E%2E"),  # a dot segment, encoded
        ("GET", "/api/ai/models/x/../../repos"),
        ("GET", "/api/repos/alice/sandbox"),
        ("GET", "/api/ai/chat/completions"),
        ("POST", "/api/ai/chat/completions"),
        ("DELETE", "/api/repos/alice/sandbox"),
    ],
)
def test_guard_refuses_a_request_the_suite_does_not_make_before_it_is_sent(method: str, route: str) -> None:
    with pytest.raises(UnsafeRequest, match=f"refusing to send {method} /oxen{route}:"):
        _guard(f"{HUB}/oxen", max_deploys=5).check(method, f"{HUB}/oxen{route}")


def test_a_refusal_names_method_and_path_but_never_a_key() -> None:
    key = ApiKey("sk-never/shown+0123456789", "$OXEN_API_KEY")
    with pytest.raises(UnsafeRequest) as refused:
        _guard(keys=[key]).check("PUT", f"{HUB}/api/ai/models/sk-never%2Fshown%2B0123456789")
    assert str(refused.value).startswith("refusing to send PUT /api/ai/models/$OXEN_API_KEY:")


def test_a_probe_lets_out_its_one_route_only_inside_its_block() -> None:
    guard = _guard()
    put_mine, put_other = f"{HUB}{MINE_PATH}", f"{HUB}/api/ai/models/gpt-4.1-mini"
    with guard.probing("PUT", MINE), guard.probing("HEAD", path="/api/ai/models/favorites"):
        guard.check("PUT", put_mine)
        guard.check("HEAD", f"{HUB}/api/ai/models/favorites")
        for method, url in (("PUT", put_other), ("PATCH", put_mine), ("HEAD", f"{HUB}/api/ai/models/featured")):
            with pytest.raises(UnsafeRequest):
                guard.check(method, url)
    with pytest.raises(UnsafeRequest):
        guard.check("PUT", put_mine)


def test_a_probe_lets_out_its_route_only_from_the_thread_that_declared_it() -> None:
    guard = _guard()
    refused: list[bool] = []

    def elsewhere() -> None:
        try:
            guard.check("DELETE", f"{HUB}/api/ai/models/gpt-4.1-mini")
        except UnsafeRequest:
            refused.append(True)

    with guard.allow_once("gpt-4.1-mini"):
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
        guard.check("DELETE", f"{HUB}/api/ai/models/gpt-4.1-mini")
    assert refused == [True]


def test_a_probe_never_lets_out_a_dot_segment_nor_a_deploy_past_the_cap() -> None:
    guard = _guard()
    deploy = "/api/repos/a/b/fine_tunes/ft/deploy"
    with (
        guard.probing("DELETE", ".."),
        guard.probing("DELETE", path="/api/ai/models/.."),
        guard.probing("POST", path=deploy),
    ):
        for method, route in (("DELETE", "/api/ai/models/.."), ("DELETE", "/api/ai/models/%2e%2e"), ("POST", deploy)):
            with pytest.raises(UnsafeRequest):
                guard.check(method, HUB + route)
