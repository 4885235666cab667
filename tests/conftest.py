"""Shared fixtures: real SQLite and PostgreSQL databases, an app on a manual clock, tokens."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from starlette.testclient import TestClient

from partnercart.server.domain.clock import ManualClock
from partnercart.server.http.app import create_app
from partnercart.server.runtime import Runtime, build_runtime
from partnercart.server.settings import Settings

# Server and CLI subprocesses run the source tree under test, not whatever is installed.
_SRC = str(Path(__file__).resolve().parent.parent / "src")
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_SRC, os.environ.get("PYTHONPATH", "")) if p)

PG_ADMIN = os.environ.get("PARTNERCART_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
START = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)


def _pg_database() -> Iterator[str]:
    name = f"pc_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    yield from _pg_database()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on a real SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'partnercart.db'}"
    else:
        yield from _pg_database()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


class Api:
    """A test client that knows a partner and signs its requests."""

    def __init__(self, client: TestClient, runtime: Runtime, partner_id: str) -> None:
        self.client = client
        self.runtime = runtime
        self.partner_id = partner_id
        self.token = self.token_for(partner_id)

    def token_for(self, partner_id: str, **kwargs: Any) -> str:
        assert self.runtime.issuer is not None
        return self.runtime.issuer.issue(
            tenant_id=partner_id,
            client_id="11111111-2222-3333-4444-555555555555",
            now=dt.datetime.now(dt.UTC),
            **kwargs,
        )

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        kwargs["headers"] = self.headers(kwargs.get("headers"))
        return self.client.request(method, path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def new_customer(self, country: str = "US", domain: str | None = None) -> str:
        response = self.post("/v1/customers", json=customer_body(country, domain))
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def as_partner(self, partner_id: str) -> Api:
        return Api(self.client, self.runtime, partner_id)


def customer_body(country: str = "US", domain: str | None = None) -> dict[str, Any]:
    return {
        "companyProfile": {"domain": domain or f"c{uuid.uuid4().hex[:10]}.onmicrosoft.com"},
        "billingProfile": {
            "email": "admin@contoso.example",
            "culture": "en-US",
            "language": "en",
            "companyName": "Contoso",
            "defaultAddress": {
                "country": country,
                "city": "Redmond",
                "state": "WA",
                "addressLine1": "One Microsoft Way",
                "postalCode": "98052",
                "firstName": "Ada",
                "lastName": "Lovelace",
                "phoneNumber": "4255550100",
            },
        },
    }


def make_runtime(tmp_path: Path, clock: ManualClock, database: str | None = None) -> Runtime:
    settings = Settings(database=database, data_dir=tmp_path / "data")
    return build_runtime(settings, clock=clock)


@pytest.fixture
def runtime(tmp_path: Path, clock: ManualClock) -> Iterator[Runtime]:
    rt = make_runtime(tmp_path, clock)
    yield rt
    rt.close()


@pytest.fixture
def api(runtime: Runtime) -> Iterator[Api]:
    with TestClient(create_app(runtime)) as client:
        yield Api(client, runtime, str(uuid.uuid4()))


def _api_over(tmp_path: Path, clock: ManualClock, database: str) -> Iterator[Api]:
    rt = make_runtime(tmp_path, clock, database)
    try:
        with TestClient(create_app(rt)) as client:
            yield Api(client, rt, str(uuid.uuid4()))
    finally:
        rt.close()


@pytest.fixture
def db_api(tmp_path: Path, clock: ManualClock, database_url: str) -> Iterator[Api]:
    """An API client over each real database."""
    yield from _api_over(tmp_path, clock, database_url)


@pytest.fixture
def pg_api(tmp_path: Path, clock: ManualClock, pg_url: str) -> Iterator[Api]:
    """An API client over PostgreSQL only."""
    yield from _api_over(tmp_path, clock, pg_url)
