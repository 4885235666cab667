"""The call pipeline, written once as a generator of I/O requests.

:func:`run` is the policy chain: it keeps one ``MS-RequestId`` for the logical call (reused
by every retry, so the service can recognise a repeat), makes a fresh ``MS-CorrelationId``
per call unless the caller passes one, asks for a token before every attempt, and decides
retries with the :class:`RetryPolicy`. It never touches the network itself: it *yields*
:class:`GetToken`, :class:`Send` and :class:`Sleep` and the sync or async driver performs them
and sends the result (or throws the exception) back in. That is what lets the two clients
share every line of behaviour.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from partnercart.client._errors import (
    ServerError,
    TooManyRequestsError,
    TransportError,
    error_for_status,
    fault_code,
)
from partnercart.client._operation import Operation, build_request, parse_response, snapshot
from partnercart.client._retry import IN_PROGRESS, RetryPolicy, parse_retry_after

T = TypeVar("T")

__all__ = ["Attempt", "CallOptions", "GetToken", "Received", "Send", "Sleep", "run"]


@dataclass(frozen=True, slots=True)
class GetToken:
    """Driver: answer with a bearer token string."""


@dataclass(frozen=True, slots=True)
class Send:
    """Driver: send the request and answer with a :class:`Received` (or throw the
    ``httpx.TransportError``)."""

    request: httpx.Request


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


@dataclass(frozen=True, slots=True)
class Received:
    status: int
    headers: httpx.Headers
    body: bytes
    reason: str = ""


Action = GetToken | Send | Sleep


@dataclass(frozen=True, slots=True)
class Attempt:
    """What a hook sees about one attempt (for logging and tests)."""

    number: int
    request: httpx.Request
    status: int | None
    error: BaseException | None


@dataclass(frozen=True, slots=True)
class CallOptions:
    root: str
    retry: RetryPolicy
    locale: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    on_attempt: Callable[[Attempt], None] | None = None
    rand: Callable[[], float] | None = None
    timeout: httpx.Timeout | None = None


def new_id() -> str:
    return str(uuid.uuid4())


def run(
    op: Operation[T],
    options: CallOptions,
    *,
    request_id: str | None = None,
    correlation_id: str | None = None,
) -> Generator[Action, Any, T]:
    """The pipeline of one logical call. The body is encoded here, when the call is made, not
    when the driver first runs the generator: an async call scheduled as a task sends what the
    object held when it was called, and every retry sends those same bytes."""
    return _attempts(snapshot(op), options, request_id or new_id(), correlation_id or new_id())


def _attempts(
    op: Operation[T], options: CallOptions, request_id: str, correlation_id: str
) -> Generator[Action, Any, T]:
    policy = options.retry
    attempt = 0
    while True:
        attempt += 1
        try:
            token = yield GetToken()
        except (httpx.TransportError, TransportError, ServerError, TooManyRequestsError) as exc:
            # The token endpoint could not be reached or was busy: the same policy as for the
            # call itself (a 400 or 401 there, a wrong secret, is raised at once).
            wait = _delay(
                policy,
                options,
                attempt,
                getattr(exc, "status", None),
                getattr(exc, "retry_after", None),
            )
            if wait is None:
                raise
            yield Sleep(wait)
            continue
        request = build_request(
            op,
            root=options.root,
            token=token,
            request_id=request_id,
            correlation_id=correlation_id,
            locale=options.locale,
            extra_headers=options.headers,
            timeout=options.timeout,
        )
        try:
            received: Received = yield Send(request)
        except httpx.TransportError as exc:
            if options.on_attempt is not None:
                options.on_attempt(Attempt(attempt, request, None, exc))
            wait = _delay(policy, options, attempt, None, None)
            if wait is None:
                raise TransportError(
                    f"{op.method} {request.url} failed after {attempt} attempt(s): "
                    f"{type(exc).__name__}: {exc}",
                    request_id=request_id,
                    correlation_id=correlation_id,
                ) from exc
            yield Sleep(wait)
            continue
        if options.on_attempt is not None:
            options.on_attempt(Attempt(attempt, request, received.status, None))
        if received.status in op.success:
            return parse_response(op, received.status, received.body, request_id, correlation_id)
        retry_after = parse_retry_after(received.headers.get("Retry-After"))
        status: int | None = received.status
        if status == 409 and policy.retry_in_progress and fault_code(received.body) == IN_PROGRESS:
            # "Being processed by another request": nothing was done, and the same request
            # (same MS-RequestId) asked again later gets the first one's answer.
            status = None
        wait = _delay(policy, options, attempt, status, retry_after)
        if wait is None:
            raise error_for_status(
                received.status,
                received.body,
                request_id=request_id,
                correlation_id=correlation_id,
                retry_after=retry_after,
                reason=received.reason,
            )
        yield Sleep(wait)


def _delay(
    policy: RetryPolicy,
    options: CallOptions,
    attempt: int,
    status: int | None,
    retry_after: float | None,
) -> float | None:
    if options.rand is not None:
        return policy.delay(
            attempt=attempt, status=status, retry_after=retry_after, rand=options.rand
        )
    return policy.delay(attempt=attempt, status=status, retry_after=retry_after)
