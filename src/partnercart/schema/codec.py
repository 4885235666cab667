"""The one codec: wire models to bytes and back.

Requests go through :func:`decode_request`, which is lenient the way Partner Center is (any
property casing, every enum spelling, server-owned fields ignored) and strict about JSON syntax
and types. Responses go through :func:`encode`. Clients decode responses with
:func:`decode_response`, which keeps server-owned fields.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any, TypeVar

import msgspec

from partnercart.schema.normalize import NotAnInteger, plan_for

T = TypeVar("T")

_json_encoder = msgspec.json.Encoder()
_json_decoder = msgspec.json.Decoder()
_BYTE_AT = re.compile(r"\(byte (\d+)\)")
#: A JSON string (skipped) or a JSON number (group 1), to find a number no double can hold.
_STRING_OR_NUMBER = re.compile(rb'"(?:[^"\\]|\\.)*"|(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)')
_MISSING = re.compile(r"missing required field `([^`]+)`")


class CodecError(ValueError):
    """A body that cannot be read: ``message`` says what, ``path`` where (``$.lineItems[0]``)."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    head = data[:offset]
    line = head.count(b"\n") + 1
    col = offset - (head.rfind(b"\n") + 1) + 1
    return line, col


def _locate(data: bytes, exc: msgspec.DecodeError) -> str:
    """Say where the JSON broke, by line and column. On this (rare) path the standard library
    parser is asked again, because it names the position of every syntax error."""
    try:
        json.loads(data)
    except json.JSONDecodeError as std:
        return f"{std.msg} at line {std.lineno}, column {std.colno}"
    except (UnicodeDecodeError, RecursionError, ValueError):
        pass
    text = str(exc)
    if text.startswith("Number out of range"):
        # The standard library reads such a number as infinity; find it and say where.
        for token in _STRING_OR_NUMBER.finditer(data):
            number = token.group(1)
            if number is not None and float(number) in (float("inf"), float("-inf")):
                line, col = _line_col(data, token.start(1))
                shown = number.decode("ascii")
                return f"the number {shown} is out of range at line {line}, column {col}"
    match = _BYTE_AT.search(text)
    if match:
        line, col = _line_col(data, int(match.group(1)))
        text = f"{text[: match.start()].rstrip()} at line {line}, column {col}"
    return text


def parse_json(data: bytes) -> Any:
    """Untyped JSON with a syntax error reported by line and column."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return _json_decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise CodecError(f"The request body is not valid JSON: {_locate(data, exc)}.") from None
    except RecursionError:
        raise CodecError("The request body is not valid JSON: it is nested too deeply.") from None


def convert(document: Any, type_: type[T], *, drop_server_owned: bool) -> T:
    """Normalise an untyped document and convert it to ``type_``, naming the failing path."""
    try:
        normal = plan_for(type_, drop_server_owned=drop_server_owned)(document)  # type: ignore[arg-type]
    except NotAnInteger as exc:
        path = exc.where()
        raise CodecError(f"Invalid request body at {path}: {exc.message}.", path=path) from None
    try:
        return msgspec.convert(normal, type_, strict=False)
    except msgspec.ValidationError as exc:
        text = str(exc)
        path = "$"
        marker = " - at `"
        if marker in text:
            text, _, rest = text.partition(marker)
            path = rest.rstrip("`")
        missing = _MISSING.search(text)
        if missing:
            path = f"{path}.{missing.group(1)}"
        raise CodecError(f"Invalid request body at {path}: {text}.", path=path) from None


def decode_request(data: bytes, type_: type[T]) -> T:
    """A request body as the server reads it."""
    return convert(parse_json(data), type_, drop_server_owned=True)


def decode_response(data: bytes, type_: type[T]) -> T:
    """A response body as a client reads it (nothing dropped)."""
    return convert(parse_json(data), type_, drop_server_owned=False)


@cache
def _stored_decoder(type_: type[Any]) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(type_)


def decode_stored(data: bytes, type_: type[T]) -> T:
    """A document the server itself encoded (already canonical): typed decoding only, no
    normalising walk. Stored documents are read on every GET, PUT and checkout."""
    result: T = _stored_decoder(type_).decode(data)  # type: ignore[arg-type]
    return result


def encode(value: Any) -> bytes:
    return _json_encoder.encode(value)


def to_builtins(value: Any) -> Any:
    return msgspec.to_builtins(value)
