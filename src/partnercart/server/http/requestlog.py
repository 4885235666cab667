"""Pure ASGI middleware that writes every Partner Center request to the request log."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from partnercart.server.control import requestlog
from partnercart.server.control.requestlog import BODY_LIMIT, LoggedRequest
from partnercart.server.control.store import to_micros
from partnercart.server.domain.errors import ApiError
from partnercart.server.http.auth import actor_from_header
from partnercart.server.runtime import Runtime

log = logging.getLogger("partnercart.requestlog")
CONTROL_PREFIX = "/_partnercart"
_REDACTED = {"authorization", "x-partnercart-admin-key", "cookie", "set-cookie"}


def _headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in raw:
        name = key.decode("latin-1").lower()
        text = "<redacted>" if name in _REDACTED else value.decode("latin-1")[:1024]
        out[name] = f"{out[name]}, {text}" if name in out else text
    return out


def _text(chunks: list[bytes]) -> str:
    data = b"".join(chunks)
    text = data[:BODY_LIMIT].decode("utf-8", errors="replace")
    if len(data) > BODY_LIMIT:
        text += f"... ({len(data)} bytes)"
    return text


def _partner(runtime: Runtime, scope: Scope) -> str | None:
    """The partner a request's token names, when no handler checked it (a fault answered)."""
    for key, value in scope["headers"]:
        if key == b"authorization":
            try:
                return actor_from_header(runtime, value.decode("latin-1")).partner_id
            except ApiError:
                return None
    return None


class LogBuffer:
    """Entries waiting to be written, in batches: one transaction per ``FLUSH_AFTER`` seconds
    (or per ``FLUSH_SIZE`` entries) instead of one write transaction per request, which halved
    GET throughput on SQLite. Other processes see an entry within ``FLUSH_AFTER``; this
    process's own list route flushes first, so it sees its entries at once."""

    FLUSH_AFTER = 0.2
    FLUSH_SIZE = 256

    def __init__(self) -> None:
        self._pending: list[tuple[LoggedRequest, int]] = []
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._pending)

    async def add(self, runtime: Runtime, entry: LoggedRequest, at: int) -> None:
        self._pending.append((entry, at))
        if len(self._pending) >= self.FLUSH_SIZE:
            await self.flush(runtime)
        elif not self._scheduled:
            self._scheduled = True
            task = asyncio.get_running_loop().create_task(self._flush_later(runtime))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _flush_later(self, runtime: Runtime) -> None:
        await asyncio.sleep(self.FLUSH_AFTER)
        await self.flush(runtime)

    def _take(self) -> list[tuple[LoggedRequest, int]]:
        batch, self._pending = self._pending, []
        self._scheduled = False
        return batch

    @staticmethod
    def _write(runtime: Runtime, batch: list[tuple[LoggedRequest, int]]) -> None:
        with runtime.services.store.unit_of_work(write=True) as uow:
            for entry, at in batch:
                requestlog.add(uow, entry, at_micros=at, trim=False)
            # Each partner's log is trimmed once per batch.
            for partner_id in {entry.partner_id for entry, _ in batch}:
                requestlog.trim_log(uow, partner_id)

    async def flush(self, runtime: Runtime) -> None:
        batch = self._take()
        if not batch:
            return
        try:
            if runtime.services.store.blocking:
                await anyio.to_thread.run_sync(functools.partial(self._write, runtime, batch))
            else:
                self._write(runtime, batch)
        except Exception:  # the answers are already sent; lost log lines must not fail them
            log.warning("could not write %d request log entries", len(batch), exc_info=True)

    def flush_now(self, runtime: Runtime) -> None:
        """Write what is pending, synchronously (at shutdown)."""
        batch = self._take()
        if batch:
            try:
                self._write(runtime, batch)
            except Exception:
                log.warning("could not write %d request log entries", len(batch), exc_info=True)


class RequestLog:
    """Records method, route, headers (credentials redacted), bodies (truncated), status,
    duration, correlation ids, and whether a fault or an idempotent replay answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        runtime: Runtime = scope["app"].state.runtime
        if not runtime.settings.request_log:
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        started = time.perf_counter()
        wall = runtime.wall_clock.now()
        request_chunks: list[bytes] = []
        response_chunks: list[bytes] = []
        response: dict[str, Any] = {"status": None, "headers": []}
        sizes = {"request": 0, "response": 0}

        async def logged_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and sizes["request"] <= BODY_LIMIT:
                body = message.get("body", b"")
                request_chunks.append(body)
                sizes["request"] += len(body)
            return message

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                response["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body" and sizes["response"] <= BODY_LIMIT:
                body = message.get("body", b"")
                response_chunks.append(body)
                sizes["response"] += len(body)
            await send(message)

        try:
            await self.app(scope, logged_receive, logged_send)
        finally:
            response_headers = _headers(response["headers"])
            replayed = bool(state.get("replayed")) or (
                response_headers.get("ms-idempotent-replay", "").lower() == "true"
            )
            entry = LoggedRequest(
                partner_id=state.get("partner_id") or _partner(runtime, scope),
                at=wall.isoformat().replace("+00:00", "Z"),
                method=scope["method"],
                path=scope["path"],
                route=state.get("route"),
                query=scope.get("query_string", b"").decode("latin-1")[:1024],
                status=None if state.get("drop_connection") else response["status"],
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                request_id=state.get("request_id"),
                correlation_id=state.get("correlation_id"),
                request_headers=_headers(scope["headers"]),
                request_body=_text(request_chunks),
                response_headers=response_headers,
                response_body=_text(response_chunks),
                fault=state.get("fault"),
                fault_action=state.get("fault_action"),
                replayed=replayed,
                dropped=bool(state.get("drop_connection")),
            )
            buffer: LogBuffer = scope["app"].state.request_log_buffer
            await buffer.add(runtime, entry, to_micros(wall))
