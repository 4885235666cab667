"""GET cart's joined reads asked for in one loop pass share one statement (PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import psycopg
import pytest

from partnercart.server.batching import PassBatcher
from partnercart.server.domain.clock import ManualClock
from partnercart.server.services.carts import find_owned_carts
from partnercart.server.storage.failures import unavailable
from partnercart.server.storage.sql import SqlCarts
from tests.conftest import Api
from tests.control_helpers import Admin, new_cart


async def _inline(fn: Callable[[], list[Any]]) -> list[Any]:
    await asyncio.sleep(0)  # the answer comes on a later pass, as from a thread
    return fn()


class Recorder:
    """A fetch that answers each key with ``key * 10`` and records the calls."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.calls: list[list[int]] = []
        self.fail = fail

    def __call__(self, keys: Sequence[int]) -> list[int]:
        self.calls.append(list(keys))
        if self.fail is not None:
            raise self.fail
        return [key * 10 for key in keys]


def test_keys_asked_for_in_one_pass_go_in_one_call_answered_in_order() -> None:
    fetch = Recorder()
    batcher = PassBatcher(fetch, _inline)

    async def main() -> list[int]:
        return await asyncio.gather(*(batcher.get(k) for k in (3, 1, 2, 1)))

    assert asyncio.run(main()) == [30, 10, 20, 10]
    assert fetch.calls == [[3, 1, 2, 1]]
    assert (batcher.calls, batcher.keys, batcher.largest) == (1, 4, 4)


def test_keys_of_later_passes_make_calls_of_their_own() -> None:
    fetch = Recorder()
    batcher = PassBatcher(fetch, _inline)

    async def main() -> list[int]:
        first = await batcher.get(1)
        second = await asyncio.gather(batcher.get(2), batcher.get(3))
        return [first, *second]

    assert asyncio.run(main()) == [10, 20, 30]
    assert fetch.calls == [[1], [2, 3]]


def test_a_large_pass_is_cut_into_calls_of_at_most_most_keys() -> None:
    fetch = Recorder()
    batcher = PassBatcher(fetch, _inline, most=4)

    async def main() -> list[int]:
        return await asyncio.gather(*(batcher.get(k) for k in range(10)))

    assert asyncio.run(main()) == [k * 10 for k in range(10)]
    assert fetch.calls == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_a_failed_call_fails_each_of_its_callers_and_the_next_pass_runs_again() -> None:
    fetch = Recorder(fail=OSError("connection lost"))
    batcher = PassBatcher(fetch, _inline)

    async def main() -> tuple[list[Any], int]:
        failed = await asyncio.gather(batcher.get(1), batcher.get(2), return_exceptions=True)
        fetch.fail = None
        return failed, await batcher.get(5)

    failed, later = asyncio.run(main())
    assert [type(e) for e in failed] == [OSError, OSError]
    assert later == 50


def test_a_cancelled_caller_leaves_the_others_their_answers() -> None:
    fetch = Recorder()
    batcher = PassBatcher(fetch, _inline)

    async def main() -> tuple[bool, list[int]]:
        gone = asyncio.ensure_future(batcher.get(1))
        kept = [asyncio.ensure_future(batcher.get(k)) for k in (2, 3)]
        await asyncio.sleep(0)  # all three are waiting
        gone.cancel()
        answers = await asyncio.gather(*kept)
        return gone.cancelled(), answers

    cancelled, answers = asyncio.run(main())
    assert cancelled and answers == [20, 30]
    assert fetch.calls == [[2, 3]]  # the cancelled key was not looked up


def test_a_fetch_that_answers_the_wrong_number_of_keys_fails_every_caller() -> None:
    batcher = PassBatcher(lambda keys: [1], _inline)

    async def main() -> list[Any]:
        return await asyncio.gather(batcher.get(1), batcher.get(2), return_exceptions=True)

    assert [type(e) for e in asyncio.run(main())] == [RuntimeError, RuntimeError]


def test_a_batcher_moves_to_a_new_loop() -> None:
    fetch = Recorder()
    batcher = PassBatcher(fetch, _inline)
    assert asyncio.run(batcher.get(1)) == 10
    assert asyncio.run(batcher.get(2)) == 20  # another loop, as a new TestClient makes


# --- the repository, on both databases ------------------------------------------------------


def test_get_owned_many_answers_as_get_owned_does_key_by_key(db_api: Api) -> None:
    other = db_api.as_partner(str(uuid.uuid4()))
    mine = db_api.new_customer()
    theirs = other.new_customer()
    my_cart = new_cart(db_api, mine)["id"]
    their_cart = new_cart(other, theirs)["id"]
    me, them = db_api.partner_id, other.partner_id
    keys = [
        (me, mine, my_cart),  # mine: found
        (me, mine, their_cart),  # another customer's cart under my customer: owned, none
        (me, theirs, their_cart),  # another partner's customer: not owned
        (them, theirs, their_cart),  # theirs, asked by them
        (me, mine, str(uuid.uuid4())),  # no such cart
        (me, str(uuid.uuid4()), my_cart),  # no such customer
        (me, mine, my_cart),  # the same key twice
    ]
    store = db_api.runtime.services.store
    with store.unit_of_work(write=False, snapshot=False) as uow:
        many = find_owned_carts(uow, keys)
        one_by_one = [uow.carts.get_owned(*key) for key in keys]
    assert many == one_by_one
    assert [(owned, None if found is None else found.id) for owned, found in many] == [
        (True, my_cart),
        (True, None),
        (False, None),
        (True, their_cart),
        (True, None),
        (False, None),
        (True, my_cart),
    ]
    with store.unit_of_work(write=False, snapshot=False) as uow:
        assert find_owned_carts(uow, []) == []


# --- over HTTP ----------------------------------------------------------------------------------


def _gets_at_once(api: Api, requests: list[tuple[Api, str]]) -> list[httpx.Response]:
    """The GETs sent at once to the app on one event loop, each with its partner's token."""

    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await asyncio.gather(
                *(c.get(path, headers=caller.headers()) for caller, path in requests)
            )

    return asyncio.run(main())


@pytest.mark.postgres
def test_only_a_networked_store_batches_cart_reads(api: Api, pg_api: Api) -> None:
    assert api.runtime.cart_reads is None  # SQLite reads inline
    assert pg_api.runtime.cart_reads is not None


@pytest.mark.postgres
def test_gets_of_one_pass_share_a_statement_and_each_partner_sees_only_its_own(
    pg_api: Api,
) -> None:
    other = pg_api.as_partner(str(uuid.uuid4()))
    mine, theirs = pg_api.new_customer(), other.new_customer()
    my_carts = [new_cart(pg_api, mine, quantity=q) for q in (1, 2, 3)]
    their_cart = new_cart(other, theirs)
    reads = pg_api.runtime.cart_reads
    assert reads is not None
    calls_before, keys_before = reads.calls, reads.keys
    mine_path = f"/v1/customers/{mine}/carts"
    requests = [(pg_api, f"{mine_path}/{cart['id']}") for cart in my_carts]
    requests += [
        (other, f"{mine_path}/{my_carts[0]['id']}"),  # their token, my customer: 403
        (pg_api, f"/v1/customers/{theirs}/carts/{their_cart['id']}"),  # my token: 403
        (other, f"/v1/customers/{theirs}/carts/{their_cart['id']}"),  # theirs: 200
        (pg_api, f"{mine_path}/{uuid.uuid4()}"),  # no such cart: 404
        (pg_api, f"{mine_path}/{their_cart['id']}"),  # their cart id under my customer: 404
        (
            pg_api,
            f"/v1/customers/{mine.upper()}/carts/{my_carts[1]['id'].upper()}",
        ),  # ids in capitals: 200
    ]
    answers = _gets_at_once(pg_api, requests)
    assert [a.status_code for a in answers] == [200, 200, 200, 403, 403, 200, 404, 404, 200]
    assert [a.json()["id"] for a in answers[:3]] == [c["id"] for c in my_carts]
    assert [a.json()["lineItems"][0]["quantity"] for a in answers[:3]] == [1, 2, 3]
    assert answers[5].json()["id"] == their_cart["id"]
    assert answers[8].json()["id"] == my_carts[1]["id"]
    for answer in answers[3:5] + answers[6:8]:
        assert set(answer.json()) >= {"code", "description"}
    assert answers[0].headers["ETag"]
    assert reads.keys - keys_before == len(requests)
    assert reads.calls - calls_before < len(requests)  # they went to the database together
    info = Admin(pg_api).ok("GET", "/info")["cartReadBatches"]
    assert info == {"statements": reads.calls, "reads": reads.keys, "largest": reads.largest}


@pytest.mark.postgres
def test_a_batched_get_reads_the_cart_on_the_partners_clock(
    pg_api: Api, clock: ManualClock
) -> None:
    other = pg_api.as_partner(str(uuid.uuid4()))
    mine, theirs = pg_api.new_customer(), other.new_customer()
    my_cart, their_cart = new_cart(pg_api, mine), new_cart(other, theirs)
    paths = [
        (pg_api, f"/v1/customers/{mine}/carts/{my_cart['id']}"),
        (other, f"/v1/customers/{theirs}/carts/{their_cart['id']}"),
    ]
    assert [a.status_code for a in _gets_at_once(pg_api, paths)] == [200, 200]
    # Only my partner's clock goes past the 7-day expiry.
    Admin(pg_api).ok(
        "POST", f"/partners/{pg_api.partner_id}/clock/advance", json={"duration": "P7D"}
    )
    answers = _gets_at_once(pg_api, paths)
    assert [a.status_code for a in answers] == [404, 200]
    assert answers[0].json()["code"] == 800008
    clock.advance(dt.timedelta(days=8))  # now the server's own clock too
    assert [a.status_code for a in _gets_at_once(pg_api, paths)] == [404, 404]


@pytest.mark.postgres
def test_a_failed_batch_answers_each_get_with_the_error_body(
    pg_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = pg_api.new_customer()
    carts = [new_cart(pg_api, customer)["id"] for _ in range(3)]

    def lost(self: Any, keys: Sequence[tuple[str, str, str]]) -> list[Any]:
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(SqlCarts, "get_owned_many", lost)
    answers = _gets_at_once(
        pg_api, [(pg_api, f"/v1/customers/{customer}/carts/{c}") for c in carts]
    )
    assert [a.status_code for a in answers] == [503, 503, 503]
    assert [a.json()["code"] for a in answers] == [800003] * 3
    monkeypatch.undo()
    again = _gets_at_once(pg_api, [(pg_api, f"/v1/customers/{customer}/carts/{carts[0]}")])
    assert again[0].status_code == 200


# --- a database that cannot answer now is 503, not a bug ----------------------------------------


def test_only_errors_that_may_pass_count_as_the_database_being_unavailable() -> None:
    assert unavailable(psycopg.OperationalError("connection refused"))
    assert unavailable(psycopg.errors.AdminShutdown("terminating connection"))
    assert unavailable(sqlite3.OperationalError("database is locked"))
    assert not unavailable(sqlite3.OperationalError("no such table: carts"))
    assert not unavailable(psycopg.errors.UndefinedTable("relation carts does not exist"))
    assert not unavailable(ValueError("database is locked"))


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (sqlite3.OperationalError("database is locked"), 503),
        (sqlite3.OperationalError("no such table: carts"), 500),
    ],
)
def test_a_locked_sqlite_file_is_503_and_a_broken_one_500(
    api: Api, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    customer = api.new_customer()
    cart = new_cart(api, customer)["id"]

    def fail(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(SqlCarts, "get_owned", fail)

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=api.client.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.get(f"/v1/customers/{customer}/carts/{cart}", headers=api.headers())

    answer = asyncio.run(get())
    assert answer.status_code == status
    body = answer.json()
    assert body["code"] == 800003
    assert "Traceback" not in answer.text
