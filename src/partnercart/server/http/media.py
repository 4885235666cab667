"""Bodies in and out: size limit, Content-Type (JSON or XML, with charset), and ``Accept``
negotiation with quality values. Both directions use the one schema: JSON through
:mod:`partnercart.schema.codec`, XML through :mod:`partnercart.schema.xmlcodec`."""

from __future__ import annotations

import codecs
import functools
import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from partnercart.schema import codec, xmlcodec
from partnercart.schema.codec import CodecError
from partnercart.server.domain.errors import (
    BadRequest,
    NotAcceptable,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from partnercart.server.http.parts import parts_of

T = TypeVar("T")
log = logging.getLogger("partnercart.http")

JSON_TYPES = frozenset({"application/json", "text/json"})
XML_TYPES = frozenset({"application/xml", "text/xml"})
#: What the server produces, in its order of preference (ties in ``Accept`` go to the first).
PRODUCED = ("application/json", "text/json", "application/xml", "text/xml")
DEFAULT_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
_UTF8 = codecs.lookup("utf-8").name


def _base_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _parameters(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in value.split(";")[1:]:
        name, _, raw = part.partition("=")
        params[name.strip().lower()] = raw.strip().strip('"')
    return params


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 past the configured limit (checked while reading)."""
    limit = parts_of(request).body_limit
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(
                    f"The request body is larger than the limit of {limit} bytes."
                )
            chunks.append(chunk)
    except ClientDisconnect:
        # A client that hung up mid-body: an incomplete request, not a bug of the service
        # (nobody reads the answer; the logs show a 400 rather than a 500 and a traceback).
        raise BadRequest("The connection closed before the request body was complete.") from None
    body = b"".join(chunks)
    request.state.raw_body = body  # the exact bytes, for the MS-RequestId fingerprint
    return body


def content_type(request: Request) -> tuple[str, str | None]:
    """The body's media type and charset (``None`` when not given); a body without
    Content-Type is read as JSON. 415 for anything else, for a charset Python lacks, or for a
    body with a Content-Encoding (compressed)."""
    coding = request.headers.get("content-encoding")
    if coding is not None and any(
        part.strip().lower() not in ("", "identity") for part in coding.split(",")
    ):
        raise UnsupportedMediaType(
            f"Content-Encoding {coding.strip()!r} is not supported; send the body uncompressed."
        )
    raw = request.headers.get("content-type")
    if not raw or not raw.strip():
        return DEFAULT_TYPE, None
    base = _base_type(raw)
    if base == FORM_TYPE:
        raise UnsupportedMediaType(
            "application/x-www-form-urlencoded bodies are not supported: a Partner Center "
            "resource has nested lists and objects that a form cannot carry. Send "
            "application/json, text/json, application/xml or text/xml."
        )
    if base not in JSON_TYPES and base not in XML_TYPES:
        raise UnsupportedMediaType(
            f"The media type {base!r} is not supported; send application/json, text/json, "
            "application/xml or text/xml."
        )
    charset = _parameters(raw).get("charset") or None
    return base, None if charset is None else _text_encoding(charset)


def _text_encoding(charset: str) -> str:
    """The codec name for ``charset``; 415 unless it is a text encoding Python has (``base64``
    and ``rot13`` are codecs too, but not charsets)."""
    refused = UnsupportedMediaType(f"The charset {charset!r} is not supported; send UTF-8.")
    try:
        name = codecs.lookup(charset).name
    except (LookupError, ValueError):
        raise refused from None
    try:
        b"probe".decode(name, "ignore")  # bytes-to-bytes codecs raise LookupError here
    except LookupError:
        raise refused from None
    except ValueError:
        pass  # a text encoding without the "ignore" handler (idna)
    return name


def request_media(request: Request) -> str:
    """The body's media type (see :func:`content_type`)."""
    return content_type(request)[0]


def decode(data: bytes, type_: type[T], *, media: str, charset: str | None) -> T:
    """A request body of ``media`` in ``charset`` as ``type_``; CodecError if unreadable."""
    if media in XML_TYPES:
        return xmlcodec.decode_request(data, type_, charset=charset)
    if charset is not None and charset != _UTF8:
        try:
            data = data.decode(charset).encode("utf-8")
        except (UnicodeError, ValueError) as exc:
            raise CodecError(f"The request body cannot be read as {charset}: {exc}.") from None
    return codec.decode_request(data, type_)


async def parse_body(request: Request, type_: type[T]) -> T:
    """The typed request body. ``Accept`` is checked first, so a request whose answer could
    not be rendered (406) changes nothing."""
    negotiate(request)
    media, charset = content_type(request)
    data = await read_body(request)
    return decode(data, type_, media=media, charset=charset)


def _accept_ranges(accept: str) -> list[tuple[str, str, float, int]]:
    """``(type, subtype, quality, position)`` for each media range in ``Accept``."""
    ranges = []
    for position, part in enumerate(accept.split(",")):
        kind = _base_type(part)
        main, slash, sub = kind.partition("/")
        if not slash or not main or not sub:
            continue
        quality = 1.0
        q = _parameters(part).get("q")
        if q is not None:
            try:
                quality = float(q)
            except ValueError:
                quality = 0.0
            quality = min(max(quality, 0.0), 1.0) if quality == quality else 0.0  # NaN: 0
        ranges.append((main, sub, quality, position))
    return ranges


def choose(accept: str | None, produced: tuple[str, ...] = PRODUCED) -> str | None:
    """:func:`negotiated`, remembered for the ``Accept`` values clients repeat (short ones)."""
    if accept is not None and len(accept) <= 200:
        return _choose_cached(accept, produced)
    return negotiated(accept, produced)


def negotiated(accept: str | None, produced: tuple[str, ...] = PRODUCED) -> str | None:
    """The media type to answer with: each produced type takes the quality of the most specific
    range that matches it (``q=0`` excludes); the highest quality wins, then an explicit
    match over a wildcard, then the earlier range in ``Accept``, then the server's order.
    ``None`` when nothing acceptable is produced."""
    if accept is None or not accept.strip():
        return produced[0]
    ranges = _accept_ranges(accept)
    best: tuple[float, int, int, int] | None = None
    chosen: str | None = None
    for order, candidate in enumerate(produced):
        main, _, sub = candidate.partition("/")
        match: tuple[int, float, int] | None = None
        for r_main, r_sub, quality, position in ranges:
            if r_main == main and r_sub == sub:
                specificity = 2
            elif r_main == main and r_sub == "*":
                specificity = 1
            elif r_main == "*" and r_sub == "*":
                specificity = 0
            else:
                continue
            if match is None or specificity > match[0]:
                match = (specificity, quality, position)
        if match is None or match[1] <= 0:
            continue
        rank = (match[1], match[0], -match[2], -order)
        if best is None or rank > best:
            best, chosen = rank, candidate
    return chosen


_choose_cached = functools.lru_cache(maxsize=256)(negotiated)


def negotiate(request: Request, *, fallback: bool = False) -> str:
    """The response media type for the request's ``Accept`` (quality values honoured); 406
    when nothing can be produced, or JSON with ``fallback`` (error bodies)."""
    state = request.scope.get("state")
    # The gateway found the header already; without it (an app built without the gateway),
    # Starlette's header mapping does.
    if state is not None and "accept" in state:
        accept: str | None = state["accept"]
    else:
        accept = request.headers.get("accept")
    chosen = choose(accept)
    if chosen is None:
        if fallback:
            return DEFAULT_TYPE
        raise NotAcceptable(
            f"None of the media types in Accept ({accept}) can be produced; this resource is "
            "served as application/json, text/json, application/xml or text/xml."
        )
    return chosen


def render(
    request: Request,
    status: int,
    body: Any,
    *,
    type_: type | None = None,
    headers: Mapping[str, str] | None = None,
    fallback_to_json: bool = False,
) -> Response:
    """Render a wire model, or the stored JSON bytes of one, in the negotiated media type.

    JSON bytes go out as they are (the fast path); XML needs the model type: ``type_``, or the
    class of ``body``. A value XML 1.0 cannot carry (a control character) is answered in JSON
    rather than lost: the Content-Type tells the client which it got. So is stored JSON whose
    handler gave no ``type_`` (a handler bug the live schemathesis test reports)."""
    media = negotiate(request, fallback=fallback_to_json)
    content: bytes | None = None
    if media in XML_TYPES:
        try:
            if not isinstance(body, bytes):
                content = xmlcodec.encode(body, type_)
            elif type_ is not None:
                content = xmlcodec.encode_json(body, type_)
            else:
                log.error("no model type to answer %s in XML; answered JSON", request.url.path)
                media = DEFAULT_TYPE
        except xmlcodec.XmlEncodeError:
            media, content = DEFAULT_TYPE, None
    if content is None:
        content = body if isinstance(body, bytes) else codec.encode(body)
    return Rendered(content, status, _content_type(media), headers)


class Rendered(Response):
    """A rendered answer with its header list made in one pass, the content type's bytes made
    once per media type (``_content_type``), instead of Starlette's ``init_headers``. As there,
    a handler's own ``Content-Type`` or ``Content-Length`` wins, and a 204 or 304 (or a 1xx)
    gets no length."""

    def __init__(
        self,
        content: bytes,
        status: int,
        content_type: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status
        self.background = None
        self.body = content
        given = headers.items() if headers else ()
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in given]
        names = {name for name, _ in raw}
        if b"content-length" not in names and status >= 200 and status not in (204, 304):
            raw.append((b"content-length", str(len(content)).encode()))
        if b"content-type" not in names:
            raw.append((b"content-type", content_type))
        self.raw_headers = raw


@functools.cache
def _content_type(media: str) -> bytes:
    return f"{media}; charset=utf-8".encode("latin-1")


__all__ = [
    "DEFAULT_TYPE",
    "JSON_TYPES",
    "PRODUCED",
    "XML_TYPES",
    "choose",
    "content_type",
    "decode",
    "negotiate",
    "parse_body",
    "read_body",
    "render",
    "request_media",
]
