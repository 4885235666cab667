"""The ASGI application: the route table on one screen."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from partnercart.server.http.errors import HANDLERS
from partnercart.server.http.faults import ControlledApp, FaultInjection
from partnercart.server.http.middleware import PartnerCenterHeaders
from partnercart.server.http.requestlog import RequestLog
from partnercart.server.http.routes import carts, control, customers, identity
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
        *control.ROUTES,
    ]
    app = ControlledApp(
        routes=routes,
        middleware=[
            Middleware(RequestLog),
            Middleware(PartnerCenterHeaders),
            Middleware(FaultInjection),
        ],
        exception_handlers=HANDLERS,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.body_limit = runtime.settings.body_limit
    return app
