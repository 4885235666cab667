"""The request log: the last :data:`KEEP` requests per partner, in the database so every server
process writes to and reads from the same log."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import msgspec

from partnercart.server.control.store import from_micros, rows, run

KEEP = 1000
#: Bodies are kept up to this many characters.
BODY_LIMIT = 4096


class LoggedRequest(msgspec.Struct, rename="camel", kw_only=True):
    id: int = 0
    partner_id: str | None
    at: str
    method: str
    path: str
    route: str | None
    query: str
    status: int | None
    duration_ms: float
    request_id: str | None
    correlation_id: str | None
    request_headers: dict[str, str]
    request_body: str
    response_headers: dict[str, str]
    response_body: str
    fault: str | None = None
    fault_action: str | None = None
    replayed: bool = False
    dropped: bool = False


class StoredRequest(msgspec.Struct, array_like=True, kw_only=True, gc=False):
    """A request as it is stored: the parts as the server saw them, as bytes, in MessagePack.

    Turning header lists and bodies into text, and the whole into JSON, is left to the reader
    (:func:`recent`): the log is written on every request and read by a person now and then.
    A row is packed as its request ends with the headers as they came; credentials are redacted
    and long values cut as the row goes into the table (:func:`add_many`, the one way in), so
    nothing secret reaches the database, and only for the rows that are written.
    Not tracked by the garbage collector (``gc=False``): it holds bytes, strings and lists of
    byte pairs, never a cycle.
    """

    method: str
    path: str
    route: str | None
    query: bytes
    status: int | None
    duration_ms: float
    request_id: str | None
    correlation_id: str | None
    request_headers: list[tuple[bytes, bytes]]
    request_body: bytes
    request_size: int
    response_headers: list[tuple[bytes, bytes]]
    response_body: bytes
    response_size: int
    fault: str | None = None
    fault_action: str | None = None
    replayed: bool = False
    dropped: bool = False


#: Header values kept up to this many bytes; these are never kept at all.
HEADER_LIMIT = 1024
REDACTED_HEADERS = frozenset(
    {b"authorization", b"x-partnercart-admin-key", b"cookie", b"set-cookie"}
)
_REDACTED = b"<redacted>"
_json = msgspec.json.Encoder()
_packer = msgspec.msgpack.Encoder()
_unpacker = msgspec.msgpack.Decoder(StoredRequest)


def stored_headers(raw: Any) -> list[tuple[bytes, bytes]]:
    """ASGI header pairs (names already in lower case, as ASGI servers and Starlette give them)
    as they are stored: credentials redacted, values cut at :data:`HEADER_LIMIT` bytes."""
    return [
        (key, _REDACTED if key in REDACTED_HEADERS else value[:HEADER_LIMIT]) for key, value in raw
    ]


def pack(request: StoredRequest) -> bytes:
    return _packer.encode(request)


#: The token endpoint (``/{tenant}/oauth2/v2.0/token``, ``/{tenant}/oauth2/token``): its
#: requests carry client secrets and its answers bearer tokens.
_TOKEN_PATH = re.compile(r"/oauth2/(?:v2\.0/)?token/?$", re.IGNORECASE)
#: Form fields of a token request that are credentials.
SECRET_FIELDS = frozenset(
    {"client_secret", "client_assertion", "assertion", "password", "refresh_token", "code"}
)
#: Members of a token answer that are credentials.
TOKEN_FIELDS = frozenset({"access_token", "refresh_token", "id_token"})
_REDACTED_TEXT = "<redacted>"


def _form_redacted(body: bytes) -> bytes:
    """A token request's form with its credentials' values replaced (the rest, such as
    ``grant_type`` and ``scope``, kept for whoever reads the log)."""
    try:
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return _REDACTED
    kept = [(k, _REDACTED_TEXT if k.lower() in SECRET_FIELDS else v) for k, v in pairs]
    return urllib.parse.urlencode(kept).encode()


def _answer_redacted(body: bytes) -> bytes:
    """A token answer with its tokens replaced; an error answer is kept as it is."""
    if not body:
        return body
    try:
        document = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return _REDACTED
    if not isinstance(document, dict):
        return _REDACTED
    return _json.encode(
        {k: _REDACTED_TEXT if k.lower() in TOKEN_FIELDS else v for k, v in document.items()}
    )


def redacted(packed: bytes) -> bytes:
    """A packed request as it is stored: its header lists through :func:`stored_headers`, and
    for the token endpoint the credentials in its bodies replaced."""
    request = _unpacker.decode(packed)
    request.request_headers = stored_headers(request.request_headers)
    request.response_headers = stored_headers(request.response_headers)
    if _TOKEN_PATH.search(request.path):
        request.request_body = _form_redacted(request.request_body)
        request.response_body = _answer_redacted(request.response_body)
    return _packer.encode(request)


def add_many(uow: Any, rows_: list[tuple[str | None, int, bytes]]) -> None:
    """Insert a batch of ``(partner_id, at_micros, packed StoredRequest)`` in one call, each
    redacted on the way (:func:`redacted`)."""
    uow.cursor.executemany(
        uow.dialect.sql("INSERT INTO control_requests (partner_id, at, body) VALUES (?, ?, ?)"),
        [(partner, at, redacted(body)) for partner, at, body in rows_],
    )


def _headers(pairs: list[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs:
        name = key.decode("latin-1")
        text = value.decode("latin-1")
        out[name] = f"{out[name]}, {text}" if name in out else text
    return out


def _text(data: bytes, size: int) -> str:
    text = data[:BODY_LIMIT].decode("utf-8", errors="replace")
    if size > BODY_LIMIT:
        text += f"... ({size} bytes)"
    return text


def _entry(row_id: int, partner_id: str | None, at_micros: int, body: bytes) -> LoggedRequest:
    if body[:1] == b"{":  # written as JSON by an earlier version
        entry = msgspec.json.decode(body, type=LoggedRequest)
        return msgspec.structs.replace(entry, id=row_id)
    raw = _unpacker.decode(body)
    at = from_micros(at_micros).isoformat().replace("+00:00", "Z")
    return LoggedRequest(
        id=row_id,
        partner_id=partner_id,
        at=at,
        method=raw.method,
        path=raw.path,
        route=raw.route,
        query=raw.query.decode("latin-1")[:HEADER_LIMIT],
        status=raw.status,
        duration_ms=raw.duration_ms,
        request_id=raw.request_id,
        correlation_id=raw.correlation_id,
        request_headers=_headers(raw.request_headers),
        request_body=_text(raw.request_body, raw.request_size),
        response_headers=_headers(raw.response_headers),
        response_body=_text(raw.response_body, raw.response_size),
        fault=raw.fault,
        fault_action=raw.fault_action,
        replayed=raw.replayed,
        dropped=raw.dropped,
    )


#: The ``control_versions`` row a reader of the log bumps, so every process writes its entries
#: promptly while somebody reads (``http/requestlog.py: LogBuffer``).
READERS = "request_log_readers"


def bump_readers(uow: Any) -> None:
    run(
        uow,
        "INSERT INTO control_versions (name, version) VALUES (?, 1) "
        "ON CONFLICT (name) DO UPDATE SET version = control_versions.version + 1",
        (READERS,),
    )


def readers_version(uow: Any) -> int:
    found = rows(uow, "SELECT version FROM control_versions WHERE name = ?", (READERS,))
    return int(found[0][0]) if found else 0


def trim_log(uow: Any, partner_id: str | None, *, at_most: int | None = None) -> int:
    """Keep the newest ``KEEP`` entries of one partner (or of requests with no partner); with
    ``at_most``, delete no more than that many of the oldest surplus rows. Returns how many rows
    went."""
    params: tuple[str, ...] = ()
    if partner_id is None:
        where = "partner_id IS NULL"
    else:
        where, params = "partner_id = ?", (partner_id,)
    surplus = (
        f"SELECT id FROM control_requests WHERE {where} ORDER BY id DESC LIMIT 1 OFFSET {KEEP}"
    )
    if at_most is None:
        sql = f"DELETE FROM control_requests WHERE {where} AND id <= ({surplus})"
    else:
        sql = (
            f"DELETE FROM control_requests WHERE id IN (SELECT id FROM control_requests "
            f"WHERE {where} AND id <= ({surplus}) ORDER BY id LIMIT {int(at_most)})"
        )
    return int(run(uow, sql, params * 2).rowcount)


def recent(uow: Any, *, partner_id: str | None, limit: int) -> list[LoggedRequest]:
    """Newest first; ``partner_id`` ``None`` lists every partner's requests."""
    if partner_id is None:
        found = rows(
            uow,
            "SELECT id, partner_id, at, body FROM control_requests "
            f"ORDER BY id DESC LIMIT {int(limit)}",
        )
    else:
        found = rows(
            uow,
            "SELECT id, partner_id, at, body FROM control_requests WHERE partner_id = ? "
            f"ORDER BY id DESC LIMIT {int(limit)}",
            (partner_id,),
        )
    return [_entry(int(row[0]), row[1], int(row[2]), bytes(row[3])) for row in found]
