"""The partnercart pytest plugin (entry point ``partnercart`` in ``pytest11``).

Fixtures:

``partnercart_server`` (session)
    A real partnercart server process on a free port with a temporary data directory and
    SQLite database. Under pytest-xdist all workers of a run share one server (coordinated
    with a file lock in the run's shared temporary directory); ``--partnercart-url URL`` uses
    a server you already run instead.
``partner_tenant`` (function)
    A fresh partner tenant id (a random GUID): nothing another test did is visible to it.
``partner_center`` (function)
    A ready :class:`~partnercart.client.PartnerCenter` signed in as ``partner_tenant``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from partnercart.client import PartnercartCredential, PartnerCenter
from partnercart.testing._server import RunningServer, ServerProcess, SharedServer

__all__ = ["partner_center", "partner_tenant", "partnercart_server"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("partnercart")
    group.addoption(
        "--partnercart-url",
        default=os.environ.get("PARTNERCART_TEST_URL"),
        help="Use this running partnercart server instead of starting one "
        "(env PARTNERCART_TEST_URL).",
    )
    group.addoption(
        "--partnercart-database",
        default=None,
        help="Database URL for the started server (default: SQLite in a temporary directory).",
    )


@pytest.fixture(scope="session")
def partnercart_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A running partnercart server for the whole session."""
    url = request.config.getoption("--partnercart-url", default=None)
    if url:
        yield RunningServer(str(url).rstrip("/"), Path("."), None)
        return
    database = request.config.getoption("--partnercart-database", default=None)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # getbasetemp() is <run>/popen-gwN for a worker: its parent belongs to this run only.
        shared = SharedServer(
            tmp_path_factory.getbasetemp().parent / "partnercart-server", database=database
        )
        server = shared.acquire()
        try:
            yield server
        finally:
            shared.release()
        return
    process = ServerProcess(tmp_path_factory.mktemp("partnercart-server"), database=database)
    try:
        yield process.start()
    finally:
        process.stop()


@pytest.fixture
def partner_tenant() -> str:
    """A new partner tenant (GUID) for this test alone."""
    return str(uuid.uuid4())


@pytest.fixture
def partner_center(
    partnercart_server: RunningServer, partner_tenant: str
) -> Iterator[PartnerCenter]:
    """A client signed in as this test's own partner tenant."""
    credential = PartnercartCredential(partnercart_server.url, partner_tenant)
    with PartnerCenter(partnercart_server.url, credential) as client:
        yield client
