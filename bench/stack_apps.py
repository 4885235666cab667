"""The constant answers ``bench/servers.py`` serves: the least any route can cost on a server.

One 1 KB JSON body, the same bytes from each: a raw ASGI callable, a raw RSGI app (granian's own
interface) and a one-route Starlette app. Imported by the servers by name (``stack_apps:raw``).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = json.dumps({"id": "0" * 36, "lines": [{"n": n, "text": "x" * 40} for n in range(15)]})[
    :1000
].encode()
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
_RSGI_HEADERS = [("content-type", "application/json")]


async def raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Raw ASGI: the two messages of an answer, nothing else."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": BODY})


class _Rsgi:
    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        protocol.response_bytes(200, _RSGI_HEADERS, BODY)


rsgi = _Rsgi()


async def _fixed(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


starlette = Starlette(routes=[Route("/fixed", _fixed)])
