"""The partnercart pytest plugin (entry point ``partnercart`` in ``pytest11``).

Fixtures:

``partnercart_server`` (session)
    A real partnercart server process on a free port with a temporary data directory and
    SQLite database. Under pytest-xdist all workers of a run share one server (coordinated
    with a file lock in the run's shared temporary directory); ``--partnercart-url URL`` uses
    a server you already run instead (``--partnercart-admin-key`` gives its admin key).
``partner_tenant`` (function)
    A fresh partner tenant id (a random GUID): nothing another test did is visible to it.
``partner_center`` (function)
    A ready :class:`~partnercart.client.PartnerCenter` signed in as ``partner_tenant``.
``partnercart_control`` (function)
    An :class:`httpx.Client` for the server's control plane: based at ``<url>/_partnercart``
    and sending the admin key (clocks, fault rules, the request log).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from partnercart.client import PartnercartCredential, PartnerCenter
from partnercart.testing._server import RunningServer, ServerProcess, SharedServer, _ping

__all__ = [
    "RunningServer",
    "partner_center",
    "partner_tenant",
    "partnercart_control",
    "partnercart_server",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("partnercart")
    group.addoption(
        "--partnercart-url",
        default=os.environ.get("PARTNERCART_TEST_URL"),
        help="Use this running partnercart server instead of starting one "
        "(env PARTNERCART_TEST_URL).",
    )
    group.addoption(
        "--partnercart-admin-key",
        default=os.environ.get("PARTNERCART_TEST_ADMIN_KEY"),
        help="The admin key of the server --partnercart-url names, for partnercart_control "
        "(env PARTNERCART_TEST_ADMIN_KEY).",
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
        url = str(url).rstrip("/")
        if not _ping(url):
            pytest.fail(
                f"no partnercart server answers at {url} (GET {url}/_partnercart/ping), "
                "the server --partnercart-url or PARTNERCART_TEST_URL names",
                pytrace=False,
            )
        key = request.config.getoption("--partnercart-admin-key", default=None)
        yield RunningServer(url, Path("."), None, str(key) if key else None)
        return
    database = request.config.getoption("--partnercart-database", default=None)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # getbasetemp() is <run>/popen-gwN for a worker: its parent belongs to this run only.
        shared = SharedServer(
            tmp_path_factory.getbasetemp().parent / "partnercart-server", database=database
        )
        try:
            server = shared.acquire()
        except RuntimeError as exc:
            raise _setup_failure(str(exc)) from None
        try:
            yield server
        finally:
            shared.release()
        return
    process = ServerProcess(tmp_path_factory.mktemp("partnercart-server"), database=database)
    try:
        try:
            started = process.start()
        except RuntimeError as exc:
            raise _setup_failure(str(exc)) from None
        yield started
    finally:
        process.stop()


def _setup_failure(message: str) -> BaseException:
    """The failure pytest shows as the message alone, without the plugin's traceback."""
    return pytest.fail.Exception(message, pytrace=False)


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


@pytest.fixture
def partnercart_control(partnercart_server: RunningServer) -> Iterator[httpx.Client]:
    """The server's control plane (``/_partnercart``), with the admin key."""
    if not partnercart_server.admin_key:
        pytest.fail(
            f"partnercart_control needs the admin key of {partnercart_server.url}: "
            "give --partnercart-admin-key or PARTNERCART_TEST_ADMIN_KEY",
            pytrace=False,
        )
    with httpx.Client(
        base_url=f"{partnercart_server.url}/_partnercart",
        headers={"X-Partnercart-Admin-Key": partnercart_server.admin_key},
        timeout=30,
    ) as client:
        yield client
