"""The request log: the last :data:`KEEP` requests per partner, in the database so every server
process writes to and reads from the same log."""

from __future__ import annotations

from typing import Any

import msgspec

from partnercart.server.control.store import rows, run

KEEP = 1000
#: Bodies are kept up to this many characters.
BODY_LIMIT = 4096
#: Each process trims a partner's log once every this many writes.


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


_encoder = msgspec.json.Encoder()


def add(uow: Any, entry: LoggedRequest, *, at_micros: int, trim: bool) -> None:
    run(
        uow,
        "INSERT INTO control_requests (partner_id, at, body) VALUES (?, ?, ?)",
        (entry.partner_id, at_micros, _encoder.encode(entry)),
    )
    if trim:
        trim_log(uow, entry.partner_id)


def add_many(uow: Any, entries: list[tuple[LoggedRequest, int]]) -> None:
    """Insert a batch of entries (``(entry, at_micros)``) in one statement call."""
    uow.cursor.executemany(
        uow.dialect.sql("INSERT INTO control_requests (partner_id, at, body) VALUES (?, ?, ?)"),
        [(entry.partner_id, at, _encoder.encode(entry)) for entry, at in entries],
    )


def trim_log(uow: Any, partner_id: str | None) -> None:
    """Keep the newest ``KEEP`` entries of one partner (or of requests with no partner)."""
    params: tuple[str, ...] = ()
    if partner_id is None:
        where = "partner_id IS NULL"
    else:
        where, params = "partner_id = ?", (partner_id,)
    run(
        uow,
        f"DELETE FROM control_requests WHERE {where} AND id <= (SELECT id FROM "
        f"control_requests WHERE {where} ORDER BY id DESC LIMIT 1 OFFSET {KEEP})",
        params * 2,
    )


def recent(uow: Any, *, partner_id: str | None, limit: int) -> list[LoggedRequest]:
    """Newest first; ``partner_id`` ``None`` lists every partner's requests."""
    if partner_id is None:
        found = rows(
            uow, f"SELECT id, body FROM control_requests ORDER BY id DESC LIMIT {int(limit)}"
        )
    else:
        found = rows(
            uow,
            "SELECT id, body FROM control_requests WHERE partner_id = ? "
            f"ORDER BY id DESC LIMIT {int(limit)}",
            (partner_id,),
        )
    out = []
    for row in found:
        entry = msgspec.json.decode(bytes(row[1]), type=LoggedRequest)
        out.append(msgspec.structs.replace(entry, id=int(row[0])))
    return out
