"""The control plane's SQL on SQLite and PostgreSQL: clocks, rules, the log, reset, seed."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from partnercart.server.control.clocks import ClockSource
from partnercart.server.control.faults import FaultBook
from partnercart.server.control.store import rows
from partnercart.server.domain.clock import ManualClock
from partnercart.server.http.app import create_app
from tests.conftest import Api, customer_body, make_runtime
from tests.control_helpers import Admin, new_cart


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_control_plane_on_each_database(db_api: Api) -> None:
    admin = Admin(db_api)
    customer = db_api.new_customer()
    cart = new_cart(db_api, customer)
    path = f"/partners/{db_api.partner_id}/clock"
    admin.ok("PUT", path, json={"now": "2026-06-01T00:00:00Z", "frozen": True})
    assert admin.ok("POST", f"{path}/advance", json={"duration": "P8D"})["frozen"] is True
    assert admin.ok("POST", f"{path}/unfreeze")["now"] == "2026-06-09T00:00:00.0000000Z"
    [row] = admin.ok("GET", f"/partners/{db_api.partner_id}/carts")["items"]
    assert row["id"] == cart["id"] and row["expired"] is True
    rule = admin.ok("POST", "/faults", 201, json={"status": 429, "nth": 2, "times": 1})
    db_api.get("/v1/customers")
    assert db_api.get("/v1/customers").status_code == 429
    [listed] = admin.ok("GET", "/faults")["items"]
    assert (listed["id"], listed["seen"], listed["fired"], listed["spent"]) == (
        rule["id"],
        2,
        1,
        True,
    )
    items = admin.ok("GET", f"/requests?partner={db_api.partner_id}&limit=2")["items"]
    assert [i["status"] for i in items] == [429, 200]
    assert items[0]["id"] > items[1]["id"]
    document = {"partner": db_api.partner_id, "customers": [{"customer": customer_body()}]}
    assert len(admin.ok("POST", "/seed", 201, json=document)["partners"][0]["customers"]) == 1
    [partner] = admin.ok("GET", "/partners")["items"]
    assert partner["customers"] == 2 and partner["carts"] == 1
    deleted = admin.ok("POST", "/reset")["deleted"]
    assert deleted["customers"] == 2 and deleted["control_faults"] == 1
    assert deleted["control_clocks"] == 1 and deleted["control_requests"] >= 3


def test_clock_cache_is_refreshed_after_its_ttl(db_api: Api) -> None:
    """Another process's cache: stale for at most the TTL, then the stored clock."""
    admin = Admin(db_api)
    runtime = db_api.runtime
    fake = FakeTime()
    other = ClockSource(runtime.services.store, base=runtime.clocks.base, ttl=1.0, monotonic=fake)
    before = other.for_partner(db_api.partner_id).now()
    admin.ok("POST", f"/partners/{db_api.partner_id}/clock/advance", json={"duration": "P1D"})
    assert other.for_partner(db_api.partner_id).now() == before
    fake.now += 1.0
    assert (other.for_partner(db_api.partner_id).now() - before).days == 1


def test_fault_book_reloads_when_the_version_moves(db_api: Api) -> None:
    admin = Admin(db_api)
    fake = FakeTime()
    book = FaultBook(db_api.runtime.services.store, ttl=0.5, monotonic=fake)
    assert book.live() == []
    admin.ok("POST", "/faults", 201, json={"status": 500, "partner": str(uuid.uuid4())})
    assert book.live() == []  # cached
    fake.now += 0.5
    [rule] = book.live()
    admin.ok("DELETE", f"/faults/{rule.id}", 204)
    fake.now += 0.5
    assert book.live() == []


def test_request_log_keeps_the_newest(db_api: Api, monkeypatch: Any) -> None:
    from partnercart.server.control import requestlog

    monkeypatch.setattr(requestlog, "KEEP", 3)
    admin = Admin(db_api)
    customer = db_api.new_customer()
    for _ in range(5):
        db_api.get(f"/v1/customers/{customer}")
    items = admin.ok("GET", f"/requests?partner={db_api.partner_id}&limit=3")["items"]
    assert [i["method"] for i in items] == ["GET"] * 3
    with db_api.runtime.services.store.unit_of_work(write=False) as uow:
        count = rows(uow, "SELECT COUNT(*) FROM control_requests")[0][0]
    assert count == 3


def test_request_log_batches_write_only_the_rows_that_would_be_kept(
    db_api: Api, monkeypatch: Any
) -> None:
    """A batch holding more than KEEP requests of one partner inserts only the newest KEEP, in
    order; another partner's rows in the same batch are inserted as they are. The log then
    reads as if every row had been written and trimmed."""
    from partnercart.server.control import requestlog
    from partnercart.server.http.requestlog import LogBuffer

    inserted: list[str | None] = []
    add_many = requestlog.add_many

    def counting(uow: Any, rows_: list[Any]) -> None:
        inserted.extend(row[0] for row in rows_)
        add_many(uow, rows_)

    monkeypatch.setattr(requestlog, "add_many", counting)
    monkeypatch.setattr(requestlog, "KEEP", 3)
    monkeypatch.setattr(LogBuffer, "FLUSH_AFTER", 30.0)  # only the list route flushes
    admin = Admin(db_api)
    other = db_api.as_partner(str(uuid.uuid4()))
    customer = db_api.new_customer()
    other.get("/v1/customers")
    paths = [f"/v1/customers/{customer}?n={n}" for n in range(6)]
    for path in paths:
        db_api.get(path)
    items = admin.ok("GET", f"/requests?partner={db_api.partner_id}&limit=3")["items"]
    assert [i["query"] for i in items] == ["n=5", "n=4", "n=3"]
    [theirs] = admin.ok("GET", f"/requests?partner={other.partner_id}&limit=3")["items"]
    assert theirs["path"] == "/v1/customers"
    with db_api.runtime.services.store.unit_of_work(write=False) as uow:
        assert rows(uow, "SELECT COUNT(*) FROM control_requests")[0][0] == 4
    assert sorted(inserted, key=str) == sorted(
        [db_api.partner_id] * 3 + [other.partner_id], key=str
    )


def test_a_server_shutting_down_writes_the_log_it_still_holds(
    tmp_path: Path, clock: ManualClock, database_url: str, monkeypatch: Any
) -> None:
    """With the next timed write far away, the lifespan's end writes what waits."""
    from partnercart.server.http.requestlog import LogBuffer

    monkeypatch.setattr(LogBuffer, "FLUSH_AFTER", 30.0)
    runtime = make_runtime(tmp_path, clock, database_url)
    try:
        with TestClient(create_app(runtime)) as client:
            partner = Api(client, runtime, str(uuid.uuid4()))
            for _ in range(3):
                assert partner.get("/v1/customers").status_code == 200
            with runtime.services.store.unit_of_work(write=False) as uow:
                assert rows(uow, "SELECT COUNT(*) FROM control_requests")[0][0] == 0
        with runtime.services.store.unit_of_work(write=False) as uow:
            assert rows(uow, "SELECT COUNT(*) FROM control_requests")[0][0] == 3
    finally:
        runtime.close()


def _pending_rows(partner: str, count: int) -> list[Any]:
    from partnercart.server.control.requestlog import StoredRequest

    return [
        (
            partner,
            1_000_000 + n,
            StoredRequest(
                method="GET",
                path=f"/v1/customers?n={n}",
                route=None,
                query=f"n={n}".encode(),
                status=200,
                duration_ms=0.1,
                request_id=None,
                correlation_id=None,
                request_headers=[(b"authorization", b"Bearer secret")],
                request_body=b"",
                request_size=0,
                response_headers=[],
                response_body=b"{}",
                response_size=2,
            ),
        )
        for n in range(count)
    ]


def _packed(pending: Any) -> Any:
    """A row as the buffer holds it: the request packed with its headers as they came."""
    from partnercart.server.control.requestlog import pack

    partner, at, stored = pending
    return partner, at, pack(stored)


def test_a_request_log_batch_is_written_in_order_and_trimmed(
    tmp_path: Path, clock: ManualClock, database_url: str, monkeypatch: Any
) -> None:
    """A batch far larger than one step lands whole, in order, no more than KEEP of a partner,
    with the credentials redacted; on SQLite the event loop runs other work between the
    steps."""
    import asyncio

    from partnercart.server.control import requestlog
    from partnercart.server.http.requestlog import LogBuffer

    monkeypatch.setattr(requestlog, "KEEP", 50)
    runtime = make_runtime(tmp_path, clock, database_url)
    partner = str(uuid.uuid4())
    try:
        buffer = LogBuffer(runtime)

        async def main() -> list[str]:
            seen: list[str] = []
            for _ in range(2):  # the second round pushes most of the first out
                for row in _pending_rows(partner, 40):
                    buffer.keep(_packed(row))
            assert len(buffer) == 50

            async def ticker() -> None:
                while True:
                    seen.append("tick")
                    await asyncio.sleep(0)

            def counting(uow: Any, rows_: list[Any]) -> None:
                seen.append("step")
                add(uow, rows_)

            add = requestlog.add_many
            monkeypatch.setattr(requestlog, "add_many", counting)
            task = asyncio.create_task(ticker())
            await asyncio.sleep(0)
            await buffer.flush()
            task.cancel()
            return seen

        seen = asyncio.run(main())
        with runtime.services.store.unit_of_work(write=False) as uow:
            logged = requestlog.recent(uow, partner_id=partner, limit=1000)
        assert [entry.query for entry in logged] == [f"n={n}" for n in range(39, -1, -1)] + [
            f"n={n}" for n in range(39, 29, -1)
        ]
        assert all(e.request_headers == {"authorization": "<redacted>"} for e in logged)
        steps = [i for i, what in enumerate(seen) if what == "step"]
        if runtime.services.store.blocking:  # PostgreSQL: a worker thread, CHUNK rows a go
            assert len(steps) == 1
        else:
            assert len(steps) == 50 // LogBuffer.STEP + 1
            assert all("tick" in seen[a:b] for a, b in itertools.pairwise(steps))
    finally:
        runtime.close()


def test_trimming_the_log_in_steps_deletes_at_most_so_many(
    tmp_path: Path, clock: ManualClock, database_url: str, monkeypatch: Any
) -> None:
    from partnercart.server.control import requestlog

    monkeypatch.setattr(requestlog, "KEEP", 10)
    runtime = make_runtime(tmp_path, clock, database_url)
    partner = str(uuid.uuid4())
    try:
        store = runtime.services.store
        with store.unit_of_work(write=True) as uow:
            requestlog.add_many(uow, [_packed(p) for p in _pending_rows(partner, 25)])
        removed = []
        for _ in range(4):
            with store.unit_of_work(write=True) as uow:
                removed.append(requestlog.trim_log(uow, partner, at_most=6))
        assert removed == [6, 6, 3, 0]
        with store.unit_of_work(write=False) as uow:
            left = requestlog.recent(uow, partner_id=partner, limit=100)
        assert [e.query for e in left] == [f"n={n}" for n in range(24, 14, -1)]
    finally:
        runtime.close()


def _logged(runtime: Any) -> int:
    with runtime.services.store.unit_of_work(write=False) as uow:
        return int(rows(uow, "SELECT COUNT(*) FROM control_requests")[0][0])


def _wait_for(check: Any, within: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def test_an_unread_log_is_written_only_now_and_then(
    tmp_path: Path, clock: ManualClock, database_url: str, monkeypatch: Any
) -> None:
    """Nobody reads the log: the entries wait past the prompt interval and are written at the
    idle one."""
    import time

    from partnercart.server.http.requestlog import LogBuffer

    monkeypatch.setattr(LogBuffer, "FLUSH_AFTER", 0.05)
    monkeypatch.setattr(LogBuffer, "IDLE_FLUSH_AFTER", 1.5)
    runtime = make_runtime(tmp_path, clock, database_url)
    try:
        with TestClient(create_app(runtime)) as client:
            partner = Api(client, runtime, str(uuid.uuid4()))
            started = time.monotonic()
            for _ in range(3):
                assert partner.get("/v1/customers").status_code == 200
            time.sleep(0.5)  # ten prompt intervals
            if time.monotonic() - started < 1.2:
                assert _logged(runtime) == 0
            _wait_for(lambda: _logged(runtime) == 3)
    finally:
        runtime.close()


def test_a_read_in_another_process_makes_this_one_write_promptly(
    tmp_path: Path, clock: ManualClock, database_url: str, monkeypatch: Any
) -> None:
    """Another process's list route bumps the readers' version; this process notices at its
    next check and writes what it holds, and keeps writing promptly."""
    import time

    from partnercart.server.control import requestlog
    from partnercart.server.http.requestlog import LogBuffer

    monkeypatch.setattr(LogBuffer, "FLUSH_AFTER", 0.05)
    monkeypatch.setattr(LogBuffer, "IDLE_FLUSH_AFTER", 60.0)
    runtime = make_runtime(tmp_path, clock, database_url)
    try:
        app = create_app(runtime)
        with TestClient(app) as client:
            partner = Api(client, runtime, str(uuid.uuid4()))
            assert partner.get("/v1/customers").status_code == 200
            buffer = app.parts.request_log_buffer
            _wait_for(lambda: buffer._readers is not None)  # the first check saw the version
            time.sleep(0.2)
            assert _logged(runtime) == 0
            with runtime.services.store.unit_of_work(write=True) as uow:
                requestlog.bump_readers(uow)  # as another process's reader does
            _wait_for(lambda: _logged(runtime) == 1, within=5)
            assert partner.get("/v1/customers").status_code == 200
            _wait_for(lambda: _logged(runtime) == 2, within=5)
    finally:
        runtime.close()


def test_the_readers_version_counts_reads_and_resets(db_api: Api) -> None:
    from partnercart.server.control import requestlog

    store = db_api.runtime.services.store
    with store.unit_of_work(write=False) as uow:
        before = requestlog.readers_version(uow)
    admin = Admin(db_api)
    admin.ok("GET", "/requests")
    admin.ok("GET", f"/requests?partner={db_api.partner_id}")
    with store.unit_of_work(write=False) as uow:
        assert requestlog.readers_version(uow) == before + 2
    admin.ok("POST", f"/partners/{db_api.partner_id}/reset")
    with store.unit_of_work(write=False) as uow:
        assert requestlog.readers_version(uow) == before + 3
