"""One JSON line per request on the ``partnercart.access`` logger."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.types import Scope

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
    """Formats and writes the access line of a request: method, route template, status,
    duration, partner, ``MS-RequestId``, ``MS-CorrelationId`` and whether the answer was an
    idempotent replay, at INFO on :data:`ACCESS_LOGGER`. The gateway calls :meth:`write` once
    per request when :meth:`enabled`; with the logger below INFO it costs one level check.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(ACCESS_LOGGER)
        self._timestamp = _Timestamp()

    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

    def write(self, scope: Scope, status: int, seconds: float) -> None:
        self.logger.info(self.line(scope, status, seconds))

    def line(self, scope: Scope, status: int, seconds: float) -> str:
        state: Mapping[str, Any] = scope.get("state") or {}
        route = getattr(scope.get("route"), "path", None)
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
