"""SQLite writes made on the event loop commit in groups: one transaction per pass of the loop,
one savepoint per write, and no answer before its group is committed."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from partnercart.server.domain.carts import Actor
from partnercart.server.domain.clock import ManualClock
from partnercart.server.domain.errors import ServiceUnavailable
from partnercart.server.domain.records import CartRecord, CustomerRecord
from partnercart.server.http.app import create_app
from partnercart.server.http.calls import _grouped, read_cart
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import Settings
from partnercart.server.storage import DatabaseUrl, migrate
from partnercart.server.storage.sqlite import SqliteStore, WriteGroup
from tests.conftest import START, Api
from tests.servers import line


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    path = tmp_path / "groups.db"
    migrate.upgrade(DatabaseUrl.parse(f"sqlite:///{path}"))
    return path


@pytest.fixture
def store(db_file: Path) -> Iterator[SqliteStore]:
    opened = SqliteStore(str(db_file))
    yield opened
    opened.close()


def _customer(partner: str = "p1") -> CustomerRecord:
    return CustomerRecord(
        id=str(uuid.uuid4()), partner_id=partner, country="US", created_at=START, body=b"{}"
    )


async def failed_durably(uow: Any) -> bool:
    """Whether the write's group failed to commit (``ServiceUnavailable`` from ``durable``)."""
    try:
        await asyncio.wait_for(uow.durable(), 1)
    except ServiceUnavailable:
        return True
    return False


def committed_ids(db_file: Path) -> set[str]:
    """What another connection sees: only committed rows."""
    with sqlite3.connect(db_file) as other:
        return {row[0] for row in other.execute("SELECT id FROM customers")}


def grouped_adds(store: SqliteStore, records: list[CustomerRecord]) -> list[Any]:
    """Each record added by a grouped write of its own, all in this pass of the loop."""
    units = []
    for record in records:
        uow = store.grouped_write()
        with uow:
            uow.customers.add(record)
        units.append(uow)
    return units


def test_writes_of_one_pass_share_a_transaction_and_answer_after_its_commit(
    store: SqliteStore, db_file: Path
) -> None:
    async def main() -> None:
        records = [_customer() for _ in range(3)]
        units = grouped_adds(store, records)
        # All three ran; none is committed yet, and one transaction holds them.
        assert committed_ids(db_file) == set()
        conn, _repos, _group = store._connection()
        assert conn.in_transaction
        for uow in units:
            await uow.durable()
        assert committed_ids(db_file) == {r.id for r in records}
        assert not conn.in_transaction

    asyncio.run(main())


def test_a_failing_write_is_undone_alone(store: SqliteStore, db_file: Path) -> None:
    async def main() -> None:
        first, second, third = _customer(), _customer(), _customer()
        units = []
        for record in (first, second, third):
            uow = store.grouped_write()
            try:
                with uow:
                    uow.customers.add(record)
                    if record is second:
                        raise ValueError("this request failed half way")
            except ValueError:
                pass
            units.append(uow)
        for uow in units:
            await uow.durable()  # the failed one too: the group it saw committed
        assert committed_ids(db_file) == {first.id, third.id}

    asyncio.run(main())


def test_a_unit_of_work_of_its_own_commits_the_open_group_first(
    store: SqliteStore, db_file: Path
) -> None:
    async def main() -> None:
        record = _customer()
        uow = store.grouped_write()
        with uow:
            uow.customers.add(record)
        assert committed_ids(db_file) == set()
        # A read on the same connection would otherwise see an uncommitted change.
        with store.unit_of_work(write=False) as read:
            assert read.customers.get("p1", record.id) == record
        assert committed_ids(db_file) == {record.id}
        await asyncio.wait_for(uow.durable(), 1)

    asyncio.run(main())


def test_a_commit_that_fails_keeps_nothing_and_tells_every_write(
    store: SqliteStore, db_file: Path
) -> None:
    """A foreign key checked at COMMIT (deferred) makes the group's commit itself fail."""

    async def main() -> list[BaseException | None]:
        good = _customer()
        first = store.grouped_write()
        with first:
            first.customers.add(good)
        second = store.grouped_write()
        with second:
            second.cursor.execute("PRAGMA defer_foreign_keys=ON")
            second.cursor.execute(
                "INSERT INTO carts (id, partner_id, customer_id, created_at, expires_at, "
                "status, version, body) VALUES ('k', 'p1', 'no-such-customer', 0, 0, "
                "'Active', 1, x'')"
            )
        outcomes: list[BaseException | None] = []
        for uow in (first, second):
            try:
                await uow.durable()
                outcomes.append(None)
            except ServiceUnavailable as exc:
                outcomes.append(exc)
        return outcomes

    outcomes = asyncio.run(main())
    assert all(isinstance(exc, ServiceUnavailable) for exc in outcomes)
    assert "FOREIGN KEY" in str(outcomes[0])
    assert outcomes[0] is not outcomes[1]  # each request gets its own error to raise
    assert committed_ids(db_file) == set()
    conn, _repos, _group = store._connection()
    assert not conn.in_transaction
    # The store goes on: the next group commits.
    later = _customer()

    async def again() -> None:
        uow = store.grouped_write()
        with uow:
            uow.customers.add(later)
        await uow.durable()

    asyncio.run(again())
    assert committed_ids(db_file) == {later.id}


def test_a_transaction_sqlite_rolled_back_itself_fails_the_whole_group(
    store: SqliteStore, db_file: Path
) -> None:
    """Some errors (a full disk, an I/O error) end SQLite's transaction, not only the
    statement: every write of the group is gone, and each must hear so."""

    async def main() -> list[bool]:
        first = store.grouped_write()
        with first:
            first.customers.add(_customer())
        second = store.grouped_write()
        with pytest.raises(sqlite3.DatabaseError), second:
            second.customers.add(_customer())
            second.cursor.execute("ROLLBACK")  # as SQLite does on SQLITE_FULL
            raise sqlite3.DatabaseError("database or disk is full")
        return [await failed_durably(uow) for uow in (first, second)]

    assert asyncio.run(main()) == [True, True]
    assert committed_ids(db_file) == set()


def test_a_cancelled_waiter_leaves_the_others_to_their_commit(
    store: SqliteStore, db_file: Path
) -> None:
    async def main() -> None:
        records = [_customer(), _customer()]
        units = grouped_adds(store, records)
        gone = asyncio.ensure_future(units[0].durable())
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.wait_for(units[1].durable(), 1)
        # The cancelled request's change was made and stays, as any change whose answer was
        # lost on the way to a client that hung up.
        assert committed_ids(db_file) == {r.id for r in records}

    asyncio.run(main())


def test_a_write_cannot_open_inside_a_grouped_write(store: SqliteStore) -> None:
    async def main() -> None:
        uow = store.grouped_write()
        with uow:
            with pytest.raises(RuntimeError):
                store.unit_of_work(write=False).__enter__()
            with pytest.raises(RuntimeError):
                store.grouped_write().__enter__()
        await uow.durable()

    asyncio.run(main())


def test_a_write_that_could_not_open_its_group_raises_its_own_error(
    store: SqliteStore, db_file: Path
) -> None:
    """Another process holds the write lock past the busy timeout: the request hears that,
    not a complaint about waiting for a commit that never began."""
    conn, _repos, _group = store._connection()
    conn.execute("PRAGMA busy_timeout=0")
    with sqlite3.connect(db_file, isolation_level=None) as other:
        other.execute("BEGIN IMMEDIATE")

        def add(uow: Any) -> None:
            with uow:
                uow.customers.add(_customer())

        with pytest.raises(sqlite3.OperationalError, match="locked"):
            asyncio.run(_grouped(store, add))
        other.execute("ROLLBACK")
    assert committed_ids(db_file) == set()


def test_a_write_whose_savepoint_cannot_be_released_fails_and_keeps_nothing(
    store: SqliteStore, db_file: Path
) -> None:
    async def main() -> list[bool]:
        first = store.grouped_write()
        with first:
            first.customers.add(_customer())
        second = store.grouped_write()
        with pytest.raises(sqlite3.OperationalError, match="no such savepoint"), second:
            second.customers.add(_customer())
            second.cursor.execute("RELEASE grouped_write")  # so the block's own RELEASE fails
        return [await failed_durably(uow) for uow in (first, second)]

    assert asyncio.run(main()) == [True, True]
    assert committed_ids(db_file) == set()


def test_the_commit_waits_for_a_block_still_open(store: SqliteStore, db_file: Path) -> None:
    """Blocks never await; if one did, the loop's commit would come back for it later."""

    async def main() -> None:
        record = _customer()
        uow = store.grouped_write()
        with uow:
            uow.customers.add(record)
            for _ in range(3):
                await asyncio.sleep(0)  # the commit's turn comes and goes
            assert committed_ids(db_file) == set()
        await asyncio.wait_for(uow.durable(), 1)
        assert committed_ids(db_file) == {record.id}

    asyncio.run(main())


def test_closing_the_store_commits_an_open_group(db_file: Path) -> None:
    opened = SqliteStore(str(db_file))
    record = _customer()

    async def main() -> None:
        uow = opened.grouped_write()
        with uow:
            uow.customers.add(record)
        opened.close()  # before the loop's next pass
        await asyncio.wait_for(uow.durable(), 1)

    asyncio.run(main())
    assert committed_ids(db_file) == {record.id}


def cart_ids(api: Api, customer: str) -> list[str]:
    with api.runtime.services.store.unit_of_work(write=False) as uow:
        uow.cursor.execute("SELECT id FROM carts WHERE customer_id = ?", (customer,))
        return [str(row[0]) for row in uow.cursor.fetchall()]


def _concurrently(api: Api, requests: list[tuple[str, str, Any]]) -> list[httpx.Response]:
    """The requests sent at once to the app on one event loop."""

    async def main() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await asyncio.gather(
                *(
                    c.request(
                        method,
                        path,
                        json=body,
                        headers=api.headers({"MS-RequestId": str(uuid.uuid4())}),
                    )
                    for method, path, body in requests
                )
            )

    return asyncio.run(main())


def test_concurrent_api_writes_share_commits(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    commits: list[int] = []
    finish = WriteGroup._finish

    def counted(group: WriteGroup) -> None:
        commits.append(len(group._waiters))
        finish(group)

    monkeypatch.setattr(WriteGroup, "_finish", counted)
    customer = api.new_customer()
    commits.clear()
    answers = _concurrently(
        api, [("POST", f"/v1/customers/{customer}/carts", {"lineItems": [line(1)]})] * 20
    )
    assert [a.status_code for a in answers] == [201] * 20
    assert sum(commits) == 20
    assert len(commits) < 20  # some commits carried more than one request
    assert sorted(cart_ids(api, customer)) == sorted(a.json()["id"] for a in answers)


def test_a_failed_group_commit_answers_503_and_a_retry_runs_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = api.new_customer()
    finish = WriteGroup._finish

    def failing(group: WriteGroup) -> None:
        # A row that breaks a deferred foreign key: the real COMMIT then fails.
        group._conn.execute("PRAGMA defer_foreign_keys=ON")
        group._conn.execute(
            "INSERT INTO carts (id, partner_id, customer_id, created_at, expires_at, status, "
            "version, body) VALUES (?, 'p', 'no-such-customer', 0, 0, 'Active', 1, x'')",
            (str(uuid.uuid4()),),
        )
        finish(group)

    monkeypatch.setattr(WriteGroup, "_finish", failing)
    request_id = str(uuid.uuid4())
    path = f"/v1/customers/{customer}/carts"
    headers = {"MS-RequestId": request_id}
    failed = api.post(path, json={"lineItems": [line(1)]}, headers=headers)
    assert failed.status_code == 503
    body = failed.json()
    assert body["code"] == 800003
    assert "nothing of it was kept" in body["description"]
    monkeypatch.setattr(WriteGroup, "_finish", finish)
    retried = api.post(path, json={"lineItems": [line(1)]}, headers=headers)
    assert retried.status_code == 201
    assert retried.headers.get("MS-Idempotent-Replay") is None  # it ran again
    assert cart_ids(api, customer) == [retried.json()["id"]]


def test_a_store_opened_without_groups_commits_each_write_alone(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve --workers N`` on SQLite opens its stores so."""
    commits: list[int] = []
    monkeypatch.setattr(WriteGroup, "_finish", lambda group: commits.append(1))
    settings = Settings(data_dir=tmp_path / "data", sqlite_group_writes=False)
    runtime = build_runtime(settings, clock=clock)
    try:
        assert runtime.services.store.grouped_write() is None
        with TestClient(create_app(runtime)) as client:
            api = Api(client, runtime, str(uuid.uuid4()))
            customer = api.new_customer()
            answers = _concurrently(
                api, [("POST", f"/v1/customers/{customer}/carts", {"lineItems": [line(1)]})] * 8
            )
            assert [a.status_code for a in answers] == [201] * 8
            assert sorted(cart_ids(api, customer)) == sorted(a.json()["id"] for a in answers)
    finally:
        runtime.close()
    assert commits == []


def test_get_carts_own_read_commits_the_open_group_first(tmp_path: Path) -> None:
    """GET cart reads on SQLite in a unit of work of its own (not through ``call``): it too
    answers only what is committed, never a group's change before its commit."""
    runtime = build_runtime(Settings(data_dir=tmp_path / "data"), clock=ManualClock(START))
    try:
        store = runtime.services.store
        assert isinstance(store, SqliteStore) and runtime.cart_reads is None
        customer = _customer()
        cart = CartRecord(
            id=str(uuid.uuid4()),
            partner_id=customer.partner_id,
            customer_id=customer.id,
            created_at=START,
            expires_at=START + dt.timedelta(days=7),
            status="Active",
            version=1,
            body=b"{}",
        )
        with store.unit_of_work(write=True) as setup:
            setup.customers.add(customer)
            setup.carts.add(cart)
        app = create_app(runtime)
        request = Request({"type": "http", "app": app, "headers": [], "method": "GET"})
        actor = Actor(partner_id=customer.partner_id, user_id="u1")

        def committed_version() -> int:
            with sqlite3.connect(store.path) as other:
                row = other.execute("SELECT version FROM carts WHERE id = ?", (cart.id,)).fetchone()
                return int(row[0])

        async def main() -> None:
            # The partner's clock is cached, so its own short read does not commit the group.
            runtime.clocks.for_partner(actor.partner_id)
            uow = store.grouped_write()
            assert uow is not None
            with uow:
                changed = msgspec.structs.replace(cart, version=2)
                assert uow.carts.update(changed, expected_version=1)
            assert committed_version() == 1  # the group is open
            seen = await read_cart(
                request, actor=actor, customer_id=customer.id.upper(), cart_id=cart.id.upper()
            )
            assert (seen.version, committed_version()) == (2, 2)
            await asyncio.wait_for(uow.durable(), 1)

        asyncio.run(main())
    finally:
        runtime.close()
