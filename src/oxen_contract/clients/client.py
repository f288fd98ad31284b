"""The suite's HTTP client for the hub: one call per documented operation, each answer kept as an Exchange.

What an exchange is lives in ``checking/exchange.py``; how a request leaves the process (guard, deadline, retries,
key) in ``http/``; the failure a request that gets no whole answer raises (``HubTimeout``) in ``checking/failures.py``.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from ..checking.contract_failure import HubTimeout
from ..checking.exchange import (
    MODELS,
    Credential,
    Exchange,
    authorization,
    decoded,
    fine_tune_path,
    model_path,
    shown_id,
)
from ..http.fanout import ReadAhead, side_by_side
from ..http.guard import RequestGuard
from ..http.redaction import ApiKey
from ..http.retries import (
    CLEANUP_REQUESTS,
    PROBE_REQUESTS,
    RETRY_STATUSES,
    HubUnavailable,
    RequestBudget,
    send_with_retries,
)
from ..http.transport import BearerAuth, Sending, guarded_httpx_client, translated_errors

Item = TypeVar("Item")
Answer = TypeVar("Answer")

__all__ = ["HubClient"]


class HubClient:
    """Calls the hub at ``base_url`` with the run's keys; each method answers an Exchange.

    Every request goes through ``guard`` (transport.py): no redirect is followed, a DELETE of a model the run may not
    delete never leaves, and --request-timeout bounds the whole exchange.
    """

    def __init__(
        self,
        base_url: str,
        keys: Mapping[str, ApiKey],
        *,
        guard: RequestGuard,
        budget: RequestBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.guard = guard
        self.timeout = guard.timeout
        self.budget = budget or RequestBudget(None)
        self._sleep = sleep
        self._keys = dict(keys)
        # Whatever else of the run sends through this guard (schemathesis, the OpenAI SDK), no answer shows these keys.
        guard.protect(*self._keys.values())
        self._http = guarded_httpx_client(guard)

    def for_cleanup(self) -> HubClient:
        """The same client on a budget of its own, so that cleanup runs after --max-requests is spent."""
        return self._on_budget(self.budget.twin(CLEANUP_REQUESTS, purpose="the cleanup budget of"))

    def for_probes(self) -> HubClient:
        """The same client on a budget of its own, so that a failure is sorted after --max-requests is spent."""
        return self._on_budget(self.budget.twin(PROBE_REQUESTS, purpose="the probe budget of"))

    def _on_budget(self, budget: RequestBudget) -> HubClient:
        twin = copy.copy(self)
        twin.budget = budget
        return twin

    def close(self) -> None:
        self._http.close()

    def side_by_side(
        self, fetch: Callable[[Item], Answer], items: Iterable[Item], ahead: ReadAhead | None = None
    ) -> AbstractContextManager[Iterator[Answer]]:
        """``fetch`` each item (independent reads), up to --concurrency at once; the answers in the items' order.

        ``fetch`` may send through this client or any other client of the run on its budget (the OpenAI SDK's): the
        pace bounds them all. See ``fanout.py``.
        """
        return side_by_side(fetch, items, self.budget.pace, ahead)

    def read_ahead(self, fetch: Callable[[Item], Answer], items: Iterable[Item]) -> ReadAhead:
        """Start ``fetch`` of each item now, in the pace's spare room, for a later ``side_by_side`` to take."""
        return ReadAhead(fetch, items, self.budget.pace)

    def _auth(self, credential: str) -> tuple[httpx.Auth | None, dict[str, str]]:
        """How a request carries ``credential``: the run's keys through the auth hook, never as a plain header."""
        key = self._keys.get(credential)
        if key:
            return BearerAuth(key), {}
        header = authorization(credential)
        return None, ({"Authorization": header} if header is not None else {})

    def send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        model_id: str | None = None,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        credential: str = Credential.KEY,
        retry_statuses: tuple[int, ...] = RETRY_STATUSES,
    ) -> Exchange:
        url = self.base_url + path + (f"?{urlencode(params)}" if params else "")
        # The id as the record and its text carry it; the path keeps the bytes as sent.
        model_id = shown_id(model_id) if model_id is not None else None
        content = json.dumps(body) if body is not None else None
        auth, auth_header = self._auth(credential)
        headers = {"Accept": "application/json", **auth_header}
        if content is not None:
            headers["Content-Type"] = "application/json"

        sending = Sending(operation, method, url, model_id, credential)

        def attempt() -> httpx.Response:
            with translated_errors(sending, self.guard):
                return self._http.request(
                    method,
                    url,
                    content=content,
                    headers=headers,
                    auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                    extensions={"oxen_operation": operation},
                )

        response = send_with_retries(
            attempt,
            lambda answer: answer.status_code,
            lambda answer: answer.headers,
            budget=self.budget,
            sleep=self._sleep,
            label=f"{method} {url}",
            retry_statuses=retry_statuses,
        )
        text, problem = decoded(response.content)
        return Exchange(
            operation=operation,
            method=method,
            url=url,
            path=path,
            model_id=model_id,
            credential=credential,
            status=response.status_code,
            headers={key.lower(): value for key, value in response.headers.items()},
            text=text,
            request_body=content,
            body_problem=problem,
        )

    def probe(self) -> str | None:
        """Why the hub is unavailable (unreachable, timing out, 429 past retries, 502/503/504); None if it answers."""
        try:
            answer = self.list()
        except HubTimeout:
            return f"GET {self.base_url}{MODELS} got no answer within {self.timeout:g} s"
        except HubUnavailable as error:
            return str(error)
        if answer.status in (502, 503, 504):
            return f"GET {self.base_url}{MODELS} answered {answer.status}"
        return None

    def not_ready(self) -> str | None:
        """Why the run cannot use this hub as configured (a key it refuses, a URL that is not its root); or None.

        The list is the one operation any valid key may call, so its answer tells a refused key and a wrong base URL
        apart from anything the contract says.
        """
        answer = self.list()
        if answer.status in (401, 403):
            return (
                f"the hub refuses OXEN_API_KEY: GET {self.base_url}{MODELS}, which any valid key may read, answered "
                f"{answer.status}. Check the key, and that --hub-url is the hub it belongs to"
            )
        if answer.status == 404:
            return (
                f"GET {self.base_url}{MODELS} answered 404: no models API at that URL. --hub-url must be the hub's "
                "root, the URL /api/ai/models is appended to (e.g. https://hub.oxen.ai, not .../api/ai)"
            )
        return None

    def list(self, credential: str = Credential.KEY, **params: str) -> Exchange:
        return self.send("listModels", "GET", MODELS, params=params, credential=credential)

    def search(self, search: str, credential: str = Credential.KEY) -> Exchange:
        return self.send("searchModels", "GET", f"{MODELS}/search", params={"search": search}, credential=credential)

    def retrieve(self, model_id: str, credential: str = Credential.KEY, **params: str) -> Exchange:
        path = model_path(model_id)
        return self.send("retrieveModel", "GET", path, model_id=model_id, params=params, credential=credential)

    def activate(self, model_id: str, credential: str = Credential.KEY) -> Exchange:
        path = model_path(model_id, "activate")
        return self.send("activateModel", "POST", path, model_id=model_id, credential=credential)

    def deactivate(self, model_id: str, credential: str = Credential.KEY) -> Exchange:
        path = model_path(model_id, "deactivate")
        return self.send("deactivateModel", "POST", path, model_id=model_id, credential=credential)

    def delete(self, model_id: str, credential: str = Credential.KEY) -> Exchange:
        return self.send("deleteModel", "DELETE", model_path(model_id), model_id=model_id, credential=credential)

    def delete_unknown(self, model_id: str) -> Exchange:
        """A DELETE of an id that names no model (retrieve just answered 404 for it), let through once."""
        with self.guard.allow_once(model_id):
            return self.delete(model_id)

    def probe_delete(self, model_id: str, credential: str = Credential.KEY) -> Exchange:
        """A DELETE the hub must refuse (a base model, another namespace's): a protection probe's, let through once."""
        with self.guard.allow_once(model_id):
            return self.delete(model_id, credential)

    # A deploy is never retried on 5xx or a timeout: the hub may have deployed (and billed) before it failed. The
    # provisioner retries a 429 itself, counting each attempt against --max-provisions.
    def deploy_fine_tune(self, owner: str, repo: str, fine_tune_id: str) -> Exchange:
        path = f"{fine_tune_path(owner, repo, fine_tune_id)}/deploy"
        return self.send("deployFineTune", "POST", path, retry_statuses=())

    def deploy_checkpoint(self, owner: str, repo: str, fine_tune_id: str, step: int) -> Exchange:
        path = f"{fine_tune_path(owner, repo, fine_tune_id)}/checkpoints/{step}/deploy"
        # The documented body [S], naming the plainer of its two deployment types: a hub that cannot read it fails
        # the deploy, where an empty body would not show it.
        body = {"deployment_type": "normal"}
        return self.send("deployCheckpoint", "POST", path, body=body, retry_statuses=())
