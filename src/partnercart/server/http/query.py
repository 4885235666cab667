"""Query parameters, read the way ASP.NET's model binding reads them."""

from __future__ import annotations

from starlette.requests import Request


def query_param(request: Request, name: str) -> str | None:
    """The first value of a query parameter, its name matched case-insensitively
    (``targetview=`` and ``billingtype=`` work too)."""
    wanted = name.lower()
    for key, value in request.query_params.multi_items():
        if key.lower() == wanted:
            return value
    return None
