"""The ASGI application: the route table on one screen."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from partnercart.server.http import openapi
from partnercart.server.http.errors import HANDLERS
from partnercart.server.http.middleware import PartnerCenterHeaders
from partnercart.server.http.routes import carts, customers, identity
from partnercart.server.runtime import Runtime

TRIVIAL_BODY = b'{"status":"ok"}'


async def ping(request: Request) -> Response:
    """A fixed body: the baseline the benchmarks compare every route with."""
    return Response(TRIVIAL_BODY, media_type="application/json")


def create_app(runtime: Runtime) -> Starlette:
    routes = [
        Route("/_partnercart/ping", ping),
        *customers.ROUTES,
        *carts.ROUTES,
        *identity.ROUTES,
        *openapi.ROUTES,
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(PartnerCenterHeaders)],
        exception_handlers=HANDLERS,
    )
    app.state.runtime = runtime
    app.state.body_limit = runtime.settings.body_limit
    return app
