"""The one place where failures become HTTP answers with the Partner Center error body."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from partnercart.schema import codec
from partnercart.schema.codec import CodecError
from partnercart.schema.common import ErrorBody, ThrottleBody
from partnercart.server.domain.errors import (
    ApiError,
    BadRequest,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from partnercart.server.http import media
from partnercart.server.identity.tokens import KeysPending
from partnercart.server.storage.failures import DRIVER_ERRORS, unavailable

log = logging.getLogger("partnercart.http")


def bearer_challenge(error: Unauthorized) -> str:
    """RFC 6750's challenge: no error code when no credentials were sent (code 800001), else
    ``invalid_token`` with the same reason as the body."""
    if error.code == Unauthorized.default_code:
        return f'Bearer realm="{error.realm}"'
    reason = "".join(c if " " <= c <= "~" else "?" for c in error.description)
    reason = reason.replace("\\", "\\\\").replace('"', '\\"')
    return f'Bearer realm="{error.realm}", error="invalid_token", error_description="{reason}"'


def error_response(request: Request, error: ApiError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(error, TooManyRequests):
        headers["Retry-After"] = str(error.retry_after)
        body: object = ThrottleBody(status_code=429, message=error.description)
    else:
        body = ErrorBody(code=error.code, description=error.description, data=error.data)
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = bearer_challenge(error)
    return media.render(request, error.status, body, headers=headers, fallback_to_json=True)


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request, exc)


async def codec_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CodecError)
    return error_response(request, BadRequest(exc.message, data=[exc.path] if exc.path else []))


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    path = request.url.path
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
    return sorted(methods)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        allowed = ", ".join(_allowed_methods(request))
        error: ApiError = MethodNotAllowed(
            f"The method {request.method} is not allowed on {request.url.path}; "
            f"allowed: {allowed}.",
        )
        response = error_response(request, error)
        if allowed:
            response.headers["Allow"] = allowed
        return response
    if exc.status_code == 404:
        return error_response(
            request, NotFound(f"No resource is served at {request.method} {request.url.path}.")
        )
    error = ApiError(str(exc.detail))
    error.status = exc.status_code  # type: ignore[misc]
    return error_response(request, error)


async def unexpected(request: Request, exc: Exception) -> Response:
    """A bug: logged with its traceback on the server, a plain error body for the caller."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    body = codec.encode(ErrorBody(code=800003, description="Unexpected service error.", data=[]))
    return Response(body, status_code=500, media_type="application/json; charset=utf-8")


async def store_error(request: Request, exc: Exception) -> Response:
    """A database that cannot answer now is 503 with the error body, so the caller retries;
    any other database error is a bug (:func:`unexpected`)."""
    if not unavailable(exc):
        return await unexpected(request, exc)
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return error_response(
        request, ServiceUnavailable("The database is not available now; retry the request.")
    )


class _RunAgain(Response):
    """Not an answer: the request's route, run again from the start (its own errors answered
    as usual)."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope["route"].app(scope, receive, send)


async def keys_pending(request: Request, exc: Exception) -> Response:
    """A token signed by a key the JWKS URL may just have published: wait for the fetch (on
    its own thread; other requests go on meanwhile), then run the route again, which now finds
    the key or answers 401. Only once per request. A route authenticates before it reads the
    body or does anything else, so running it again repeats nothing (see ``authenticate``)."""
    assert isinstance(exc, KeysPending)
    state = request.scope.setdefault("state", {})
    if state.get("waited_for_keys"):
        return error_response(request, exc.refusal)
    state["waited_for_keys"] = True
    await exc.wait()
    return _RunAgain()


Handler = Callable[[Request, Exception], Awaitable[Response]]

HANDLERS: dict[type[Exception], Handler] = {
    ApiError: api_error,
    KeysPending: keys_pending,
    **dict.fromkeys(DRIVER_ERRORS, store_error),
    CodecError: codec_error,
    HTTPException: http_error,
    Exception: unexpected,
}
