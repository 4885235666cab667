"""uvicorn's HTTP/1.1 protocol with one change: a request that cannot be parsed as HTTP (a
control character in a header, a broken request line, a bad chunk size) is answered with the
Partner Center error body instead of uvicorn's plain-text ``Invalid HTTP request received.``

Such a request never reaches the app, so the gateway cannot answer it; the connection is
closed after the answer, as uvicorn does. ``serve`` hands :class:`PartnerCenterHttpTools` to
uvicorn as its ``http`` setting: the httptools protocol, which uvicorn itself picks when
httptools is installed (``uvicorn[standard]``, which the server extra asks for, brings it).
"""

from __future__ import annotations

import time
from email.utils import formatdate

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from partnercart.schema import codec
from partnercart.schema.common import ErrorBody
from partnercart.server.domain.errors import BadRequest
from partnercart.server.http.middleware import SERVER_ID

DESCRIPTION = (
    "The request is not valid HTTP/1.1: its request line, a header or the body's framing "
    "could not be parsed. Nothing was done."
)


def malformed_answer() -> bytes:
    """The whole answer, status line to body, to a request that is not valid HTTP/1.1."""
    body = codec.encode(ErrorBody(code=BadRequest.default_code, description=DESCRIPTION, data=[]))
    head = (
        "HTTP/1.1 400 Bad Request\r\n"
        "content-type: application/json; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n"
        f"date: {formatdate(time.time(), usegmt=True)}\r\n"
        f"ms-serverid: {SERVER_ID}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


class PartnerCenterHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering an unparsable request in the error body."""

    def send_400_response(self, msg: str) -> None:
        self.transport.write(malformed_answer())
        self.transport.close()
