"""``MS-RequestId`` idempotency: what a stored answer is, how a request is fingerprinted, and the
two errors a reused id can get. Storage and transactions live elsewhere; this is pure."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from partnercart.server.domain.errors import ApiError, Conflict

#: How long a stored answer is replayed, on the server's clock (``services.clock``).
REPLAY_WINDOW = dt.timedelta(hours=24)

#: The response header that marks an answer replayed from storage.
REPLAY_HEADER = "MS-Idempotent-Replay"

#: Methods whose answers are stored when the caller sends ``MS-RequestId``.
IDEMPOTENT_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestIdReused(ApiError):
    """The id was already used by this partner for a different request (method, route, media
    type or body): 422, and nothing changes."""

    status = 422
    default_code = 800002


class RequestInProgress(Conflict):
    """The first request with this id is still running (observable only across processes on
    PostgreSQL): 409, and nothing changes; retrying later gets the stored answer."""

    default_code = 800064


def fingerprint(*, method: str, path: str, media_type: str, body: bytes) -> str:
    """What makes two requests "the same": method, normalised path, body media type and the
    SHA-256 of the body bytes. The path is lower-cased because ids in it are case-insensitive."""
    digest = hashlib.sha256(body).hexdigest()
    text = f"{method.upper()}\n{path.lower()}\n{media_type.lower()}\n{digest}"
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first answer to ``(partner_id, request_id)``, kept until ``expires_at``."""

    partner_id: str
    request_id: str
    fingerprint: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    created_at: dt.datetime
    expires_at: dt.datetime

    def live(self, now: dt.datetime) -> bool:
        return now < self.expires_at
