"""Bearer tokens on every Partner Center route."""

from __future__ import annotations

from starlette.requests import Request

from partnercart.server.domain.carts import Actor
from partnercart.server.domain.errors import ApiError, Unauthorized
from partnercart.server.http.parts import parts_of
from partnercart.server.identity.tokens import KeysPending
from partnercart.server.runtime import Runtime


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` value; 401 when absent or another
    scheme."""
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


def actor_from_header(runtime: Runtime, header: str | None) -> Actor:
    """The actor an ``Authorization`` header value proves; 401 (``Unauthorized``) otherwise,
    or :class:`~partnercart.server.identity.tokens.KeysPending` while the keys that may prove
    it are being fetched. Tokens live on the wall clock, not on a tenant's virtual clock."""
    actor, _claims = runtime.verifier.verify(bearer_token(header), now=runtime.wall_clock.now())
    return actor


def partner_from_header(runtime: Runtime, header: str | None) -> str | None:
    """The partner an ``Authorization`` header value proves, for the logs of a request no
    handler checked (a fault answered it): ``None`` when it proves none, or when the keys
    that could prove it are still being fetched (the logs do not wait for them)."""
    if header is None:
        return None
    try:
        return actor_from_header(runtime, header).partner_id
    except (ApiError, KeysPending):
        return None


def authenticate(request: Request) -> Actor:
    """The caller's partner and user, from ``Authorization: Bearer <JWT>``; 401 otherwise.
    Then the partner's rate limit, if one is set.

    Synchronous, so a request whose keys are known pays no await. When the token's key is
    being fetched it raises :class:`~partnercart.server.identity.tokens.KeysPending`, and
    ``errors.keys_pending`` waits for the fetch and runs the route again: a route calls this
    first, before it reads the body or changes anything."""
    parts = parts_of(request)
    runtime = parts.runtime
    state = request.scope.get("state") or {}
    header = state.get("authorization")
    if header is None:  # the gateway found none (or did not run)
        header = request.headers.get("authorization")
    actor = actor_from_header(runtime, header)
    # For the access log and the request log, which run outside the handler.
    request.scope.setdefault("state", {})["partner_id"] = actor.partner_id
    if parts.throttle is not None:
        parts.throttle.check(actor.partner_id)
    return actor
