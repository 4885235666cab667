"""Running a request's route under the gateway, without Starlette's per-request layers.

Starlette wraps every request in five layers of its own: the error middleware, the exception
middleware, the router, ``request_response`` and a second exception wrapper around the
endpoint; each is a coroutine, and three of them wrap ``send`` in a closure that every message
of the answer passes through. Partner Center's routes are all plain async endpoints found by
one expression (:class:`~partnercart.server.http.routing.IndexedRouter`), so :class:`Dispatch`
runs a found route's endpoint directly and maps what it raises with the same handlers
(:data:`partnercart.server.http.errors.HANDLERS`), in the same way:

- the handlers are the exception middleware's own (``fallback``), Starlette's default for an
  ``HTTPException`` among them; a status code's handler first for an ``HTTPException``, else
  the handler of the nearest class in the exception's MRO; the ``Exception`` handler is not
  used here (a bug propagates to the gateway, which answers the 500 error body, and to
  :class:`~partnercart.server.http.faults.ControlledApp`, which logs it);
- a handler that is a plain function runs in Starlette's thread pool, as Starlette runs it;
- what a handler raises is mapped once more, as the exception middleware around the route did
  (what that second handler raises is a bug);
- the answer is sent as the endpoint or the handler made it. Every answer here is a body
  already in memory (no route streams), so nothing a handler maps can be raised once it has
  started, and ``send`` is passed on as it is rather than watched through a closure.

Whatever the index cannot decide (no route at the path, a method no route takes) goes through
Starlette's own exception middleware and router, which make the 404 and 405 decisions; so does
a route that is not a plain async endpoint: a sync endpoint, an ASGI app, or a route with
``middleware`` or ``max_body_size`` of its own, which wrap the route's ``app`` and run only
through it.
"""

from __future__ import annotations

import inspect
from typing import Any

from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, request_response
from starlette.types import Receive, Scope, Send

from partnercart.server.http.errors import Handler
from partnercart.server.http.routing import IndexedRouter


async def _placeholder(request: Request) -> Response:  # pragma: no cover - never called
    raise NotImplementedError


#: The code of the ``app`` Starlette's ``Route`` makes for a function endpoint: a route whose
#: ``app`` runs other code (its own middleware or body limit around it) is not run directly.
_PLAIN_ROUTE_APP = getattr(request_response(_placeholder), "__code__", None)


def awaitable_handler(handler: Any) -> Handler:
    """``handler`` as a coroutine function: a plain function runs in Starlette's thread pool,
    as Starlette's exception and error middleware run it."""
    if is_async_callable(handler):
        return handler

    async def in_thread(request: Request, exc: Exception) -> Response:
        response: Response = await run_in_threadpool(handler, request, exc)
        return response

    return in_thread


def runs_directly(route: Any) -> bool:
    """Whether :class:`Dispatch` may await ``route``'s endpoint itself: a plain
    :class:`~starlette.routing.Route` of an async function, whose ``app`` is Starlette's
    wrapper of that function and nothing more."""
    return (
        isinstance(route, Route)
        and inspect.iscoroutinefunction(route.endpoint)
        and getattr(route.app, "__code__", None) is _PLAIN_ROUTE_APP
    )


class Dispatch:
    """The ASGI app under the gateway: found routes run here, the rest through ``fallback``."""

    def __init__(self, router: IndexedRouter, fallback: ExceptionMiddleware) -> None:
        """``fallback`` is Starlette's exception middleware over ``router``, built with the
        app's handlers (all but the ``Exception`` one): its handlers map errors here too."""
        self.router = router
        self.fallback = fallback
        # What Starlette's exception middleware leaves in the scope, so that a route's own
        # ``app`` run from a handler (a request run again) maps its errors the same way.
        exception_handlers = fallback._exception_handlers
        status_handlers = fallback._status_handlers
        self._scope_handlers = (exception_handlers, status_handlers)
        self._handlers: dict[type[Exception], Handler] = {
            key: awaitable_handler(handler)
            for key, handler in exception_handlers.items()
            if key is not Exception
        }
        self._status_handlers: dict[int, Handler] = {
            key: awaitable_handler(handler) for key, handler in status_handlers.items()
        }
        self._direct = frozenset(id(route) for route in router.routes if runs_directly(route))

    def _handler(self, exc: Exception) -> Handler | None:
        if isinstance(exc, HTTPException):
            handler = self._status_handlers.get(exc.status_code)
            if handler is not None:
                return handler
        handlers = self._handlers
        for cls in type(exc).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                return handler
        return None

    async def _handled(self, handler: Handler, request: Request, exc: Exception) -> Response:
        """``handler``'s answer to ``exc``; what the handler raises is mapped once more, as
        Starlette's exception middleware around the route mapped it."""
        try:
            response = await handler(request, exc)
        except Exception as again:
            second = self._handler(again)
            if second is None:
                raise
            response = await second(request, again)
            again.__traceback__ = None
        # A reused exception instance would keep every request's traceback.
        exc.__traceback__ = None
        return response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.router.find(scope) if scope["type"] == "http" else None
        if route is None or id(route) not in self._direct:
            await self.fallback(scope, receive, send)
            return
        scope["starlette.exception_handlers"] = self._scope_handlers
        request = Request(scope, receive, send)
        try:
            response = await route.endpoint(request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            response = await self._handled(handler, request, exc)
        await response(scope, receive, send)
