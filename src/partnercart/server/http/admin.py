"""The admin credential on the control routes: ``Authorization: Bearer <admin key>`` or
``X-Partnercart-Admin-Key: <admin key>``. A partner's token is never an admin credential."""

from __future__ import annotations

import hmac

from starlette.requests import Request

from partnercart.server.domain.errors import Forbidden, Unauthorized
from partnercart.server.runtime import Runtime

HEADER = "x-partnercart-admin-key"


def _looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and value.startswith("ey")


def require_admin(request: Request) -> None:
    """Pass when the request carries the admin key; 401 without a credential, 403 with a wrong
    one or with a partner token."""
    runtime: Runtime = request.app.state.runtime
    offered = request.headers.get(HEADER)
    if offered is None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            offered = value.strip()
    if not offered:
        raise Unauthorized(
            "The control routes need the admin key: send X-Partnercart-Admin-Key or "
            "Authorization: Bearer <admin key>.",
            code=800001,
        )
    if _looks_like_jwt(offered):
        raise Forbidden("A partner token cannot call the control routes; use the admin key.")
    expected = runtime.admin_key.encode()
    if not hmac.compare_digest(offered.strip().encode(), expected):
        raise Forbidden("The admin key is not valid.")
