"""The ASGI application: the route table on one screen."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from partnercart.server.http import openapi
from partnercart.server.http.accesslog import AccessLog
from partnercart.server.http.calls import ExpirySweeper
from partnercart.server.http.errors import HANDLERS
from partnercart.server.http.middleware import PartnerCenterHeaders
from partnercart.server.http.routes import carts, customers, identity
from partnercart.server.http.throttle import Throttle
from partnercart.server.runtime import Runtime

TRIVIAL_BODY = b'{"status":"ok"}'


async def ping(request: Request) -> Response:
    """A fixed body: the baseline the benchmarks compare every route with."""
    return Response(TRIVIAL_BODY, media_type="application/json")


def create_app(runtime: Runtime, *, owns_runtime: bool = False) -> Starlette:
    """The app over ``runtime``; with ``owns_runtime`` the app closes it on shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owns_runtime:
                runtime.close()

    routes = [
        Route("/_partnercart/ping", ping),
        *customers.ROUTES,
        *carts.ROUTES,
        *identity.ROUTES,
        *openapi.ROUTES,
    ]
    settings = runtime.settings
    middleware = [Middleware(PartnerCenterHeaders)]
    if settings.access_log:
        templates = {r.endpoint: r.path for r in routes if isinstance(r, Route)}
        middleware.insert(0, Middleware(AccessLog, templates=templates))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers=HANDLERS,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.body_limit = settings.body_limit
    app.state.throttle = (
        Throttle(settings.rate_limit, settings.rate_window) if settings.rate_limit else None
    )
    app.state.idempotency_sweeper = ExpirySweeper()
    return app
