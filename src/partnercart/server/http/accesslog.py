"""One JSON line per request on the ``partnercart.access`` logger."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "partnercart.access"

_encoder = msgspec.json.Encoder()


class _Timestamp:
    """``2026-11-21T12:00:00.123Z`` for now; the seconds part is formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:
            moment = dt.datetime.fromtimestamp(second, dt.UTC)
            self._prefix = moment.strftime("%Y-%m-%dT%H:%M:%S")
            self._second = second
        return f"{self._prefix}.{int((now - second) * 1000):03d}Z"


class AccessLog:
    """Logs method, route template, status, duration, partner, ``MS-RequestId``,
    ``MS-CorrelationId`` and whether the answer was an idempotent replay, at INFO.

    Costs nothing beyond one level check when the logger is not enabled for INFO. Must sit
    outside :class:`PartnerCenterHeaders`, which records the ids in ``scope["state"]``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        templates: Mapping[Any, str],
        logger: logging.Logger | None = None,
    ) -> None:
        self.app = app
        self.templates = templates
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)
        self._timestamp = _Timestamp()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            self.logger.info(self.line(scope, status, time.perf_counter() - started))

    def line(self, scope: Scope, status: int, seconds: float) -> str:
        state: Mapping[str, Any] = scope.get("state") or {}
        route = self.templates.get(scope.get("endpoint"))
        record: dict[str, Any] = {
            "time": self._timestamp(),
            "method": scope["method"],
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 3),
            "partner": state.get("partner_id"),
            "ms_request_id": state.get("request_id"),
            "ms_correlation_id": state.get("correlation_id"),
            "replay": bool(state.get("idempotent_replay", False)),
        }
        if route is None:
            record["path"] = scope["path"]
        return _encoder.encode(record).decode()


def configure_access_log() -> None:
    """Send the access log, one JSON line per request, to stderr (``serve`` and its workers)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if any(getattr(h, "_partnercart", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler._partnercart = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


__all__ = ["ACCESS_LOGGER", "AccessLog", "configure_access_log"]
