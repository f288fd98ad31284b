"""What may leave the process: an allowlist of the hub's routes, checked on every request before it is sent.

``RequestGuard`` sees each request as it goes out (``transport.py`` calls ``check`` after any redirect handling a
library might still do) and lets it through only if it is one the suite knows, relative to the hub URL's path (a
gateway may serve the hub under a prefix, ``https://host/oxen``):

- ``GET /api/ai/models``, ``GET /api/ai/models/search`` and ``GET /api/ai/models/{id}``;
- ``POST /api/ai/models/{id}/activate`` and ``/deactivate``;
- ``DELETE /api/ai/models/{id}``, for an id the run verified as its own (``may_delete``) only;
- ``POST`` to the two deploy routes (``DEPLOY_ROUTE``), within the run's allowance (``--max-provisions``);
- and what a probe declares, for the length of a ``with guard.probing(...)`` block.

``{id}`` is one path segment, never a dot segment (``.``, ``..``, which proxies may resolve into another route).
Anything else, including any request to another origin or outside the base path, raises ``UnsafeRequest`` before
it is sent. The guard also gives each request its deadline (``before``), remembers the operations that stalled, and
holds the run's keys, whose every spelling the transports remove from what the hub answers (``redactor``).
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextvars import ContextVar
from urllib.parse import unquote, urlsplit

from ..checking.exchange import MODELS
from ..checking.failures import OxenContractError
from .deadline import DeadlineExceeded
from .redaction import ApiKey, Redactor

__all__ = ["DEPLOY_ROUTE", "MODELS_PREFIX", "RequestGuard", "UnsafeRequest"]

MODELS_PREFIX = f"{MODELS}/"
# Both documented deploy routes, relative to the hub URL: a POST here costs money on a real hub.
DEPLOY_ROUTE = re.compile(r"^/api/repos/[^/]+/[^/]+/fine_tunes/[^/]+(?:/checkpoints/[^/]+)?/deploy/?$")
_MODEL_ACTIONS = ("activate", "deactivate")

# The probes open in this context, as (guard, method, model id or None, route or None). A context variable, so that
# a probe lets its request through only where it was declared: not for another thread sending at the same time.
_PROBES: ContextVar[tuple[tuple[object, str, str | None, str | None], ...]] = ContextVar(
    "oxen_contract_probes", default=()
)


class UnsafeRequest(OxenContractError, RuntimeError):
    """The suite was about to send a request it must never send; it was not sent."""


def _model_id(segment: str) -> str | None:
    """The model id one path segment names, or None if it is not one segment or is a dot segment."""
    if not segment or "/" in segment:
        return None
    # surrogateescape: the inverse of exchange.model_path, so an id that is not UTF-8 compares as it was sent.
    model_id = unquote(segment, errors="surrogateescape")
    return None if model_id in (".", "..") else model_id


class RequestGuard:
    """Decides, for each request about to leave, whether it may; counts deploys; remembers stalled operations.

    ``hub_url`` is the hub's base URL (``http://h:1`` or ``http://h:1/oxen``): routes are matched below its path.
    ``may_delete`` answers the ids the run may delete right now (verified disposable models). ``keys`` are the
    run's keys (more may be added with ``protect``): ``redactor`` removes them from the hub's answers.
    """

    def __init__(
        self,
        hub_url: str,
        may_delete: Callable[[], Collection[str]] = frozenset,
        *,
        max_deploys: int = 0,
        timeout: float = 30.0,
        keys: Iterable[ApiKey] = (),
    ) -> None:
        parts = urlsplit(hub_url)
        self.origin = (parts.scheme, parts.hostname, parts.port)
        self.base_path = parts.path.rstrip("/")
        self.hub_url = hub_url
        self.may_delete = may_delete
        self.max_deploys = max_deploys
        self.timeout = timeout
        self.deploy_posts = 0
        self.stalled: set[str] = set()
        self._lock = threading.Lock()
        self._keys: tuple[ApiKey, ...] = ()
        self.redactor = Redactor()
        self.protect(*keys)

    def protect(self, *keys: ApiKey) -> None:
        """Add keys of the run: from now on no answer shows them, in any spelling."""
        with self._lock:
            known = {id(key) for key in self._keys}
            added = tuple(key for key in keys if key and id(key) not in known)
            if added:
                self._keys += added
                # Replaced whole, never changed in place: a transport in another thread keeps the one it took.
                self.redactor = ApiKey.redactor(self._keys)

    def check(self, method: str, url: str) -> None:
        """Raise UnsafeRequest unless ``method url`` may leave the process now."""
        parts = urlsplit(url)
        method = method.upper()
        if (parts.scheme, parts.hostname, parts.port) != self.origin:
            self._refuse(method, f"{parts.scheme}://{parts.netloc}{parts.path}", "not the hub")
        path = parts.path
        if path != self.base_path and not path.startswith(f"{self.base_path}/"):
            self._refuse(method, path, f"outside the hub's base path {self.base_path!r}")
        route = path[len(self.base_path) :] or "/"
        if any(unquote(segment) in (".", "..") for segment in route.split("/")):
            self._refuse(method, path, "it holds a dot segment, which a proxy may resolve into another route")
        if method == "POST" and DEPLOY_ROUTE.match(route):
            self._count_deploy(path)  # even a probe may not pass the cap
            return
        if self._probed(method, route):
            return
        if method == "DELETE":
            self._check_delete(path, route)
        elif not self._known(method, route):
            self._refuse(method, path, "not a request the suite makes")

    def _known(self, method: str, route: str) -> bool:
        below = route[len(MODELS_PREFIX) :] if route.startswith(MODELS_PREFIX) else None
        if method == "GET":
            # list; retrieve, and search, which is one segment too
            return route == MODELS or (below is not None and _model_id(below) is not None)
        if method == "POST" and below is not None:
            segment, _, action = below.partition("/")
            return action in _MODEL_ACTIONS and _model_id(segment) is not None
        return False

    def _check_delete(self, path: str, route: str) -> None:
        model_id = _model_id(route[len(MODELS_PREFIX) :]) if route.startswith(MODELS_PREFIX) else None
        if model_id is None:
            self._refuse("DELETE", path, "it names no single model")
        if model_id not in self.may_delete():
            self._refuse("DELETE", path, f"this run did not provision {model_id!r}")

    def _count_deploy(self, path: str) -> None:
        with self._lock:
            if self.deploy_posts >= self.max_deploys:
                self._refuse(
                    "POST",
                    path,
                    f"{self.deploy_posts} deploy(s) sent, the run may send {self.max_deploys} (--max-provisions)",
                )
            self.deploy_posts += 1

    def _refuse(self, method: str, where: str, why: str) -> None:
        # The redactor too: the path and the reason come from the suite, but a key must not leave even by mistake.
        raise UnsafeRequest(self.redactor.redact(f"refusing to send {method} {where}: {why}"))

    def _probed(self, method: str, route: str) -> bool:
        model_id = _model_id(route[len(MODELS_PREFIX) :]) if route.startswith(MODELS_PREFIX) else None
        for guard, probe_method, probe_id, probe_route in _PROBES.get():
            if guard is self and method == probe_method:
                if (probe_id == model_id) if probe_id is not None else (probe_route == route):
                    return True
        return False

    @contextlib.contextmanager
    def probing(self, method: str, model_id: str | None = None, *, path: str | None = None) -> Iterator[None]:
        """Inside the block, let this thread send ``method`` to one route the guard does not otherwise allow.

        The route is a model's own, ``/api/ai/models/{model_id}`` (a DELETE the hub should refuse, a PUT, PATCH or
        HEAD of the run's model), or ``path``, below the hub URL's path as sent (percent-encoded). A dot segment is
        never let through, nor a deploy past the cap.
        """
        if (model_id is None) == (path is None):
            raise TypeError("probing() takes a model id or a path, not both or neither")
        token = _PROBES.set((*_PROBES.get(), (self, method.upper(), model_id, path)))
        try:
            yield
        finally:
            _PROBES.reset(token)

    def allow_once(self, model_id: str) -> contextlib.AbstractContextManager[None]:
        """Let a protection probe send a DELETE of ``model_id`` (one it expects the hub to refuse)."""
        return self.probing("DELETE", model_id)

    def before(self, operation: str | None) -> float:
        """The deadline of a request of ``operation``; fails fast if that operation already stalled this run."""
        if operation and operation in self.stalled:
            raise DeadlineExceeded(
                f"{operation} already got no answer within {self.timeout:g} s in this run: not waiting again",
                fast=True,
            )
        return time.monotonic() + self.timeout

    def stalled_on(self, operation: str | None) -> None:
        if operation:
            self.stalled.add(operation)
