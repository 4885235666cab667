"""The client against a real partnercart server process (no mocks on the happy path), against
the in-process app, and with faults injected between the client and the real server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from partnercart.client import (
    AsyncPartnerCenter,
    Attempt,
    BadRequestError,
    Cart,
    CartLineItem,
    NotFoundError,
    PartnercartCredential,
    PartnerCenter,
    RetryPolicy,
    UnauthorizedError,
)
from partnercart.schema.cart import CartStatus
from partnercart.server.identity.keys import read_admin_key
from partnercart.testing._server import RunningServer
from partnercart.testing.factories import DEFAULT_CATALOG_ITEM, sample_cart, sample_customer
from tests.client.fakes import Sleeps


def test_customers_create_get_and_list(partner_center: PartnerCenter) -> None:
    created = partner_center.customers.create(sample_customer(country="GB"))
    assert created.id and uuid.UUID(created.id)
    fetched = partner_center.customers.by_id(created.id).get()
    assert fetched.company_profile.domain == created.company_profile.domain
    assert fetched.billing_profile.default_address.country == "GB"
    second = partner_center.customers.create(sample_customer())
    listed = {c.id for c in partner_center.customers.list()}
    assert listed == {created.id, second.id}


def test_each_test_gets_its_own_partner(partner_center: PartnerCenter) -> None:
    # Fixtures hand every test a fresh tenant: the customers of other tests are invisible.
    assert partner_center.customers.list().to_list() == []


def test_cart_create_get_put(partner_center: PartnerCenter) -> None:
    customer = partner_center.customers.create(sample_customer())
    assert customer.id is not None
    carts = partner_center.customers.by_id(customer.id).carts
    cart = carts.create(sample_cart(quantity=2))
    assert cart.id is not None and cart.status is CartStatus.ACTIVE
    assert cart.line_items[0].currency_code == "USD"
    assert cart.line_items[0].order_group == "0"

    cart.line_items[0].quantity = 7
    cart.line_items.append(
        CartLineItem(id=1, catalog_item_id=DEFAULT_CATALOG_ITEM, quantity=1, term_duration="P1Y")
    )
    updated = carts.by_id(cart.id).put(cart)
    assert [li.quantity for li in updated.line_items] == [7, 1]
    again = carts.by_id(cart.id).get()
    assert [li.quantity for li in again.line_items] == [7, 1]
    assert again.expiration_timestamp == cart.expiration_timestamp


def test_not_found_is_typed_and_carries_the_ids(partner_center: PartnerCenter) -> None:
    customer = partner_center.customers.create(sample_customer())
    assert customer.id is not None
    missing = str(uuid.uuid4())
    with pytest.raises(NotFoundError) as caught:
        partner_center.customers.by_id(customer.id).carts.by_id(missing).get()
    error = caught.value
    assert error.status == 404 and error.code == 800008
    assert missing in error.description
    assert error.request_id and error.correlation_id
    assert error.request_id != error.correlation_id


def test_bad_input_is_a_400_and_is_not_retried(
    partnercart_server: RunningServer, partner_tenant: str
) -> None:
    attempts: list[Attempt] = []
    credential = PartnercartCredential(partnercart_server.url, partner_tenant)
    with PartnerCenter(partnercart_server.url, credential, on_attempt=attempts.append) as pc:
        customer = pc.customers.create(sample_customer())
        assert customer.id is not None
        attempts.clear()
        bad = Cart(line_items=[CartLineItem(catalog_item_id="x", quantity=-1)])
        with pytest.raises(BadRequestError) as caught:
            pc.customers.by_id(customer.id).carts.create(bad)
    assert len(attempts) == 1 and attempts[0].status == 400
    assert "quantity" in caught.value.description.lower() or caught.value.data


def test_a_bad_token_is_unauthorized_and_not_retried(partnercart_server: RunningServer) -> None:
    attempts: list[Attempt] = []
    pc = PartnerCenter(partnercart_server.url, "not-a-jwt", on_attempt=attempts.append)
    with pc, pytest.raises(UnauthorizedError) as caught:
        pc.customers.list().to_list()
    assert caught.value.status == 401
    assert len(attempts) == 1


def test_the_async_client_against_the_server(
    partnercart_server: RunningServer, partner_tenant: str
) -> None:
    credential = PartnercartCredential(partnercart_server.url, partner_tenant)

    async def main() -> tuple[list[str | None], int]:
        async with AsyncPartnerCenter(partnercart_server.url, credential) as pc:
            customer = await pc.customers.create(sample_customer())
            assert customer.id is not None
            carts = pc.customers.by_id(customer.id).carts
            made = await asyncio.gather(*(carts.create(sample_cart(quantity=n)) for n in (1, 2)))
            assert made[1].id is not None
            fetched = await carts.by_id(made[1].id).get()
            ids = [c.id async for c in pc.customers.list()]
            return ids, fetched.line_items[0].quantity

    ids, quantity = asyncio.run(main())
    assert len(ids) == 1 and quantity == 2


class DropFirstPutResponse(httpx.BaseTransport):
    """Forwards to the real server; the first PUT reaches the server and is processed, but its
    answer is lost on the way back (as when a connection drops after the write)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.put_request_ids: list[str] = []
        self.dropped = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "PUT":
            self.put_request_ids.append(request.headers["MS-RequestId"])
            if not self.dropped:
                self.dropped = True
                response.read()
                response.close()
                raise httpx.ReadError("connection reset after the request was processed")
        return response

    def close(self) -> None:
        self.inner.close()


def test_a_put_whose_answer_is_lost_is_retried_with_the_same_request_id(
    partnercart_server: RunningServer, partner_tenant: str
) -> None:
    transport = DropFirstPutResponse()
    sleeps = Sleeps()
    credential = PartnercartCredential(partnercart_server.url, partner_tenant)
    with PartnerCenter(partnercart_server.url, credential, transport=transport, sleep=sleeps) as pc:
        customer = pc.customers.create(sample_customer())
        assert customer.id is not None
        carts = pc.customers.by_id(customer.id).carts
        cart = carts.create(sample_cart(quantity=1))
        assert cart.id is not None
        cart.line_items[0].quantity = 5
        updated = carts.by_id(cart.id).put(cart)
        final = carts.by_id(cart.id).get()
    assert transport.dropped
    assert len(transport.put_request_ids) == 2
    assert transport.put_request_ids[0] == transport.put_request_ids[1]
    assert len(sleeps.delays) == 1
    # one change: the cart holds exactly the PUT's lines, once
    assert [li.quantity for li in updated.line_items] == [5]
    assert [li.quantity for li in final.line_items] == [5]
    assert final.last_modified_timestamp == updated.last_modified_timestamp


def test_a_refused_connection_is_retried_then_a_transport_error() -> None:
    from partnercart.client import TransportError
    from partnercart.testing._server import free_port

    sleeps = Sleeps()
    url = f"http://127.0.0.1:{free_port()}"
    pc = PartnerCenter(url, "t", sleep=sleeps, retry=RetryPolicy(max_attempts=3))
    with pc, pytest.raises(TransportError):
        pc.customers.list().to_list()
    assert len(sleeps.delays) == 2


class InProcessTransport(httpx.BaseTransport):
    """Runs requests through Starlette's TestClient: the app in this process, no socket."""

    def __init__(self, test_client: Any) -> None:
        self.test_client = test_client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.test_client.request(
            request.method,
            str(request.url),
            headers=dict(request.headers),
            content=request.read(),
        )
        return httpx.Response(
            answer.status_code, headers=list(answer.headers.items()), content=answer.content
        )


@pytest.fixture
def in_process(api: Any) -> Iterator[PartnerCenter]:
    """The sync client over the in-process ASGI app, signed with a token from the app's own
    issuer (the root conftest's ``api`` fixture)."""
    transport = InProcessTransport(api.client)
    with PartnerCenter("http://testserver", api.token, transport=transport) as pc:
        yield pc


def test_the_client_against_the_in_process_app(in_process: PartnerCenter) -> None:
    customer = in_process.customers.create(sample_customer())
    assert customer.id is not None
    cart = in_process.customers.by_id(customer.id).carts.create(sample_cart(quantity=3))
    assert cart.id is not None
    got = in_process.customers.by_id(customer.id).carts.by_id(cart.id).get()
    assert got.line_items[0].quantity == 3
    assert [c.id for c in in_process.customers.list()] == [customer.id]


def test_the_async_client_against_the_in_process_app(api: Any) -> None:
    app = api.client.app
    token = api.token

    async def main() -> int:
        transport = httpx.ASGITransport(app=app)
        async with AsyncPartnerCenter("http://testserver", token, transport=transport) as pc:
            customer = await pc.customers.create(sample_customer())
            assert customer.id is not None
            cart = await pc.customers.by_id(customer.id).carts.create(sample_cart(quantity=4))
            assert cart.id is not None
            got = await pc.customers.by_id(customer.id).carts.by_id(cart.id).get()
            return got.line_items[0].quantity

    assert asyncio.run(main()) == 4


def test_the_plugin_server_keeps_its_throwaway_sqlite_file_without_fsync(
    partnercart_server: RunningServer, request: pytest.FixtureRequest
) -> None:
    if request.config.getoption("--partnercart-url", default=None):
        pytest.skip("a server started elsewhere keeps its own setting")
    key = read_admin_key(partnercart_server.data_dir)
    assert key
    info = httpx.get(
        f"{partnercart_server.url}/_partnercart/info",
        headers={"X-Partnercart-Admin-Key": key},
        timeout=30,
    )
    assert info.status_code == 200
    on_sqlite = request.config.getoption("--partnercart-database", default=None) is None
    assert info.json()["sqliteSync"] == ("off" if on_sqlite else None)
