"""Bearer tokens on every Partner Center route."""

from __future__ import annotations

from starlette.requests import Request

from partnercart.server.domain.carts import Actor
from partnercart.server.domain.errors import Unauthorized
from partnercart.server.http.tokencache import VerifiedTokens
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
    tokens: VerifiedTokens = request.app.state.verified_tokens
    # Tokens live on the wall clock, not on a tenant's virtual clock.
    return tokens.verify(token.strip(), now=runtime.wall_clock.now())
