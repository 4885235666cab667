"""Bearer tokens on every Partner Center route."""

from __future__ import annotations

from starlette.requests import Request

from partnercart.server.domain.carts import Actor
from partnercart.server.domain.errors import Unauthorized
from partnercart.server.http.throttle import Throttle
from partnercart.server.runtime import Runtime


def authenticate(request: Request) -> Actor:
    """The caller's partner and user, from ``Authorization: Bearer <JWT>``; 401 otherwise."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized(
            "Partner token missing in request context: send Authorization: Bearer <token>.",
            code=800001,
        )
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Access denied: the Authorization header must use the Bearer scheme.", code=400
        )
    runtime: Runtime = request.app.state.runtime
    # Tokens live on the wall clock, not on a tenant's virtual clock.
    actor, _claims = runtime.verifier.verify(token.strip(), now=runtime.wall_clock.now())
    request.state.partner_id = actor.partner_id  # for the access log
    throttle: Throttle | None = getattr(request.app.state, "throttle", None)
    if throttle is not None:
        throttle.check(actor.partner_id)
    return actor
