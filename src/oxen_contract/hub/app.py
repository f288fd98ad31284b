"""The Starlette app of the local reference hub: routes, bearer auth, answers and error bodies.

It speaks the models API as documented, so that the suite has a real server to record from and to run against, and it
bends its answers only where a fault of the ``faults`` package says so (hostile ones through ``hostile.py``). It holds
no SQL (``store.py`` does) and parses no path itself (``routing.py`` does). Every answer, error or not, is built as a
``Reply`` and rendered with stable key order, so that deterministic mode gives byte-identical bodies. Every request
takes a tick of the hub's one ``Clock`` as it arrives: the answer's ``Date`` header states it, and a model the request
creates is registered at it. Deletes and deploys are written to an ``Audit`` after they are answered, so that tests can
see what really happened. With a ``prefix`` (a gateway's path), the API is served below it and nowhere else.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from . import hostile, hostile_answers
from .audit import Audit, DeleteRecord, DeployRecord
from .catalog import BASE_MODELS, BASE_MODELS_BY_ID, sandbox_fine_tune
from .clock import Clock, Tick, http_date
from .faults import Fault, Switch, resolve
from .incoming import Query, base_url, checkpoint_problem, path_text, raw_path
from .records import DEPLOYMENT_STATUSES, ApiError, FineTune, JsonObject, Model, Reply, custom_model, render
from .routing import Resource, Target, gateway_prefix, strip_prefix
from .routing import resolve as resolve_path
from .store import Store, Stored, Tx
from .synthetic import catalog_of

__all__ = ["create_app"]

_DEPLOYS = ("deploy", "deploy_checkpoint")
_RATE_LIMITED = ApiError(429, "unknown_error", "Too many requests: retry later")


def _not_found(model_id: str) -> ApiError:
    return ApiError(404, "resource_not_found", f"Model not found: {model_id}", model_id=model_id)


def _invalid(detail: str) -> ApiError:
    return ApiError(400, "invalid_params", detail)


class _Hub:
    """The ASGI app that answers every request, behind Starlette's error handling."""

    def __init__(
        self,
        store: Store,
        tokens: Mapping[str, str],
        faults: tuple[Fault, ...],
        audit: Audit,
        clock: Clock,
        *,
        deterministic: bool,
        hang: float,
        drip: float,
        prefix: str,
        bomb_bytes: int,
        latency: float,
    ) -> None:
        self.store = store
        self._tokens = dict(tokens)
        self._faults = faults
        self._switches = frozenset(switch for fault in faults for switch in fault.switches)
        self._audit = audit
        self._clock = clock
        self._deterministic = deterministic
        self._hang = hang
        self._drip = drip
        self._prefix = prefix
        self._bomb_bytes = bomb_bytes
        self._latency = latency
        self._colleague = hostile.Colleague()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        tick = self._clock.tick()
        if Switch.COLLEAGUE_AFTER_DEPLOY in self._switches:
            self._colleague_arrives(tick)
        reply = await self._answer(request, tick)
        if self._latency > 0:
            # A hub far away: every answer, whatever it is, comes this much later (other requests are served meanwhile).
            await anyio.sleep(self._latency)
        if Switch.ECHO_KEY in self._switches:
            reply = hostile_answers.echo_key(reply, request.headers.get("authorization"))
        headers = dict(reply.headers)
        # The hub's own time, from the clock that also dates what the request created (uvicorn adds no Date).
        headers["Date"] = http_date(tick.now)
        response: Response
        if reply.drip > 0:
            # Streamed without a Content-Length: the client cannot tell how long it will wait.
            body = hostile.drip(reply.body, reply.drip)
            response = StreamingResponse(body, status_code=reply.status, media_type=reply.media_type, headers=headers)
        else:
            response = Response(reply.body, status_code=reply.status, media_type=reply.media_type, headers=headers)
        await response(scope, receive, send)

    # Dispatch and auth -------------------------------------------------------------------------------------------

    async def _answer(self, request: Request, tick: Tick) -> Reply:
        routed = strip_prefix(raw_path(request), self._prefix)
        if routed is not None:
            routed = hostile.routed_path(self._switches, routed)
        resource = None if routed is None else resolve_path(routed)
        target = None if resource is None else resource.methods.get(request.method)
        if target is None:
            reply = self._unrouted(request.method, resource)
            if request.method == "DELETE":
                # A DELETE that missed every model route (a dot segment, an empty id) still reached the hub.
                caller = self._namespace(request)
                self._audit.record_delete(DeleteRecord.of(path_text(request), None, caller, None, status=reply.status))
            return reply
        if target.operation == "search" and Switch.SEARCH_RATE_LIMITED in self._switches:
            # A rate limiter in front of the route: it answers before the hub looks at the key.
            return self._error("search", _RATE_LIMITED, headers=(("Retry-After", "0"),))
        namespace = self._namespace(request)
        if namespace is None and not self._anonymous_allowed(target.operation, request):
            error = ApiError(401, "unauthenticated", "A valid bearer token is required: Authorization: Bearer <token>")
            reply = self._error(target.operation, error)
            self._audit_unauthenticated(request, target, reply.status)
            return reply
        query = Query.parse(request.scope.get("query_string", b""))
        if target.operation == "list":
            return self._list(query, namespace)
        if target.operation == "search":
            return self._search(query, namespace)
        # Behind a path decoded twice, retrieve and delete echo the id they were asked for.
        asked = None if routed is None else hostile.asked_id(self._switches, routed)
        if target.operation == "retrieve":
            return self._retrieve(target, query, namespace, asked)
        if target.operation in ("activate", "deactivate"):
            return self._set_active(target, namespace)
        if target.operation == "delete":
            return await self._delete(request, target, namespace, asked)
        assert namespace is not None  # deploys never run anonymously
        return await self._deploy(request, target, query, namespace, tick)

    def _unrouted(self, method: str, resource: Resource | None) -> Reply:
        if resource is None:
            return self._error("route", ApiError(404, "resource_not_found", "No route matches this path"))
        error = _invalid(f"Method {method} is not allowed here; allowed: {resource.allow}")
        return self._error("route", ApiError(405, error.type, error.detail), headers=(("Allow", resource.allow),))

    def _namespace(self, request: Request) -> str | None:
        scheme, _, credential = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self._tokens.get(credential.strip())

    def _anonymous_allowed(self, operation: str, request: Request) -> bool:
        if operation == "list" and Switch.LIST_WITHOUT_AUTH in self._switches:
            return True
        no_header = "authorization" not in request.headers
        return operation == "delete" and no_header and Switch.DELETE_WITHOUT_TOKEN in self._switches

    def _audit_unauthenticated(self, request: Request, target: Target, status: int) -> None:
        if target.operation in _DEPLOYS:
            self._audit.record_deploy(DeployRecord(target.operation, None, None, status))
        elif target.operation == "delete":
            with self.store.read() as tx:
                stored = tx.get(target.model_id) if target.valid else None
            self._audit.record_delete(DeleteRecord.of(path_text(request), target.model_id, None, stored, status=status))

    # Answers, bent by the faults that apply ----------------------------------------------------------------------

    def _applying(self, operation: str) -> Iterable[Fault]:
        return (fault for fault in self._faults if operation in fault.ops)

    def _model(self, operation: str, model: Model, asked: str | None = None) -> JsonObject:
        obj = model.to_json()
        if asked is not None:
            obj["id"] = asked
        for fault in self._applying(operation):
            if fault.model is not None:
                obj = fault.model(obj)
        return obj

    def _ok(self, operation: str, payload: object) -> Reply:
        reply = Reply(200, payload)
        for fault in self._applying(operation):
            if fault.reply is not None:
                reply = fault.reply(reply)
        return reply

    def _error(self, operation: str, error: ApiError, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
        faults = tuple(self._applying(operation))
        for fault in faults:
            if fault.error_info is not None:
                error = fault.error_info(error)
        body: object = error.to_json()
        for fault in faults:
            if fault.error_body is not None:
                body = fault.error_body(error)
        return Reply(error.status, body, headers=headers)

    def _listing(self, operation: str, models: list[Model]) -> Reply:
        if Switch.REVERSE_ORDER in self._switches:
            models = models[::-1]
        return self._ok(operation, {"object": "list", "data": [self._model(operation, model) for model in models]})

    # Operations --------------------------------------------------------------------------------------------------

    def _list(self, query: Query, namespace: str | None) -> Reply:
        with self.store.read() as tx:
            models = tx.models(namespace, every_namespace=Switch.LIST_EVERY_NAMESPACE in self._switches)
        models = hostile.listed(self._switches, models)
        if Switch.OWN_MODELS_HIDDEN in self._switches:
            models = [m for m in models if m.owned_by != namespace]
        developer, action, provider = (query.get(key) for key in ("developer_name", "action", "provider_name"))
        if Switch.LIST_IGNORES_FILTERS in self._switches:
            return self._listing("list", models)
        if developer:
            models = [m for m in models if m.developer and m.developer.name.casefold() == developer.casefold()]
        if action:
            fine_tuneable = Switch.NOT_FINE_TUNEABLE not in self._switches
            models = [m for m in models if fine_tuneable and m.fine_tuning and action in m.fine_tuning.actions]
        if provider:
            models = [m for m in models if m.provider_name.casefold() == provider.casefold()]
        if (developer or action or provider) and Switch.FILTER_DROPS_LAST in self._switches:
            models = models[:-1]
        return self._listing("list", models)

    def _search(self, query: Query, namespace: str | None) -> Reply:
        if Switch.ECHO_KEY in self._switches:
            # A debug page, which echo_key fills in with the request's key.
            return self._error("search", hostile_answers.DEBUG_PAGE)
        needle = query.get("search")
        if not needle and Switch.SEARCH_WITHOUT_TERM not in self._switches:
            return self._error("search", _invalid("Query parameter 'search' is required and must not be empty"))
        with self.store.read() as tx:
            models = tx.models(namespace, every_namespace=Switch.SEARCH_EVERY_NAMESPACE in self._switches)
        models = hostile.listed(self._switches, models)
        if Switch.OWN_MODELS_HIDDEN in self._switches:
            models = [m for m in models if m.owned_by != namespace]
        return self._listing("search", [model for model in models if not needle or model.matches(needle)])

    def _visible(self, model: Model, namespace: str | None) -> bool:
        return model.is_base or model.owned_by == namespace

    def _retrieve(self, target: Target, query: Query, namespace: str | None, asked: str | None) -> Reply:
        status = query.get("deployment_status")
        if status is not None and status != "live" and Switch.ANY_DEPLOYMENT_STATUS not in self._switches:
            return self._error("retrieve", _invalid("Query parameter 'deployment_status' accepts only 'live'"))
        with self.store.read() as tx:
            stored = tx.get(target.model_id) if target.valid else None
        gone = stored is None or (stored.deleted and Switch.RETRIEVE_DELETED not in self._switches)
        shown = Switch.RETRIEVE_EVERY_NAMESPACE in self._switches and namespace is not None
        if stored is None or gone or not (shown or self._visible(stored.model, namespace)):
            return self._error("retrieve", _not_found(target.model_id))
        reply = self._ok("retrieve", self._model("retrieve", stored.model, asked))
        if Switch.DRIP_RETRIEVE in self._switches:
            reply = replace(reply, drip=self._drip)
        if Switch.DRIP_HEADERS in self._switches:
            reply = hostile_answers.drip_head(reply)
        if Switch.GZIP_BOMB in self._switches and not stored.model.is_base:
            reply = hostile_answers.gzip_bomb(reply, self._bomb_bytes)
        return reply

    def _set_active(self, target: Target, namespace: str | None) -> Reply:
        operation = target.operation
        with self.store.write() as tx:
            stored = tx.get(target.model_id) if target.valid else None
            if stored is None or stored.deleted:
                return self._error(operation, _not_found(target.model_id))
            model = stored.model
            if not self._visible(model, namespace):
                return self._error(operation, self._refusal(_not_found(model.id)))
            if model.is_base:
                if operation == "deactivate":
                    error = _invalid(f"Base models are always active and cannot be deactivated: {model.id}")
                    return self._error(operation, self._refusal(error, model.id))
                return self._ok(operation, self._model(operation, model))
            noop = Switch.ACTIVATE_NOOP if operation == "activate" else Switch.DEACTIVATE_NOOP
            if noop in self._switches:
                return self._ok(operation, self._model(operation, model))
            activating = (operation == "activate") != (Switch.ACTIVATE_SWAPPED in self._switches)
            status = "active" if activating else "inactive"
            tx.set_status(model.id, status)
        return self._ok(operation, self._model(operation, model.with_status(status)))

    @staticmethod
    def _refusal(error: ApiError, model_id: str | None = None) -> ApiError:
        return ApiError(error.status, error.type, error.detail, refusal=True, model_id=model_id or error.model_id)

    async def _delete(self, request: Request, target: Target, namespace: str | None, asked: str | None) -> Reply:
        if Switch.HANG_DELETE in self._switches:
            await anyio.sleep(self._hang)
        with self.store.write() as tx:
            stored = tx.get(target.model_id) if target.valid else None
            reply, deleted = self._delete_stored(tx, stored, target, namespace, request, asked)
        path = path_text(request)
        record = DeleteRecord.of(path, target.model_id, namespace, stored, status=reply.status, deleted=deleted)
        self._audit.record_delete(record)
        return reply

    def _delete_stored(
        self,
        tx: Tx,
        stored: Stored | None,
        target: Target,
        namespace: str | None,
        request: Request,
        asked: str | None,
    ) -> tuple[Reply, bool]:
        """The answer to a delete, and whether it deleted the model."""
        switches = self._switches
        if stored is None or (stored.deleted and Switch.DELETE_TWICE not in switches):
            return self._error("delete", _not_found(target.model_id)), False
        model = stored.model
        foreign = not model.is_base and namespace is not None and model.owned_by != namespace
        if foreign and Switch.DELETE_FOREIGN not in switches:
            return self._error("delete", self._refusal(_not_found(model.id))), False
        if model.is_base and Switch.DELETE_BASE not in switches:
            error = _invalid(f"Base models cannot be deleted: {model.id}")
            return self._error("delete", self._refusal(error, model.id)), False
        location = hostile.redirect_location(switches, model, namespace, base_url(request), self._prefix)
        if location is not None:
            return Reply(307, raw=b"", media_type=None, headers=(("Location", location),)), False
        deleted = Switch.KEEP_DELETED not in switches and tx.delete(model.id)
        return self._ok("delete", self._model("delete", model, asked)), deleted

    async def _deploy(self, request: Request, target: Target, query: Query, namespace: str, tick: Tick) -> Reply:
        if Switch.COLLEAGUE_AFTER_DEPLOY in self._switches:
            self._colleague.deployed(tick.number, namespace)
        if Switch.DEPLOY_502 in self._switches:
            # The gateway in front answers; the deploy never reaches the hub behind it.
            reply, created = hostile.GATEWAY_502, None
        else:
            reply, created = await self._deploy_reply(request, target, query, namespace, tick.now)
        self._audit.record_deploy(DeployRecord(target.operation, namespace, created, reply.status))
        return reply

    async def _deploy_reply(
        self, request: Request, target: Target, query: Query, namespace: str, now: int
    ) -> tuple[Reply, str | None]:
        """The answer to a deploy, and the id of the model it created, if any."""
        operation = target.operation
        step: int | None = None
        if operation == "deploy_checkpoint":
            problem = await checkpoint_problem(request, target, query)
            if problem is not None:
                return self._error(operation, _invalid(problem)), None
            step = int(target.step)
        with self.store.write() as tx:
            fine_tune = tx.fine_tune(target.owner, target.repo, target.fine_tune_id)
            # Another namespace's fine-tune is as invisible as one that does not exist.
            if fine_tune is None or fine_tune.owner != namespace:
                return self._error(operation, ApiError(404, "resource_not_found", "Fine-tune not found")), None
            if step is not None and step not in fine_tune.steps:
                error = ApiError(404, "resource_not_found", f"Checkpoint not found: {step}")
                return self._error(operation, error), None
            base = BASE_MODELS_BY_ID.get(fine_tune.base_model)
            if base is None:
                return self._error(operation, ApiError(404, "resource_not_found", "Fine-tune not found")), None
            claimed = hostile.claimed_model(self._switches, tx, fine_tune, base, step, now)
            serial = 0
            if claimed is None:
                serial = tx.next_serial()
                model = self._new_model(base, fine_tune, step, serial, now)
                tx.add_custom(model, fine_tune, step)
            else:
                model = claimed
        created = None if claimed is not None else model.id
        failure = hostile.after_create(self._switches)
        if failure is not None:
            error, headers = failure
            return self._error(operation, error, headers), created
        if operation == "deploy":
            endpoint = f"{base_url(request)}{self._prefix}/api/ai{model.endpoint}"
            deployment = {"model_slug": model.id, "status": "deploying", "endpoint": endpoint}
            return self._ok(operation, {"deployment": deployment}), created
        payload = {
            "deployment_id": f"dep-{serial}" if self._deterministic else uuid.uuid4().hex,
            "fine_tune": fine_tune.to_json(),
            "model": self._model(operation, model),
            "status": "success",
            "status_message": "resource_created",
        }
        return self._ok(operation, payload), created

    def _colleague_arrives(self, tick: Tick) -> None:
        """When it is due, a colleague deploys the sandbox fine-tune of the namespace the run deploys into."""
        namespace = self._colleague.arrives(tick.number)
        if namespace is None:
            return
        fine_tune = sandbox_fine_tune(namespace)
        base = BASE_MODELS_BY_ID[fine_tune.base_model]
        with self.store.write() as tx:
            model = self._new_model(base, fine_tune, None, tx.next_serial(), tick.now)
            tx.add_custom(model, fine_tune, None)
        self._audit.record_appearance(model.id)

    def _new_model(self, base: Model, fine_tune: FineTune, step: int | None, serial: int, created: int) -> Model:
        suffix = str(serial) if self._deterministic else f"{serial}-{secrets.token_hex(3)}"
        if Switch.DOTTED_IDS in self._switches:
            model_id = f"{fine_tune.owner}:{fine_tune.repo}.{fine_tune.id}.v{suffix}"
        else:
            model_id = f"{fine_tune.owner}:{fine_tune.repo}/{fine_tune.id}-{suffix}"
        status = "active"
        if Switch.CYCLE_STATUS in self._switches:
            status = DEPLOYMENT_STATUSES[(serial - 1) % len(DEPLOYMENT_STATUSES)]
        return custom_model(base, model_id=model_id, fine_tune=fine_tune, step=step, created=created, status=status)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Never needed, by design: the last line of defence still answers a documented error body, dated by the clock.
    error = ApiError(500, "unknown_error", "The local hub failed to answer this request")
    headers = {"Date": http_date(request.app.state.clock.now())}
    return Response(render(error.to_json()), status_code=500, media_type="application/json", headers=headers)


def create_app(
    tokens: Mapping[str, str],
    faults: Iterable[str | Fault] = (),
    *,
    deterministic: bool = False,
    db_path: str | None = None,
    hang_seconds: float = 3600.0,
    drip_seconds: float = hostile.DRIP_SECONDS,
    store: Store | None = None,
    audit_path: str | None = None,
    prefix: str = "",
    bomb_bytes: int = hostile_answers.BOMB_BYTES,
    catalog_size: int | None = None,
    latency: float = 0.0,
) -> Starlette:
    """The hub as an ASGI app.

    ``app.state.store`` holds its store, which the caller closes when done; ``app.state.audit`` records the deletes
    and deploys that reached it, and with ``audit_path`` also writes them there as JSON after each (OSError when it
    cannot). With ``prefix`` (e.g. ``/oxen``, as a gateway puts it) the API is served below that path only (ValueError
    for a prefix that is not a plain path); ``bomb_bytes`` is what a gzip-bombed answer decodes to. ``catalog_size``
    base models are listed instead of the seeded catalogue (``synthetic.py``), and every answer waits ``latency``
    seconds more, as a distant hub's would.
    """
    if not tokens:
        raise ValueError("the hub needs at least one token (TOKEN=NAMESPACE)")
    chosen = resolve(faults)
    prefix = gateway_prefix(prefix)
    switches = frozenset(switch for fault in chosen for switch in fault.switches)
    if Switch.GZIP_BOMB in switches:
        hostile_answers.prepare_bomb(bomb_bytes)
    own_store = store is None
    if store is None:
        base_models = BASE_MODELS if catalog_size is None else catalog_of(catalog_size)
        store = Store(db_path, namespaces=tokens.values(), base_models=base_models)
    if Switch.CROWDED in switches:
        hostile.seed_crowd(store, tokens.values(), switches)
    with store.read() as tx:
        preexisting = tx.live_ids()
    try:
        audit = Audit(preexisting, path=audit_path)
    except OSError:
        if own_store:
            store.close()
        raise
    clock = Clock(store, deterministic=deterministic)
    hub = _Hub(
        store,
        tokens,
        chosen,
        audit,
        clock,
        deterministic=deterministic,
        hang=hang_seconds,
        drip=drip_seconds,
        prefix=prefix,
        bomb_bytes=bomb_bytes,
        latency=latency,
    )
    app = Starlette(exception_handlers={Exception: _server_error})
    # The hub answers every path itself (on the raw path); as the router's default it also sees paths that no
    # Starlette route pattern would match, such as one holding a newline.
    app.router.default = hub
    app.state.store = store
    app.state.faults = chosen
    app.state.audit = audit
    app.state.clock = clock
    app.state.prefix = prefix
    return app
