"""The control plane's credential: the admin key, never a partner token.

A control route calls :func:`require_admin` first. The key is sent as
``Authorization: Bearer <admin key>`` or as ``X-Partnercart-Admin-Key: <admin key>``; it comes
from the settings or from ``<data dir>/admin-key`` (made on first start, mode 0600).
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request

from partnercart.server.domain.errors import Unauthorized
from partnercart.server.http.parts import parts_of

ADMIN_HEADER = "x-partnercart-admin-key"


class AdminRequired(Unauthorized):
    realm = "partnercart-admin"


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).digest()


def _presented(request: Request) -> str | None:
    header = request.headers.get(ADMIN_HEADER)
    if header is not None:
        return header.strip()
    authorization = request.headers.get("authorization")
    if authorization is None:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise AdminRequired(
            "Access denied: control routes take the admin key as Authorization: Bearer <key> "
            f"or {ADMIN_HEADER}: <key>.",
            code=400,
        )
    return value.strip()


def require_admin(request: Request) -> None:
    """Return if the request carries the admin key; 401 otherwise (a partner token included)."""
    presented = _presented(request)
    if presented is None or not presented:
        raise AdminRequired(
            "Admin key missing: control routes need Authorization: Bearer <admin key> or "
            f"{ADMIN_HEADER}: <admin key> (the key is in <data dir>/admin-key).",
        )
    runtime = parts_of(request).runtime
    # Digests first, so the comparison takes the same time whatever the lengths.
    if hmac.compare_digest(_digest(presented), _digest(runtime.admin_key)):
        return
    if presented.count(".") == 2:
        raise AdminRequired(
            "Access denied: a partner token is not an admin credential; control routes need "
            "the admin key.",
            code=400,
        )
    raise AdminRequired("Access denied: the admin key is not valid.", code=400)
