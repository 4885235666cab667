"""Pure ASGI middleware on every request: path normalisation and the tracing headers."""

from __future__ import annotations

import base64
import os
import socket
import time
import uuid
from email.utils import formatdate
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from partnercart.schema import codec, xmlcodec
from partnercart.schema.common import ErrorBody
from partnercart.server.http.media import DEFAULT_TYPE, XML_TYPES, choose

SERVER_ID = f"partnercart-{socket.gethostname()}-{os.getpid()}"


def extend_cv(vector: str | None) -> str:
    """Extend a correlation vector the way MS-CV does: ``base.1`` → ``base.1.0``; a new one
    when the caller sent none (or an unusable one)."""
    if vector:
        vector = vector.strip()
        if 0 < len(vector) <= 120 and all(c.isalnum() or c in "+/.=" for c in vector):
            return f"{vector}.0"
    base = base64.b64encode(os.urandom(12)).decode()[:16]
    return f"{base}.0"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            try:
                return str(value.decode("latin-1"))
            except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes anything
                return None
    return None


def _clean(value: str | None, limit: int = 128) -> str | None:
    if value is None:
        return None
    value = value.strip()
    # printable ASCII only (0x20-0x7E): for ASCII text, isprintable() is exactly that range
    if not value or len(value) > limit or not (value.isascii() and value.isprintable()):
        return None
    return value


class _HttpDate:
    """The ``Date`` header value, formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def __call__(self) -> bytes:
        second = int(time.time())
        if second != self._second:
            self._value = formatdate(second, usegmt=True).encode()
            self._second = second
        return self._value


def _unexpected_body(accept: str | None) -> tuple[bytes, str]:
    """The 500 body in the media type ``Accept`` prefers (JSON when it allows nothing)."""
    body = ErrorBody(code=800003, description="Unexpected service error.", data=[])
    media = choose(accept) or DEFAULT_TYPE
    if media in XML_TYPES:
        return xmlcodec.encode(body), f"{media}; charset=utf-8"
    return codec.encode(body), f"{media}; charset=utf-8"


class PartnerCenterHeaders:
    """Normalises ``/v1.0/`` to ``/v1/`` and drops a trailing slash; echoes ``MS-RequestId`` and
    ``MS-CorrelationId`` (made up when absent), extends ``MS-CV``, echoes ``X-Locale`` and adds
    ``MS-ServerId`` and ``Date`` (when the server has not), on every answer, errors included.
    The chosen ids are put in ``scope["state"]`` for the handlers and the access log.

    The path is rewritten in the scope itself, so outer middleware (the access log) sees the
    route the router matched. An unhandled exception before the answer started becomes the
    500 error body here, so even that answer carries the headers; the exception still
    propagates to Starlette's error middleware, which logs it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._date = _HttpDate()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/v1.0/") or path == "/v1.0":
            path = "/v1" + path[5:]
        if len(path) > 1 and path.endswith("/"):
            path = path.rstrip("/") or "/"
        if path != scope["path"]:
            scope["path"] = path
            scope["raw_path"] = path.encode()
        sent_request_id = _clean(_header(scope, b"ms-requestid"))
        request_id = sent_request_id or str(uuid.uuid4())
        correlation_id = _clean(_header(scope, b"ms-correlationid")) or str(uuid.uuid4())
        cv = extend_cv(_header(scope, b"ms-cv"))
        locale = _clean(_header(scope, b"x-locale"), 35) or "en-US"
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["request_id_sent"] = sent_request_id is not None
        state["correlation_id"] = correlation_id
        extra = [
            (b"ms-requestid", request_id.encode()),
            (b"ms-correlationid", correlation_id.encode()),
            (b"ms-cv", cv.encode()),
            (b"x-locale", locale.encode()),
            (b"ms-serverid", SERVER_ID.encode()),
        ]
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [*message.get("headers", []), *extra]
                if not any(key.lower() == b"date" for key, _ in headers):
                    headers.append((b"date", self._date()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                body, content_type = _unexpected_body(_header(scope, b"accept"))
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", content_type.encode()),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send_with_headers({"type": "http.response.body", "body": body})
            raise
