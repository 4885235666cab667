"""Request building and response parsing: pure data, no I/O.

An :class:`Operation` says everything about one logical call (method, path, query, body, the
expected result type); :func:`build_request` turns it into an ``httpx.Request`` for one
attempt and :func:`parse_response` turns an answer into the typed result. The sync and async
clients share both and differ only in how they send bytes and sleep.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
import msgspec

from partnercart import __version__
from partnercart.client._errors import InvalidResponseError
from partnercart.schema import codec
from partnercart.schema.codec import CodecError
from partnercart.schema.common import Attributes, CollectionLinks, Link, Wire

T = TypeVar("T")
ItemT = TypeVar("ItemT")

__all__ = [
    "Operation",
    "Page",
    "build_request",
    "next_page_operation",
    "parse_response",
    "snapshot",
]

CLIENT_NAME = f"partnercart-python/{__version__}"


class Page(Wire, Generic[ItemT], kw_only=True):
    """One page of a Partner Center collection."""

    total_count: int | None = None
    items: list[ItemT] = []
    links: CollectionLinks | None = None
    continuation_token: str | None = None
    attributes: Attributes | None = None


@dataclass(frozen=True, slots=True)
class Operation(Generic[T]):
    """One logical call. ``path`` is relative to the versioned root (``/customers/…``) unless
    it is absolute (a link the service handed out)."""

    method: str
    path: str
    result: type[T] | None
    params: tuple[tuple[str, str], ...] = ()
    body: Any = None
    #: Already-encoded JSON body (e.g. checkout's ``"success"``); wins over ``body``.
    raw_body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    success: frozenset[int] = field(default_factory=lambda: frozenset({200, 201, 202, 204}))

    def with_query(self, **params: str | None) -> Operation[T]:
        extra = tuple((k, v) for k, v in params.items() if v is not None)
        return Operation(
            self.method,
            self.path,
            self.result,
            self.params + extra,
            self.body,
            self.raw_body,
            self.headers,
            self.success,
        )


def root_url(base_url: str) -> str:
    """``https://host`` → ``https://host/v1``; a base that already names a version is kept."""
    base = base_url.rstrip("/")
    last = base.rsplit("/", 1)[-1]
    if last in ("v1", "v1.0"):
        return base
    return f"{base}/v1"


def url_for(root: str, path: str) -> str:
    """Resolve an operation path or a service link against the versioned root."""
    if path.startswith(("http://", "https://")):
        return path
    if not path.startswith("/"):
        path = "/" + path
    version = root.rsplit("/", 1)[-1]
    if path.startswith(f"/{version}/") or path.startswith("/v1/") or path.startswith("/v1.0/"):
        return root.rsplit("/", 1)[0] + path
    return root + path


def encode_body(op: Operation[Any]) -> bytes | None:
    if op.raw_body is not None:
        return op.raw_body
    if op.body is None:
        return None
    return codec.encode(op.body)


def snapshot(op: Operation[T]) -> Operation[T]:
    """``op`` with its body encoded now, once for the whole logical call: every attempt then
    sends the same bytes under the same ``MS-RequestId``, whatever happens to the object the
    caller passed (an async caller may change it while a retry waits)."""
    if op.body is None or op.raw_body is not None:
        return op
    return dataclasses.replace(op, body=None, raw_body=codec.encode(op.body))


def build_request(
    op: Operation[Any],
    *,
    root: str,
    token: str,
    request_id: str,
    correlation_id: str,
    locale: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | None = None,
) -> httpx.Request:
    # httpx.Headers: a header given again in any casing replaces the one before (two
    # ``MS-CorrelationId`` lines would go out otherwise).
    headers = httpx.Headers(
        {
            "Accept": "application/json",
            "Authorization": f"Bearer {token}",
            "MS-RequestId": request_id,
            "MS-CorrelationId": correlation_id,
            "MS-PartnerCenter-Client": CLIENT_NAME,
            "User-Agent": CLIENT_NAME,
        }
    )
    if locale:
        headers["X-Locale"] = locale
    if extra_headers:
        headers.update(extra_headers)
    headers.update(op.headers)
    content = encode_body(op)
    if content is not None:
        headers["Content-Type"] = "application/json"
    return httpx.Request(
        op.method,
        url_for(root, op.path),
        params=list(op.params) if op.params else None,
        headers=headers,
        content=content,
        extensions={"timeout": timeout.as_dict()} if timeout is not None else None,
    )


def parse_response(
    op: Operation[T], status: int, body: bytes, request_id: str, correlation_id: str | None = None
) -> T:
    if op.result is None:
        return None  # type: ignore[return-value]
    try:
        return codec.decode_response(body, op.result)
    except CodecError as exc:
        # The codec words its messages for request bodies; this one is an answer's.
        reason = exc.message.replace("Invalid request body", "Unexpected response body", 1)
        reason = reason.replace("The request body", "The response body", 1)
        raise InvalidResponseError(
            f"HTTP {status} but the body is not a {_type_name(op.result)}: {reason}",
            status=status,
            request_id=request_id,
            correlation_id=correlation_id,
        ) from None


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp)


def next_page_operation(current: Operation[Page[Any]], page: Page[Any]) -> Operation[Any] | None:
    """The call that fetches the page after ``page``: its ``links.next`` with the link's headers
    (``MS-ContinuationToken``), or None on the last page."""
    nxt: Link | None = page.links.next if page.links is not None else None
    if nxt is None or not nxt.uri:
        return None
    headers = tuple((h.key, h.value) for h in nxt.headers)
    if page.continuation_token and not any(k.lower() == "ms-continuationtoken" for k, _ in headers):
        headers = (*headers, ("MS-ContinuationToken", page.continuation_token))
    op = Operation(
        (nxt.method or "GET").upper(),
        nxt.uri,
        current.result,
        (),
        None,
        None,
        headers,
        current.success,
    )
    if op.path == current.path and op.headers == current.headers and not current.params:
        return None  # a next link pointing at itself would loop forever
    return op


def page_type(item: type[ItemT]) -> type[Page[ItemT]]:
    return Page[item]  # type: ignore[valid-type]


def to_builtins(value: Any) -> Any:
    return msgspec.to_builtins(value)
