"""Fault injection, and the app class that can drop a connection.

The gateway (:mod:`partnercart.server.http.middleware`) hands a request to :func:`inject` while
any rule is live; :func:`inject` matches each Partner Center request against the live rules
(:class:`partnercart.server.control.faults.FaultBook`, cached per process), counts the call in
the database and, when a rule fires, answers an error, waits, drops the connection, or lets the
request run and commit before throwing its answer away.

Dropping: ASGI has no "abort" message, and a server that sees an app return without answering
sends a 500 of its own. :class:`ControlledApp` therefore keeps the server's own ``send``; when a
fault asks for a drop it closes the server's transport (uvicorn's request cycle exposes it) so
the client sees the connection close with no answer at all. Without a transport (an in-process
test client) it raises :class:`ConnectionDropped` instead.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Lifespan, Message, Receive, Scope, Send

from partnercart.schema.common import ErrorBody, ThrottleBody
from partnercart.server.control import faults as rules
from partnercart.server.control.faults import FaultRule
from partnercart.server.domain.errors import ApiError
from partnercart.server.http import media
from partnercart.server.http.auth import actor_from_header, partner_from_header
from partnercart.server.http.dispatch import Dispatch, awaitable_handler
from partnercart.server.http.errors import Handler
from partnercart.server.http.parts import AppParts
from partnercart.server.http.routing import IndexedRouter
from partnercart.server.identity.tokens import KeysPending
from partnercart.server.runtime import Runtime

CONTROL_PREFIX = "/_partnercart"
_SERVER_SEND = "partnercart.server_send"


class ConnectionDropped(Exception):
    """A fault closed the connection, where no transport could be closed."""


class ControlledApp(Starlette):
    """Starlette that can end a request by closing the connection without an answer, finds
    routes with one expression (:class:`~partnercart.server.http.routing.IndexedRouter`) and
    runs them under its middleware (the gateway) through
    :class:`~partnercart.server.http.dispatch.Dispatch` rather than Starlette's per-request
    layers. Lifespan events go through Starlette as they come."""

    #: what the handlers need (``create_app`` sets it; see :mod:`partnercart.server.http.parts`)
    parts: AppParts

    def __init__(
        self, *, routes: Sequence[BaseRoute], lifespan: Lifespan[Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(routes=routes, lifespan=lifespan, **kwargs)
        self.router: IndexedRouter = IndexedRouter(routes, lifespan=lifespan)
        self._http: ASGIApp | None = None
        self._on_error: Handler | None = None
        self._errors = ServerErrorMiddleware(self)

    def _build_http(self) -> ASGIApp:
        """The middleware over :class:`Dispatch`, which falls back to Starlette's exception
        middleware and router for what the route index cannot decide; around them what
        Starlette puts there (the app's ``max_body_size``), and, unless the outermost
        middleware marks an answer that started (the gateway does), a layer that does."""
        # As Starlette splits them: the handler of ``Exception`` (or 500) is the error
        # middleware's, the rest the exception middleware's.
        handlers: dict[Any, Any] = dict(self.exception_handlers)
        on_error = handlers.pop(Exception, None) or handlers.pop(500, None)
        handlers.pop(500, None)
        self._on_error = None if on_error is None else awaitable_handler(on_error)
        self._errors = ServerErrorMiddleware(self, debug=self.debug)
        app: ASGIApp = Dispatch(self.router, ExceptionMiddleware(self.router, handlers))
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        if self.max_body_size is not None:
            app = RequestBodyLimitMiddleware(app, max_body_size=self.max_body_size)
        outer = self.user_middleware[0].cls if self.user_middleware else None
        if not getattr(outer, "marks_answered", False):
            app = _MarkAnswered(app)
        # Starlette's own stack too, once (lifespan events go through it), which is also what
        # makes add_middleware refuse once the app has served, as Starlette's does.
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        return app

    async def _error_response(self, request: Request, exc: Exception) -> Response:
        """The 500 answer Starlette's error middleware would make: a traceback page in debug
        mode, else the ``Exception`` handler's (which logs the bug), else a plain 500."""
        if self.debug:
            response: Response = await run_in_threadpool(self._errors.debug_response, request, exc)
            return response
        if self._on_error is not None:
            return await self._on_error(request, exc)
        return self._errors.error_response(request, exc)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # One state dict shared by every layer (the middleware may copy the scope).
        state: dict[str, Any] = scope.setdefault("state", {})
        scope["app"] = self
        http = self._http
        if http is None:
            http = self._http = self._build_http()
        try:
            await http(scope, receive, send)
        except Exception as exc:
            # A bug: the gateway has answered the error body (unless it failed before it could);
            # log it here with the ``Exception`` handler, and let the server see it too, as
            # Starlette's error middleware did.
            response = await self._error_response(Request(scope), exc)
            if not state.get("answered"):
                await response(scope, receive, send)
            raise
        if state.get("drop_connection"):
            await _drop(send)


class _MarkAnswered:
    """Marks ``state["answered"]`` when the answer starts, for an app whose outermost
    middleware does not (without the gateway): :class:`ControlledApp` then never starts a
    second answer after a bug, as Starlette's error middleware never did."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = scope["state"]

        async def marking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["answered"] = True
            await send(message)

        await self.app(scope, receive, marking_send)


async def _drop(send: Send) -> None:
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionDropped("the fault rule closed the connection without an answer")
    transport.close()
    # Let the server see the connection go, so it does not write a 500 of its own.
    for _ in range(50):
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0)


def route_of(scope: Scope) -> tuple[str | None, dict[str, str]]:
    """The route template serving this request and its path parameters."""
    app = scope.get("app")
    path, method = scope["path"], scope["method"]
    fallback: tuple[str | None, dict[str, str]] = (None, {})
    for route in getattr(app, "routes", ()):
        if not isinstance(route, Route):
            continue
        match = route.path_regex.match(path)
        if match is None:
            continue
        found = (route.path, match.groupdict())
        if route.methods is None or method in route.methods:
            return found
        if fallback[0] is None:
            fallback = found
    return fallback


def error_response(rule: FaultRule, scope: Scope) -> Response:
    """The rule's error in the media type the request's ``Accept`` prefers (JSON when it
    allows neither), as every other error is answered."""
    body: ThrottleBody | ErrorBody
    if rule.status == 429:
        body = ThrottleBody(status_code=429, message=rule.description)
        headers = {"Retry-After": str(rule.retry_after)}
    else:
        body = ErrorBody(code=rule.code, description=rule.description, data=[])
        headers = {}
    return media.render(Request(scope), rule.status, body, headers=headers, fallback_to_json=True)


async def live_rules(runtime: Runtime) -> list[FaultRule]:
    """The rules in force: from the process's cache, or read when the cache is stale."""
    live = runtime.faults.cached()
    if live is None:
        live = await _run(runtime, runtime.faults.live)
    return live


async def inject(
    app: ASGIApp,
    runtime: Runtime,
    live: list[FaultRule],
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Run the request through ``app``, unless one of the ``live`` rules fires on it: then
    answer an error, wait, drop the connection, or run it and throw its answer away."""
    state: dict[str, Any] = scope.setdefault("state", {})
    template, params = route_of(scope)
    state["route"] = template
    rule, checked, partner_id = await _fire(runtime, scope, live, template, params)
    if rule is None:
        await app(scope, receive, send)
        return
    state["fault"] = rule.id
    state["fault_action"] = rule.action
    # The access log and the request log name the partner of a faulted request too, though
    # no handler may run to check its token: the partner the rules were matched with, or the
    # one a valid token names (never waiting for keys being fetched; nothing when invalid).
    if not checked:
        partner_id = partner_from_header(runtime, state["authorization"])
    if partner_id is not None:
        state["partner_id"] = partner_id
    if rule.latency_ms:
        await anyio.sleep(rule.latency_ms / 1000)
    if rule.action == "latency":
        await app(scope, receive, send)
    elif rule.action == "status":
        await error_response(rule, scope)(scope, receive, send)
    elif rule.action == "drop":
        state["drop_connection"] = True
    else:
        inner: dict[str, Any] = {}

        async def swallow(message: Message) -> None:
            if message["type"] == "http.response.start":
                inner["status"] = message["status"]

        await app(scope, receive, swallow)
        state["applied_status"] = inner.get("status")
        if rule.action == "apply_then_status":
            await error_response(rule, scope)(scope, receive, send)
        else:
            state["drop_connection"] = True


async def _run(runtime: Runtime, fn: Any, *args: Any) -> Any:
    if runtime.services.store.blocking:
        return await runtime.threads.run(functools.partial(fn, *args))
    return fn(*args)


async def _fire(
    runtime: Runtime,
    scope: Scope,
    live: list[FaultRule],
    template: str | None,
    params: dict[str, str],
) -> tuple[FaultRule | None, bool, str | None]:
    """The rule that fires on this request, if any; whether the token was checked (only when
    a live rule names a partner or a customer), and the partner it names (``None`` when the
    token is invalid or was not checked)."""
    partner_id: str | None = None
    checked = any(r.partner is not None or r.customer is not None for r in live)
    if checked:
        header = scope["state"]["authorization"]
        try:
            try:
                actor = actor_from_header(runtime, header)
            except KeysPending as pending:  # the route would wait for these keys too
                await pending.wait()
                actor = actor_from_header(runtime, header)
            partner_id = actor.partner_id
        except (ApiError, KeysPending):
            partner_id = None
    matched = [
        r.id
        for r in live
        if r.matches(
            partner_id=partner_id,
            customer_id=params.get("customer_id"),
            method=scope["method"],
            path=scope["path"],
            template=template,
        )
    ]
    if not matched:
        return None, checked, partner_id

    def count() -> FaultRule | None:
        with runtime.services.store.unit_of_work(write=True) as uow:
            return rules.hit(uow, matched)

    fired: FaultRule | None = await _run(runtime, count)
    if fired is not None and fired.spent:
        runtime.faults.invalidate()
    return fired, checked, partner_id
