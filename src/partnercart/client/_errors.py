"""Typed errors, one class per kind of failure, built from a Partner Center answer.

Every error carries what a support ticket needs: the HTTP ``status``, the Partner Center
``code`` and ``description``, the ``data`` list, and the ``request_id`` / ``correlation_id``
the call was made with.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = [
    "BadRequestError",
    "ConflictError",
    "ForbiddenError",
    "InvalidResponseError",
    "NotFoundError",
    "PartnerCenterError",
    "PreconditionFailedError",
    "ServerError",
    "TooManyRequestsError",
    "TransportError",
    "UnauthorizedError",
    "error_for_status",
    "fault_code",
]


class PartnerCenterError(Exception):
    """Base of every error the client raises."""

    def __init__(
        self,
        description: str,
        *,
        status: int | None = None,
        code: int | str | None = None,
        data: list[Any] | None = None,
        source: str | None = None,
        request_id: str | None = None,
        correlation_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.code = code
        self.data: list[Any] = list(data or [])
        self.source = source
        self.request_id = request_id
        self.correlation_id = correlation_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        head = f"HTTP {self.status}" if self.status is not None else type(self).__name__
        code = f" (code {self.code})" if self.code is not None else ""
        ids = f" [MS-RequestId {self.request_id}, MS-CorrelationId {self.correlation_id}]"
        return f"{head}{code}: {self.description}{ids if self.request_id else ''}"


class BadRequestError(PartnerCenterError):
    """400 and the other refusals of the request itself (405, 406, 413, 415, 422)."""


class UnauthorizedError(PartnerCenterError):
    """401: no token, or a token the service does not accept."""


class ForbiddenError(PartnerCenterError):
    """403: authenticated, but not allowed (e.g. no relationship with the customer)."""


class NotFoundError(PartnerCenterError):
    """404: the customer, cart, order or catalog item does not exist for this partner."""


class ConflictError(PartnerCenterError):
    """409: the resource is being changed by another request, or the change conflicts."""


class PreconditionFailedError(PartnerCenterError):
    """412 / 417: an ``If-Match`` or other precondition did not hold."""


class TooManyRequestsError(PartnerCenterError):
    """429 after the retries ran out; ``retry_after`` is the server's last advice."""


class ServerError(PartnerCenterError):
    """5xx after the retries ran out (or 501, which is never retried)."""


class TransportError(PartnerCenterError):
    """The service could not be reached or did not answer in time, after the retries."""


class InvalidResponseError(PartnerCenterError):
    """A success status with a body that is not the resource the operation promises."""


_BY_STATUS: dict[int, type[PartnerCenterError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    405: BadRequestError,
    406: BadRequestError,
    409: ConflictError,
    412: PreconditionFailedError,
    413: BadRequestError,
    415: BadRequestError,
    417: PreconditionFailedError,
    422: BadRequestError,
    429: TooManyRequestsError,
}


class _Fault(msgspec.Struct):
    """The ApiFault body; ``code`` is a number on the wire but a string in the docs table."""

    code: int | str | None = None
    description: str | None = None
    data: list[Any] | None = None
    source: str | None = None


class _Throttle(msgspec.Struct, rename="camel"):
    status_code: int | None = None
    message: str | None = None


def _parse_body(body: bytes) -> tuple[int | str | None, str | None, list[Any], str | None]:
    """(code, description, data, source) from either error body shape; Nones when unreadable."""
    try:
        document = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None, None, [], None
    if not isinstance(document, dict):
        return None, None, [], None
    lowered = {k.lower() if isinstance(k, str) else k: v for k, v in document.items()}
    if "description" in lowered or "code" in lowered:
        try:
            fault = msgspec.convert(lowered, _Fault, strict=False)
        except msgspec.ValidationError:
            return None, None, [], None
        data = fault.data if isinstance(fault.data, list) else []
        return fault.code, fault.description, data, fault.source
    if "message" in lowered:
        try:
            throttle = msgspec.convert(document, _Throttle, strict=False)
        except msgspec.ValidationError:
            return None, None, [], None
        return throttle.status_code, throttle.message, [], None
    return None, None, [], None


def fault_code(body: bytes) -> int | str | None:
    """The Partner Center ``code`` of an error body (a number, or its text), if it has one."""
    code = _parse_body(body)[0]
    if isinstance(code, str) and code.isdigit():
        return int(code)
    return code


def error_for_status(
    status: int,
    body: bytes,
    *,
    request_id: str | None,
    correlation_id: str | None,
    retry_after: float | None = None,
    reason: str = "",
) -> PartnerCenterError:
    """The typed error for a non-success answer."""
    if status >= 500:
        cls: type[PartnerCenterError] = ServerError
    else:
        cls = _BY_STATUS.get(status, PartnerCenterError)
    code, description, data, source = _parse_body(body)
    if not description:
        text = body[:500].decode("utf-8", "replace").strip()
        description = text or reason or f"HTTP {status}"
    return cls(
        description,
        status=status,
        code=code,
        data=data,
        source=source,
        request_id=request_id,
        correlation_id=correlation_id,
        retry_after=retry_after,
    )
