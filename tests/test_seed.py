"""The bulk seeder: valid carts through the same use cases, readable through the API."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from partnercart.cli.main import main
from partnercart.schema import codec
from partnercart.schema.cart import Cart, CartStatus
from partnercart.server.domain.clock import ManualClock
from partnercart.server.http.app import create_app
from partnercart.server.runtime import Runtime, build_runtime
from partnercart.server.services.seed import seed
from partnercart.server.settings import Settings
from tests.conftest import Api


def test_seeded_carts_are_served_to_their_partner_only(
    tmp_path: Path, clock: ManualClock, database_url: str
) -> None:
    runtime = build_runtime(
        Settings(database=database_url, data_dir=tmp_path / "data"), clock=clock
    )
    partner = str(uuid.uuid4())
    batches: list[int] = []
    try:
        summary = seed(
            runtime.services,
            partner_id=partner,
            carts=23,
            customers=3,
            lines=4,
            batch=10,
            progress=batches.append,
        )
        assert (summary.carts, summary.customers) == (23, 3)
        assert batches == [10, 10, 3]
        with TestClient(create_app(runtime)) as client:
            api = Api(client, runtime, partner)
            listed = api.get("/v1/customers").json()
            assert listed["totalCount"] == 3
            customer_ids = {c["id"] for c in listed["items"]}
            with runtime.services.store.unit_of_work(write=False) as uow:
                rows = [
                    uow.carts.get(customer_id, cart_id)
                    for customer_id in customer_ids
                    for cart_id in _cart_ids(runtime, customer_id)
                ]
            assert len(rows) == 23
            first = rows[0]
            assert first is not None
            response = api.get(f"/v1/customers/{first.customer_id}/carts/{first.id}")
            assert response.status_code == 200, response.text
            cart = codec.decode_response(response.content, Cart)
            assert cart.status is CartStatus.ACTIVE
            assert len(cart.line_items) == 4
            assert all(line.order_group for line in cart.line_items)
            assert cart.expiration_timestamp is not None
            other = api.as_partner(str(uuid.uuid4()))
            denied = other.get(f"/v1/customers/{first.customer_id}/carts/{first.id}")
            assert denied.status_code == 403
    finally:
        runtime.close()


def _cart_ids(runtime: Runtime, customer_id: str) -> list[str]:
    url = runtime.settings.database_url()
    if url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute("SELECT id FROM carts WHERE customer_id = ?", (customer_id,))
            return [r[0] for r in rows]
    import psycopg

    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT id FROM carts WHERE customer_id = %s", (customer_id,))
        return [r[0] for r in found]


def test_seed_refuses_nonsense_counts(runtime: Runtime) -> None:
    with pytest.raises(ValueError):
        seed(runtime.services, partner_id=str(uuid.uuid4()), carts=-1)
    with pytest.raises(ValueError):
        seed(runtime.services, partner_id=str(uuid.uuid4()), carts=1, customers=0)


def test_db_seed_command(tmp_path: Path) -> None:
    partner = str(uuid.uuid4())
    data_dir = tmp_path / "d"
    result = CliRunner().invoke(
        main,
        [
            *("db", "seed", "--carts", "7", "--customers", "2"),
            *("--partner", partner.upper(), "--data-dir", str(data_dir)),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"seeded 7 carts over 2 customers for partner {partner}" in result.output
    runtime = build_runtime(Settings(data_dir=data_dir))
    try:
        with TestClient(create_app(runtime)) as client:
            api = Api(client, runtime, partner)
            assert api.get("/v1/customers").json()["totalCount"] == 2
    finally:
        runtime.close()


def test_db_seed_rejects_a_partner_that_is_not_a_guid(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["db", "seed", "--carts", "1", "--partner", "contoso", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "GUID" in result.output


def test_one_partner_can_be_seeded_twice(tmp_path: Path, clock: ManualClock) -> None:
    """Each seeding gives its customers domains of their own: a partner's customers may not
    share one, and the second run for a partner had repeated the first run's."""
    runtime = build_runtime(Settings(data_dir=tmp_path / "data"), clock=clock)
    partner = str(uuid.uuid4())
    try:
        for _ in range(2):
            seed(runtime.services, partner_id=partner, carts=1, customers=2)
        with runtime.services.store.unit_of_work(write=False) as uow:
            domains = {c.document().company_profile.domain for c in uow.customers.list(partner)}
        assert len(domains) == 4
    finally:
        runtime.close()
