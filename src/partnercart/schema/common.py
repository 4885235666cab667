"""Wire shapes shared by every resource: links, attributes, collections, the error bodies."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec


class Wire(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    """Base of every wire model: camelCase names out, absent values left out.

    ``server_owned`` names the fields a client may send but the server ignores on input.
    """

    server_owned: ClassVar[frozenset[str]] = frozenset()


class KeyValue(Wire, kw_only=True):
    key: str
    value: str


class Link(msgspec.Struct, rename="camel", kw_only=True):
    """A link; ``headers`` is always on the wire, even when empty, as in every published sample."""

    uri: str
    method: str = "GET"
    headers: list[KeyValue] = msgspec.field(default_factory=list)


class Attributes(Wire, kw_only=True):
    object_type: str | None = None
    etag: str | None = None


class SelfLinks(Wire, kw_only=True):
    self: Link | None = None


class CollectionLinks(Wire, kw_only=True):
    self: Link | None = None
    next: Link | None = None
    previous: Link | None = None


class ErrorBody(msgspec.Struct, kw_only=True):
    """The Partner Center error body (ApiFault / ServiceFault)."""

    code: int
    description: str
    data: list[Any] = msgspec.field(default_factory=list)
    source: str = "PartnerFD"


class ThrottleBody(msgspec.Struct, rename="camel", kw_only=True):
    """The body of a 429 answer, which differs from every other error."""

    status_code: int
    message: str


def link(uri: str, method: str = "GET") -> Link:
    return Link(uri=uri, method=method, headers=[])
