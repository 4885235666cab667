"""Bearer tokens on every Partner Center route."""

from __future__ import annotations

from starlette.requests import Request

from partnercart.server.domain.carts import Actor
from partnercart.server.domain.errors import Unauthorized
from partnercart.server.http.throttle import Throttle
from partnercart.server.runtime import Runtime


def bearer_token(request: Request) -> str:
    """The token of ``Authorization: Bearer <token>``; 401 when absent or another scheme."""
    header = request.headers.get("authorization")
    if header is None or not header.strip():
        raise Unauthorized(
            "Partner token missing in request context: send Authorization: Bearer <token>.",
            code=800001,
        )
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized(
            "Access denied: the Authorization header must use the Bearer scheme "
            "(Authorization: Bearer <token>).",
            code=400,
        )
    token = token.strip()
    if not token:
        raise Unauthorized(
            "Access denied: the Authorization header has the Bearer scheme but no token.",
            code=400,
        )
    return token


def authenticate(request: Request) -> Actor:
    """The caller's partner and user, from ``Authorization: Bearer <JWT>``; 401 otherwise."""
    token = bearer_token(request)
    runtime: Runtime = request.app.state.runtime
    # Tokens live on the wall clock, not on a tenant's virtual clock.
    actor, _claims = runtime.verifier.verify(token, now=runtime.wall_clock.now())
    request.state.partner_id = actor.partner_id  # for the access log
    throttle: Throttle | None = getattr(request.app.state, "throttle", None)
    if throttle is not None:
        throttle.check(actor.partner_id)
    return actor
