"""Bodies in and out: size limit, Content-Type, and ``Accept`` negotiation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from partnercart.schema import codec
from partnercart.server.domain.errors import (
    NotAcceptable,
    PayloadTooLarge,
    UnsupportedMediaType,
)

T = TypeVar("T")

JSON_TYPES = frozenset({"application/json", "text/json"})
DEFAULT_TYPE = "application/json"


def _base_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 past the configured limit (checked while reading)."""
    limit: int = request.app.state.body_limit
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
        chunks.append(chunk)
    body = b"".join(chunks)
    request.state.raw_body = body  # the exact bytes, for the MS-RequestId fingerprint
    return body


def request_media(request: Request) -> str:
    """The body's media type; a body without Content-Type is read as JSON."""
    raw = request.headers.get("content-type")
    if not raw:
        return DEFAULT_TYPE
    base = _base_type(raw)
    if base in JSON_TYPES:
        return base
    raise UnsupportedMediaType(
        f"The media type {base!r} is not supported; send application/json or text/json."
    )


async def parse_body(request: Request, type_: type[T]) -> T:
    """The typed request body. ``Accept`` is checked first, so a request whose answer could
    not be rendered (406) changes nothing."""
    negotiate(request)
    request_media(request)
    data = await read_body(request)
    return codec.decode_request(data, type_)


def negotiate(request: Request, *, fallback: bool = False) -> str:
    """The response media type for the request's ``Accept`` (quality values honoured)."""
    accept = request.headers.get("accept")
    if not accept:
        return DEFAULT_TYPE
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        kind = fields[0].lower()
        quality = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if kind in ("*/*", "application/*"):
            candidate = DEFAULT_TYPE
        elif kind == "text/*":
            candidate = "text/json"
        elif kind in JSON_TYPES:
            candidate = kind
        else:
            continue
        rank = (quality, -position, candidate)
        if best is None or rank[:2] > best[:2]:
            best = rank
    if best is None:
        if fallback:
            return DEFAULT_TYPE
        raise NotAcceptable(
            f"None of the media types in Accept ({accept}) can be produced; "
            "this resource is served as application/json or text/json."
        )
    return best[2]


def render(
    request: Request,
    status: int,
    body: Any,
    *,
    headers: Mapping[str, str] | None = None,
    fallback_to_json: bool = False,
) -> Response:
    """Render a wire model (or the stored JSON bytes of one) in the negotiated media type."""
    media = negotiate(request, fallback=fallback_to_json)
    content = body if isinstance(body, bytes) else codec.encode(body)
    return Response(
        content,
        status_code=status,
        media_type=f"{media}; charset=utf-8",
        headers=dict(headers) if headers else None,
    )
