"""MS-RequestId idempotency of POST and PUT, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
import pytest

from partnercart.server.domain.clock import ManualClock
from partnercart.server.domain.idempotency import REPLAY_HEADER, fingerprint
from partnercart.server.storage import DatabaseUrl, migrate
from partnercart.server.storage.idempotency import advisory_key
from tests.conftest import Api, customer_body
from tests.dbcount import count, query

LINE = {"catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS", "quantity": 1, "billingCycle": "monthly"}


def cart_body(quantity: int = 1) -> dict[str, Any]:
    return {"lineItems": [dict(LINE, quantity=quantity)]}


def rid() -> dict[str, str]:
    return {"MS-RequestId": str(uuid.uuid4())}


def post_cart(api: Api, customer: str, headers: dict[str, str], quantity: int = 1) -> Any:
    return api.post(
        f"/v1/customers/{customer}/carts", json=cart_body(quantity), headers=dict(headers)
    )


def test_replay_is_byte_identical_and_runs_once(db_api: Api) -> None:
    customer = db_api.new_customer()
    key = rid()
    first = post_cart(db_api, customer, key)
    assert first.status_code == 201, first.text
    assert REPLAY_HEADER not in first.headers
    again = post_cart(db_api, customer, key)
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers[REPLAY_HEADER] == "true"
    assert again.headers["MS-RequestId"] == key["MS-RequestId"]
    assert again.headers["content-type"] == first.headers["content-type"]
    assert count(db_api.runtime, "carts") == 1
    assert count(db_api.runtime, "idempotency_keys") == 1


def test_customer_creation_replays(db_api: Api) -> None:
    key = rid()
    body = customer_body()
    first = db_api.post("/v1/customers", json=body, headers=key)
    again = db_api.post("/v1/customers", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert count(db_api.runtime, "customers") == 1


def test_put_replay_does_not_bump_the_cart(db_api: Api, clock: ManualClock) -> None:
    customer = db_api.new_customer()
    cart = post_cart(db_api, customer, {}).json()
    key = rid()
    path = f"/v1/customers/{customer}/carts/{cart['id']}"
    first = db_api.put(path, json=cart_body(3), headers=key)
    assert first.status_code == 201, first.text
    clock.advance(dt.timedelta(minutes=5))  # a second run would stamp a new lastModified
    again = db_api.put(path, json=cart_body(3), headers=key)
    assert again.content == first.content
    assert again.headers[REPLAY_HEADER] == "true"
    versions = query(db_api.runtime, "SELECT version FROM carts WHERE id = ?", (cart["id"],))
    assert versions == [(2,)]
    assert db_api.get(path).content == first.content


def test_same_id_for_another_request_is_422_and_changes_nothing(db_api: Api) -> None:
    customer = db_api.new_customer()
    key = rid()
    first = post_cart(db_api, customer, key)
    cart_id = first.json()["id"]
    other_body = post_cart(db_api, customer, key, quantity=2)
    other_route = db_api.put(
        f"/v1/customers/{customer}/carts/{cart_id}", json=cart_body(), headers=key
    )
    other_type = db_api.post(
        f"/v1/customers/{customer}/carts",
        content=first.request.content,
        headers={**key, "Content-Type": "text/json"},
    )
    for answer in (other_body, other_route, other_type):
        assert answer.status_code == 422, answer.text
        error = answer.json()
        assert error["code"] == 800002
        assert key["MS-RequestId"] in error["description"]
        assert error["data"] == ["MS-RequestId"]
        assert REPLAY_HEADER not in answer.headers
    assert count(db_api.runtime, "carts") == 1
    versions = query(db_api.runtime, "SELECT version FROM carts WHERE id = ?", (cart_id,))
    assert versions == [(1,)]
    # The first request can still be retried and replayed.
    assert post_cart(db_api, customer, key).content == first.content


def test_equivalent_spellings_of_one_request_replay(db_api: Api) -> None:
    """No Content-Type is read as JSON, and the path's /v1.0 and trailing slash normalise."""
    customer = db_api.new_customer()
    key = rid()
    first = post_cart(db_api, customer, key)
    again = db_api.post(
        f"/v1.0/customers/{customer.upper()}/carts/",
        content=first.request.content,
        headers={**key, "Content-Type": "application/json; charset=utf-8"},
    )
    assert again.status_code == 201, again.text
    assert again.content == first.content
    assert count(db_api.runtime, "carts") == 1


def test_answers_expire_after_24_hours_on_the_clock(db_api: Api, clock: ManualClock) -> None:
    customer = db_api.new_customer()
    key = rid()
    first = post_cart(db_api, customer, key)
    clock.advance(dt.timedelta(hours=24) - dt.timedelta(seconds=1))
    assert post_cart(db_api, customer, key).headers.get(REPLAY_HEADER) == "true"
    assert count(db_api.runtime, "carts") == 1
    clock.advance(dt.timedelta(seconds=1))
    fresh = post_cart(db_api, customer, key)
    assert fresh.status_code == 201
    assert REPLAY_HEADER not in fresh.headers
    assert fresh.json()["id"] != first.json()["id"]
    assert count(db_api.runtime, "carts") == 2
    # The new answer is the one replayed from now on.
    assert post_cart(db_api, customer, key).content == fresh.content
    assert count(db_api.runtime, "carts") == 2


def test_expired_answers_are_swept(db_api: Api, clock: ManualClock) -> None:
    customer = db_api.new_customer()
    post_cart(db_api, customer, rid())
    post_cart(db_api, customer, rid())
    assert count(db_api.runtime, "idempotency_keys") == 2
    clock.advance(dt.timedelta(hours=25))
    post_cart(db_api, customer, rid())
    assert count(db_api.runtime, "idempotency_keys") == 1


def test_ids_are_scoped_per_partner(db_api: Api) -> None:
    key = rid()
    customer_a = db_api.new_customer()
    first = post_cart(db_api, customer_a, key)
    partner_b = db_api.as_partner(str(uuid.uuid4()))
    customer_b = partner_b.new_customer()
    other = post_cart(partner_b, customer_b, key, quantity=2)
    assert other.status_code == 201, other.text
    assert REPLAY_HEADER not in other.headers
    assert other.json()["id"] != first.json()["id"]
    assert count(db_api.runtime, "carts") == 2
    # B replays its own answer, never A's.
    assert post_cart(partner_b, customer_b, key, quantity=2).content == other.content


def test_without_request_id_nothing_is_deduplicated(db_api: Api) -> None:
    customer = db_api.new_customer()
    one = post_cart(db_api, customer, {})
    two = post_cart(db_api, customer, {})
    assert one.status_code == two.status_code == 201
    assert one.headers["MS-RequestId"] != two.headers["MS-RequestId"]
    assert one.json()["id"] != two.json()["id"]
    assert count(db_api.runtime, "carts") == 2
    assert count(db_api.runtime, "idempotency_keys") == 0


def test_failed_requests_are_not_stored(db_api: Api) -> None:
    """An error rolls everything back, the key included: the id stays free."""
    customer = db_api.new_customer()
    key = rid()
    refused = post_cart(db_api, str(uuid.uuid4()), key)  # no relationship: 403
    assert refused.status_code == 403
    bad = db_api.post(f"/v1/customers/{customer}/carts", content=b"{", headers=key)
    assert bad.status_code == 400
    assert count(db_api.runtime, "idempotency_keys") == 0
    done = post_cart(db_api, customer, key)
    assert done.status_code == 201
    assert REPLAY_HEADER not in done.headers
    assert count(db_api.runtime, "carts") == 1


def test_reads_ignore_request_ids(db_api: Api) -> None:
    customer = db_api.new_customer()
    key = rid()
    assert db_api.get(f"/v1/customers/{customer}", headers=key).status_code == 200
    assert db_api.get("/v1/customers", headers=key).status_code == 200
    assert count(db_api.runtime, "idempotency_keys") == 0
    assert post_cart(db_api, customer, key).status_code == 201


def test_fingerprint_covers_method_path_type_and_body() -> None:
    base = {"method": "POST", "path": "/v1/customers", "media_type": "application/json"}
    one = fingerprint(**base, body=b"{}")
    assert one == fingerprint(**{**base, "path": "/V1/Customers"}, body=b"{}")
    assert one != fingerprint(**base, body=b"{ }")
    assert one != fingerprint(**{**base, "method": "PUT"}, body=b"{}")
    assert one != fingerprint(**{**base, "path": "/v1/customers/x"}, body=b"{}")
    assert one != fingerprint(**{**base, "media_type": "text/json"}, body=b"{}")


@pytest.mark.postgres
def test_same_id_while_the_first_runs_is_409(pg_api: Api, pg_url: str) -> None:
    """Another transaction holding the key (as a request still running in another process
    does) makes a retry answer 409 at once; nothing is written, and later it runs."""
    customer = pg_api.new_customer()
    key = rid()
    with psycopg.connect(pg_url) as other:
        held = other.execute(
            "SELECT pg_try_advisory_xact_lock(%s)",
            (advisory_key(pg_api.partner_id, key["MS-RequestId"]),),
        ).fetchone()
        assert held == (True,)
        busy = post_cart(pg_api, customer, key)
        assert busy.status_code == 409, busy.text
        assert busy.json()["code"] == 800064
        assert count(pg_api.runtime, "carts") == 0
        # Another id of the same partner is not held up.
        assert post_cart(pg_api, customer, rid()).status_code == 201
        other.rollback()
    done = post_cart(pg_api, customer, key)
    assert done.status_code == 201
    assert REPLAY_HEADER not in done.headers
    assert count(pg_api.runtime, "carts") == 2


def test_migration_up_down_up(database_url: str) -> None:
    url = DatabaseUrl.parse(database_url)
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()
    migrate.downgrade(url, "0001")
    assert migrate.current(url) == "0001"
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()


@pytest.mark.parametrize("change", ["set-back", "advanced"])
def test_a_partners_virtual_clock_does_not_move_the_replay_window(
    db_api: Api, clock: ManualClock, change: str
) -> None:
    """The window runs on the server's clock, as the sweep does: with the answer dated on a
    partner clock set back, the next sweep deleted it at once and a retry created a second
    cart; moved on, a retry a day later on that clock ran again."""
    from tests.control_helpers import Admin

    admin = Admin(db_api)
    path = f"/partners/{db_api.partner_id}/clock"
    if change == "set-back":
        admin.ok("PUT", path, json={"now": "2026-01-01T00:00:00Z", "frozen": True})
    customer = db_api.new_customer()
    key = rid()
    first = post_cart(db_api, customer, key)
    post_cart(db_api, customer, rid())  # another keyed write: a sweep may run after it
    if change == "advanced":
        admin.ok("POST", f"{path}/advance", json={"duration": "PT25H"})
    again = post_cart(db_api, customer, key)
    assert again.headers.get(REPLAY_HEADER) == "true"
    assert again.content == first.content
    assert count(db_api.runtime, "carts") == 2
    clock.advance(dt.timedelta(hours=24))  # the server's day is over: the id runs anew
    assert REPLAY_HEADER not in post_cart(db_api, customer, key).headers
