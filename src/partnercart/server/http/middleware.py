"""The gateway: the one ASGI layer on every request (path normalisation, tracing headers,
fault injection, request log capture, access log)."""

from __future__ import annotations

import base64
import os
import random
import socket
import time
from email.utils import formatdate
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from partnercart.schema import codec, xmlcodec
from partnercart.schema.common import ErrorBody
from partnercart.server.http.accesslog import AccessLog
from partnercart.server.http.faults import inject, live_rules
from partnercart.server.http.media import DEFAULT_TYPE, XML_TYPES, choose
from partnercart.server.http.requestlog import Capture, LogBuffer
from partnercart.server.runtime import Runtime

CONTROL_PREFIX = "/_partnercart"

SERVER_ID = f"partnercart-{socket.gethostname()}-{os.getpid()}"


def extend_cv(vector: str | None) -> str:
    """Extend a correlation vector the way MS-CV does: ``base.1`` → ``base.1.0``; a new one
    when the caller sent none (or an unusable one)."""
    if vector:
        vector = vector.strip()
        if 0 < len(vector) <= 120 and all(c.isalnum() or c in "+/.=" for c in vector):
            return f"{vector}.0"
    # A trace id, not a secret: the fast generator is enough (os.urandom is a system call).
    base = base64.b64encode(random.getrandbits(96).to_bytes(12, "big")).decode()[:16]
    return f"{base}.0"


_VARIANT = "89ab"


def trace_id() -> str:
    """A made-up ``MS-RequestId`` or ``MS-CorrelationId``: a version 4 GUID from the fast
    generator (an id to trace by, never a secret or a key; the caller's own ``MS-RequestId`` is
    the one that deduplicates). ``str(uuid.uuid4())`` reads ``os.urandom``, a system call, and
    builds a UUID object on every request that sends no id."""
    h = f"{random.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


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


class Gateway:
    """The one layer every request passes, in a single pass over its headers:

    - normalises ``/v1.0/`` to ``/v1/`` and drops a trailing slash (in the scope itself, so the
      router and the logs see the route that matched);
    - echoes ``MS-RequestId`` and ``MS-CorrelationId`` (made up when absent), extends
      ``MS-CV``, echoes ``X-Locale`` and adds ``MS-ServerId`` and ``Date`` on every answer,
      errors included, and puts the ids in ``scope["state"]`` for the handlers and the logs;
    - hands Partner Center requests to fault injection while any fault rule is live;
    - keeps what the request log needs (see :class:`~partnercart.server.http.requestlog.Capture`)
      and queues it for the batched write;
    - writes the access line when the access logger is on.

    An unhandled exception before the answer started becomes the 500 error body here, so even
    that answer carries the headers and is logged; the exception still propagates to
    :class:`~partnercart.server.http.faults.ControlledApp`, which logs it.

    One layer rather than one middleware per concern: each pure ASGI layer wraps ``send`` (and
    often ``receive``) in closures of its own, and four of them cost a GET about a tenth of its
    server time (bench/inprocess.py; docs/decisions.md).
    """

    #: It sets ``state["answered"]`` when its answer starts, so the app around it
    #: (:class:`~partnercart.server.http.faults.ControlledApp`) needs no layer that watches.
    marks_answered = True

    def __init__(self, app: ASGIApp, *, runtime: Runtime, buffer: LogBuffer) -> None:
        self.app = app
        self.runtime = runtime
        self.buffer = buffer
        self.access = AccessLog() if runtime.settings.access_log else None
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
        # The first of each header counts, as Starlette's Headers.get finds it.
        request_id = correlation_id = cv = locale = authorization = accept = None
        for key, value in scope["headers"]:
            if key[:3] == b"ms-":
                if key == b"ms-requestid":
                    request_id = value if request_id is None else request_id
                elif key == b"ms-correlationid":
                    correlation_id = value if correlation_id is None else correlation_id
                elif key == b"ms-cv":
                    cv = value if cv is None else cv
            elif key == b"authorization":
                authorization = value if authorization is None else authorization
            elif key == b"accept":
                accept = value if accept is None else accept
            elif key == b"x-locale":
                locale = value if locale is None else locale
        sent_request_id = _clean_bytes(request_id)
        request_id_text = sent_request_id or trace_id()
        correlation = _clean_bytes(correlation_id) or trace_id()
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id_text
        state["request_id_sent"] = sent_request_id is not None
        state["correlation_id"] = correlation
        # For authenticate(), fault matching, the request log and media.negotiate(), which
        # would otherwise search the headers again.
        state["authorization"] = None if authorization is None else authorization.decode("latin-1")
        state["accept"] = None if accept is None else accept.decode("latin-1")
        extra = [
            (b"ms-requestid", request_id_text.encode()),
            (b"ms-correlationid", correlation.encode()),
            (b"ms-cv", extend_cv(None if cv is None else cv.decode("latin-1")).encode()),
            (b"x-locale", (_clean_bytes(locale, 35) or "en-US").encode()),
            (b"ms-serverid", _SERVER_ID),
        ]
        partner_center = not path.startswith(CONTROL_PREFIX)
        runtime = self.runtime
        capture: Capture | None = None
        if partner_center and runtime.settings.request_log:
            capture = Capture(scope, runtime.wall_clock.now(), time.perf_counter())
            if scope["method"] in _BODY_METHODS:
                receive = _capturing(receive, capture)
        access = self.access if self.access is not None and self.access.enabled() else None
        started = time.perf_counter() if access is not None else 0.0
        status = 500
        answered = False

        async def gateway_send(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                answered = True
                state["answered"] = True
                status = message["status"]
                own = message.get("headers", ())
                headers = [*own, *extra]
                # only the app's own headers can hold a Date (``extra`` never does)
                if not any(key.lower() == b"date" for key, _ in own):
                    headers.append((b"date", self._date()))
                message["headers"] = headers
                if capture is not None:
                    capture.status = status
                    capture.response_headers = headers
            elif capture is not None and message["type"] == "http.response.body":
                capture.response_body(message.get("body", b""))
            await send(message)

        try:
            live = await live_rules(runtime) if partner_center else None
            if live:
                await inject(self.app, runtime, live, scope, receive, gateway_send)
            else:
                await self.app(scope, receive, gateway_send)
        except Exception:
            if not answered:
                body, content_type = _unexpected_body(state["accept"])
                await gateway_send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", content_type.encode()),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await gateway_send({"type": "http.response.body", "body": body})
            raise
        finally:
            if capture is not None:
                capture.duration = time.perf_counter() - capture.started
                self.buffer.add(capture)
            if access is not None:
                # None: nothing was answered (a fault rule dropped the connection)
                access.write(scope, status if answered else None, time.perf_counter() - started)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SERVER_ID = SERVER_ID.encode()


def _capturing(receive: Receive, capture: Capture) -> Receive:
    async def capturing_receive() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            capture.request_body(message.get("body", b""))
        return message

    return capturing_receive


def _clean_bytes(value: bytes | None, limit: int = 128) -> str | None:
    """:func:`_clean` for a raw header value."""
    if value is None:
        return None
    return _clean(value.decode("latin-1"), limit)
