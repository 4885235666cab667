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
from partnercart.server.http.calls import ExpirySweeper
from partnercart.server.http.errors import HANDLERS
from partnercart.server.http.faults import ControlledApp
from partnercart.server.http.middleware import Gateway
from partnercart.server.http.parts import AppParts
from partnercart.server.http.requestlog import LogBuffer
from partnercart.server.http.routes import carts, catalog, control, customers, identity, orders
from partnercart.server.http.throttle import Throttle
from partnercart.server.runtime import Runtime

TRIVIAL_BODY = b'{"status":"ok"}'


async def ping(request: Request) -> Response:
    """A fixed body: the baseline the benchmarks compare every route with."""
    return Response(TRIVIAL_BODY, media_type="application/json")


def create_app(runtime: Runtime, *, owns_runtime: bool = False) -> ControlledApp:
    """The app over ``runtime``; with ``owns_runtime`` the app closes it on shutdown."""

    buffer = LogBuffer(runtime)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await buffer.close()
            if owns_runtime:
                runtime.close()

    # Starlette tries routes in order, so the cart and order routes come first: GET cart went
    # from 4.6 to 2.4 µs finding its route (the fixed body, first, takes 0.8 µs; GET customer,
    # now later, 9.2). No two patterns overlap, so the order changes nothing else.
    routes = [
        Route("/_partnercart/ping", ping),
        *carts.ROUTES,
        *orders.ROUTES,
        *customers.ROUTES,
        *catalog.ROUTES,
        *identity.ROUTES,
        *control.ROUTES,
        *openapi.ROUTES,
    ]
    settings = runtime.settings
    app = ControlledApp(
        routes=routes,
        middleware=[Middleware(Gateway, runtime=runtime, buffer=buffer)],
        exception_handlers=HANDLERS,
        lifespan=lifespan,
    )
    app.parts = AppParts(
        runtime=runtime,
        request_log_buffer=buffer,
        body_limit=settings.body_limit,
        throttle=(
            Throttle(settings.rate_limit, settings.rate_window) if settings.rate_limit else None
        ),
        idempotency_sweeper=ExpirySweeper(),
    )
    return app
