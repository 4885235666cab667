"""Storage on real SQLite and PostgreSQL: the same tests on both engines."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest

from partnercart.server.domain.records import CartRecord, CustomerRecord
from partnercart.server.storage import DatabaseUrl, migrate, open_store
from partnercart.server.storage import sqlite as sqlite_store
from partnercart.server.storage.sql import POSTGRES, SqlCarts, SqlCustomers
from partnercart.server.storage.sql_orders import SqlOrders, SqlSubscriptions
from tests.conftest import START, Api, customer_body


def test_cart_loop_on_each_database(db_api: Api) -> None:
    customer = db_api.new_customer("GB")
    line = {
        "catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS",
        "quantity": 3,
        "billingCycle": "Monthly",
    }
    created = db_api.post(f"/v1/customers/{customer}/carts", json={"LineItems": [line]})
    assert created.status_code == 201
    cart = created.json()
    path = f"/v1/customers/{customer}/carts/{cart['id']}"
    assert db_api.get(path).json() == cart
    cart["lineItems"][0]["quantity"] = 9
    assert db_api.put(path, json=cart).status_code == 201
    stored = db_api.get(path).json()
    assert stored["lineItems"][0]["quantity"] == 9
    assert stored["lineItems"][0]["currencyCode"] == "GBP"
    listed = db_api.get("/v1/customers").json()
    assert [c["id"] for c in listed["items"]] == [customer]


def _customer(partner: str) -> CustomerRecord:
    return CustomerRecord(
        id=str(uuid.uuid4()), partner_id=partner, country="US", created_at=START, body=b"{}"
    )


def _cart(customer: CustomerRecord, version: int = 1) -> CartRecord:
    return CartRecord(
        id=str(uuid.uuid4()),
        partner_id=customer.partner_id,
        customer_id=customer.id,
        created_at=START,
        expires_at=START + dt.timedelta(days=7),
        status="Active",
        version=version,
        body=b'{"lineItems":[]}',
    )


@pytest.fixture
def store_url(database_url: str) -> DatabaseUrl:
    url = DatabaseUrl.parse(database_url)
    migrate.upgrade(url)
    return url


def test_a_failed_unit_of_work_leaves_nothing(store_url: DatabaseUrl) -> None:
    store = open_store(store_url)
    try:
        customer = _customer("p1")
        with pytest.raises(RuntimeError), store.unit_of_work(write=True) as uow:
            uow.customers.add(customer)
            uow.carts.add(_cart(customer))
            raise RuntimeError("the request failed half way")
        with store.unit_of_work(write=False) as uow:
            assert uow.customers.get("p1", customer.id) is None
            assert uow.customers.list("p1") == []
    finally:
        store.close()


def test_records_round_trip_and_partner_scoping(store_url: DatabaseUrl) -> None:
    store = open_store(store_url)
    try:
        customer = _customer("partner-a")
        cart = _cart(customer)
        with store.unit_of_work(write=True) as uow:
            uow.customers.add(customer)
            uow.carts.add(cart)
        with store.unit_of_work(write=False) as uow:
            assert uow.customers.get("partner-a", customer.id) == customer
            assert uow.customers.get("partner-b", customer.id) is None
            assert uow.carts.get(customer.id, cart.id) == cart
            assert uow.carts.get(str(uuid.uuid4()), cart.id) is None
    finally:
        store.close()


def test_the_joined_cart_read_answers_like_the_two_reads(store_url: DatabaseUrl) -> None:
    store = open_store(store_url)
    try:
        customer = _customer("partner-a")
        cart = _cart(customer)
        other = _customer("partner-a")
        with store.unit_of_work(write=True) as uow:
            uow.customers.add(customer)
            uow.customers.add(other)
            uow.carts.add(cart)
        with store.unit_of_work(write=False) as uow:
            assert uow.carts.get_owned("partner-a", customer.id, cart.id) == (True, cart)
            # Another partner: no relationship, whatever the cart id.
            assert uow.carts.get_owned("partner-b", customer.id, cart.id) == (False, None)
            # The partner's other customer does not own the cart.
            assert uow.carts.get_owned("partner-a", other.id, cart.id) == (True, None)
            assert uow.carts.get_owned("partner-a", customer.id, str(uuid.uuid4())) == (True, None)
            assert uow.carts.get_owned("partner-a", str(uuid.uuid4()), cart.id) == (False, None)
    finally:
        store.close()


def test_units_of_work_on_one_connection_share_nothing_but_the_cursor(
    store_url: DatabaseUrl,
) -> None:
    """The repositories are built once per connection: a failed unit of work still rolls back,
    and the next one on the same connection sees the database as it is."""
    store = open_store(store_url)
    try:
        customer = _customer("p")
        for _ in range(3):
            with pytest.raises(RuntimeError), store.unit_of_work(write=True) as uow:
                uow.customers.add(customer)
                raise RuntimeError("rolled back")
        with store.unit_of_work(write=True) as uow:
            uow.customers.add(customer)
        with store.unit_of_work(write=False) as first:
            assert first.customers.get("p", customer.id) == customer
        with store.unit_of_work(write=False) as second:
            assert second.customers.list("p") == [customer]
    finally:
        store.close()


def test_update_checks_the_version(store_url: DatabaseUrl) -> None:
    store = open_store(store_url)
    try:
        customer = _customer("p")
        cart = _cart(customer)
        with store.unit_of_work(write=True) as uow:
            uow.customers.add(customer)
            uow.carts.add(cart)
        newer = CartRecord(**{**_fields(cart), "version": 2, "body": b'{"lineItems":[1]}'})
        with store.unit_of_work(write=True) as uow:
            assert uow.carts.update(newer, expected_version=1)
        with store.unit_of_work(write=True) as uow:
            assert not uow.carts.update(newer, expected_version=1)
        with store.unit_of_work(write=False) as uow:
            assert uow.carts.get(customer.id, cart.id) == newer
    finally:
        store.close()


def _fields(record: CartRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__slots__}


def test_migrations_up_down_up(database_url: str) -> None:
    url = DatabaseUrl.parse(database_url)
    assert migrate.current(url) is None
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()
    migrate.downgrade(url, "base")
    assert migrate.current(url) is None
    migrate.upgrade(url)
    assert migrate.current(url) == migrate.head()


def test_sqlite_url_forms(tmp_path: Path) -> None:
    assert DatabaseUrl.parse("sqlite:///rel/x.db").target == "rel/x.db"
    assert DatabaseUrl.parse(f"sqlite:///{tmp_path}/x.db").target == f"{tmp_path}/x.db"
    assert DatabaseUrl.parse("postgres://u@h/db").target == "postgresql://u@h/db"
    for bad in ("mysql://x", "sqlite://", "sqlite:///:memory:", "nonsense"):
        with pytest.raises(ValueError):
            DatabaseUrl.parse(bad)


def test_a_one_statement_read_runs_without_a_transaction(store_url: DatabaseUrl) -> None:
    store = open_store(store_url)
    try:
        customer = _customer("p")
        with store.unit_of_work(write=True) as uow:
            uow.customers.add(customer)
        with store.unit_of_work(write=False, snapshot=False) as uow:
            assert uow.customers.get("p", customer.id) == customer
            assert not _in_transaction(uow)
        with store.unit_of_work(write=False) as uow:
            assert uow.customers.get("p", customer.id) == customer
            assert _in_transaction(uow)
        # The connection goes back to transactions for the next unit of work.
        with pytest.raises(RuntimeError), store.unit_of_work(write=True) as uow:
            uow.customers.add(_customer("p"))
            raise RuntimeError("rolled back")
        with store.unit_of_work(write=False) as uow:
            assert uow.customers.list("p") == [customer]
    finally:
        store.close()


def _in_transaction(uow: Any) -> bool:
    connection = uow.cursor.connection
    if hasattr(connection, "in_transaction"):  # sqlite3
        return bool(connection.in_transaction)
    return bool(connection.info.transaction_status != 0)  # psycopg: 0 is IDLE


def test_sqlite_checkpoints_in_the_background(tmp_path: Path) -> None:
    """The store's own thread copies the WAL into the database file within a second or so,
    though no commit reached the writers' checkpoint size."""
    url = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'pc.db'}")
    migrate.upgrade(url)
    store = open_store(url)
    try:
        with store.unit_of_work(write=False) as uow:
            page = uow.cursor.execute("PRAGMA page_size").fetchone()[0]
            limit = uow.cursor.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
            assert limit * page == sqlite_store.WAL_LIMIT
        before = (tmp_path / "pc.db").stat().st_size
        customer = _customer("p")
        with store.unit_of_work(write=True) as uow:
            uow.customers.add(customer)
            for _ in range(200):
                uow.carts.add(CartRecord(**{**_fields(_cart(customer)), "body": b"x" * 8000}))
        assert (tmp_path / "pc.db-wal").stat().st_size < sqlite_store.WAL_LIMIT
        deadline = time.monotonic() + 10
        while (tmp_path / "pc.db").stat().st_size < before + 1_000_000:
            assert time.monotonic() < deadline, "the WAL was not checkpointed"
            time.sleep(0.1)
    finally:
        store.close()


def test_the_sqlite_wal_stays_bounded_under_steady_writes(tmp_path: Path) -> None:
    """Writes one after another, 40 MB of them, with the checkpoint thread running: the WAL
    starts over instead of growing (a checkpoint in another thread alone never lets it)."""
    url = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'pc.db'}")
    migrate.upgrade(url)
    store = open_store(url)
    wal = tmp_path / "pc.db-wal"
    try:
        customer = _customer("p")
        with store.unit_of_work(write=True) as uow:
            uow.customers.add(customer)
        largest = 0
        cut_back = 0
        for _ in range(5000):
            with store.unit_of_work(write=True) as uow:
                uow.carts.add(CartRecord(**{**_fields(_cart(customer)), "body": b"x" * 8000}))
            size = wal.stat().st_size
            cut_back += size < largest
            largest = max(largest, size)
        # One transaction past the limit before the writer checkpoints, plus a little.
        assert sqlite_store.WAL_LIMIT < largest < 2 * sqlite_store.WAL_LIMIT
        # The WAL started over about ten times, and its file kept the blocks it had grown into
        # (cut back to 4 MB each time, it would allocate them again past the limit).
        assert cut_back == 0
        with store.unit_of_work(write=False) as uow:
            assert uow.cursor.execute("SELECT count(*) FROM carts").fetchone()[0] == 5000
    finally:
        store.close()


def test_the_wal_flusher_syncs_a_wal_that_changed_and_skips_one_that_did_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wal = tmp_path / "pc.db-wal"
    synced: list[int] = []
    real_fdatasync = sqlite_store.os.fdatasync

    def recording(fd: int) -> None:
        synced.append(sqlite_store.os.fstat(fd).st_ino)
        real_fdatasync(fd)

    monkeypatch.setattr(sqlite_store.os, "fdatasync", recording)
    flusher = sqlite_store.WalFlusher(str(wal))
    try:
        assert flusher.flush() is False  # no WAL yet
        wal.write_bytes(b"a" * 4096)
        assert flusher.flush() is True
        assert synced == [wal.stat().st_ino]
        assert flusher.flush() is False  # nothing new
        with wal.open("ab") as f:  # appended
            f.write(b"b" * 4096)
        assert flusher.flush() is True
        time.sleep(0.05)  # past the clock's tick
        with wal.open("r+b") as f:  # rewritten from the start, same size
            f.write(b"c" * 4096)
        assert flusher.flush() is True
        wal.unlink()  # the WAL went away; a new one is opened on the next call
        assert flusher.flush() is False
        wal.write_bytes(b"d" * 4096)
        assert flusher.flush() is True
        assert flusher.flushes == 4
        assert synced[-1] == wal.stat().st_ino
        assert len(synced) == 4
    finally:
        flusher.close()


@pytest.mark.parametrize(("synchronous", "flushes"), [("normal", True), ("off", False)])
def test_the_store_syncs_its_wal_between_checkpoints_unless_it_never_syncs(
    tmp_path: Path, synchronous: str, flushes: bool
) -> None:
    url = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'pc.db'}")
    migrate.upgrade(url)
    store = sqlite_store.SqliteStore(str(tmp_path / "pc.db"), synchronous=synchronous)
    try:
        with store.unit_of_work(write=True) as uow:
            uow.customers.add(_customer("p"))
        if not flushes:
            time.sleep(0.2)
            assert store.wal_flushes is None
            return
        deadline = time.monotonic() + 10
        while not store.wal_flushes:
            assert time.monotonic() < deadline, "the WAL was never synced"
            time.sleep(0.01)
        time.sleep(0.1)  # a tick that fell inside the commit may see its last frames late
        settled = store.wal_flushes
        time.sleep(0.2)  # twenty ticks without a write: nothing to sync
        assert store.wal_flushes == settled
        with store.unit_of_work(write=True) as uow:
            uow.customers.add(_customer("q"))
        while store.wal_flushes == settled:
            assert time.monotonic() < deadline, "the new frames were not synced"
            time.sleep(0.01)
    finally:
        store.close()


def test_a_new_sqlite_database_gets_our_page_size_and_an_old_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    import sqlite3

    fresh = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'new' / 'pc.db'}")
    migrate.upgrade(fresh)
    older = tmp_path / "old.db"
    with sqlite3.connect(older) as conn:
        conn.execute("PRAGMA page_size=8192")
        conn.execute("CREATE TABLE before_us (x)")
    migrate.upgrade(DatabaseUrl.parse(f"sqlite:///{older}"))
    for path, size in ((tmp_path / "new" / "pc.db", migrate.SQLITE_PAGE_SIZE), (older, 8192)):
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA page_size").fetchone()[0] == size
            assert conn.execute("SELECT count(*) FROM carts").fetchone()[0] == 0
        finally:
            conn.close()


@pytest.mark.parametrize(
    ("setting", "pragma", "expected"),
    [
        ({"sqlite_sync": "normal"}, "synchronous", 1),
        ({"sqlite_sync": "off"}, "synchronous", 0),
        ({"sqlite_cache_mib": 2}, "cache_size", -2048),  # negative: KiB
        ({"sqlite_cache_mib": 128}, "cache_size", -131072),
    ],
)
def test_sqlite_settings_reach_each_threads_connection(
    tmp_path: Path, setting: dict[str, Any], pragma: str, expected: int
) -> None:
    url = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'pc.db'}")
    migrate.upgrade(url)
    store = open_store(url, **setting)
    seen: list[int] = []

    def read() -> None:
        with store.unit_of_work(write=False) as uow:
            seen.append(uow.cursor.execute(f"PRAGMA {pragma}").fetchone()[0])

    try:
        read()
        other = threading.Thread(target=read)
        other.start()
        other.join()
        assert seen == [expected, expected]
    finally:
        store.close()


def test_a_sqlite_page_cache_under_1_mib_is_refused(tmp_path: Path) -> None:
    url = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'pc.db'}")
    with pytest.raises(ValueError, match="page cache"):
        open_store(url, sqlite_cache_mib=0)


def test_an_unknown_sqlite_sync_setting_is_refused(tmp_path: Path) -> None:
    url = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'pc.db'}")
    with pytest.raises(ValueError, match="synchronous"):
        open_store(url, sqlite_sync="full")


@pytest.mark.postgres
def test_key_lookups_use_the_primary_key_even_in_a_generic_plan(pg_url: str) -> None:
    """A prepared statement's generic plan on a table without statistics must still find a
    row by its key, not scan every row of its owner through the owner's index."""
    url = DatabaseUrl.parse(pg_url)
    migrate.upgrade(url)
    store = open_store(url)
    try:
        customer = _customer("p")
        with store.unit_of_work(write=True) as uow:
            uow.customers.add(customer)
            for _ in range(32):
                uow.carts.add(_cart(customer))
    finally:
        store.close()
    key, owner = str(uuid.uuid4()), customer.id
    lookups: dict[str, tuple[str, tuple[Any, ...]]] = {}
    carts = SqlCarts(None, POSTGRES)
    lookups["customer"] = (SqlCustomers(None, POSTGRES)._get, (key, "p"))
    lookups["cart"] = (carts._get, (key, owner))
    lookups["cart for update"] = (carts._get_locked, (key, owner))
    lookups["cart with its customer"] = (carts._get_owned, (key, owner, "p"))
    lookups["cart update"] = (carts._update, ("Active", 2, b"{}", key, owner, 1))
    # GET cart's reads of one loop pass: every key through both primary keys.
    lookups["carts of one pass"] = (carts._get_owned_many, ([key, key], [owner, owner], ["p", "q"]))
    orders = SqlOrders(None, POSTGRES)
    lookups["order"] = (orders._get, (key, owner))
    lookups["order update"] = (orders._set_status, ("x", 2, key, owner, 1))
    subscriptions = SqlSubscriptions(None, POSTGRES)
    lookups["subscription"] = (subscriptions._get, (key, owner))
    # An order's subscriptions: by the order's own key, (order_id, line_item_number).
    lookups["subscriptions of an order"] = (subscriptions._for_order, (owner, key))
    with psycopg.connect(url.target, autocommit=True) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        for name, (sql, params) in lookups.items():
            plan = "\n".join(str(row[0]) for row in conn.execute("EXPLAIN " + sql, params))
            assert "_pkey" in plan or "uq_subscriptions_order_line" in plan, f"{name}:\n{plan}"
            assert "ix_" not in plan and "Seq Scan" not in plan, f"{name}:\n{plan}"


def test_db_commands_on_a_branch_an_unreachable_database_and_a_missing_file(
    tmp_path: Path,
) -> None:
    """`db upgrade` up one branch of the history and then the other stands at both (it
    printed a traceback and exited 1 after applying the migration), `db current` says so, and
    neither an unreachable server nor a mistyped file gets a traceback or a new empty file."""
    from click.testing import CliRunner

    from partnercart.cli.main import main as cli

    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'branch.db'}"
    for revision, shown in (("0002", "0002"), ("0003", "0002+0003"), ("head", migrate.head())):
        done = runner.invoke(cli, ["db", "upgrade", "--database", url, "--revision", revision])
        assert done.exit_code == 0, done.output
        assert done.output.strip().endswith(f"at revision {shown}")
    assert (
        f"current: {migrate.head()};"
        in runner.invoke(cli, ["db", "current", "--database", url]).output
    )
    typo = tmp_path / "typo.db"
    missing = runner.invoke(cli, ["db", "current", "--database", f"sqlite:///{typo}"])
    assert missing.exit_code == 1 and "no database at" in missing.output
    assert not typo.exists()
    down = runner.invoke(
        cli, ["db", "current", "--database", "postgresql://postgres@127.0.0.1:1/nothing"]
    )
    assert down.exit_code == 1 and "cannot read the schema version" in down.output
    assert isinstance(down.exception, SystemExit)  # a message, not a traceback


def test_a_domain_another_customer_of_the_partner_has_is_409(db_api: Api) -> None:
    """Partner Center refuses a customer whose domain is taken. Domains compare without case;
    another partner's customers do not count (partners see nothing of each other)."""
    first = db_api.new_customer(domain="Contoso.onmicrosoft.com")
    for domain in ("contoso.onmicrosoft.com", "CONTOSO.ONMICROSOFT.COM"):
        response = db_api.post("/v1/customers", json=customer_body(domain=domain))
        assert response.status_code == 409, response.text
        assert response.json() == {
            "code": 409,
            "description": f"The domain {domain} is already used by another customer of "
            "this partner.",
            "data": ["$.companyProfile.domain"],
            "source": "PartnerFD",
        }
    assert [c["id"] for c in db_api.get("/v1/customers").json()["items"]] == [first]
    other = db_api.as_partner(str(uuid.uuid4()))
    other.new_customer(domain="contoso.onmicrosoft.com")
    db_api.new_customer(domain="fabrikam.onmicrosoft.com")


def test_a_domain_taken_meanwhile_is_409_from_the_index(store_url: DatabaseUrl) -> None:
    """The check before the insert cannot see a customer another connection is making; the
    unique index refuses the second insert, and that is the same 409."""
    from partnercart.server.domain.errors import Conflict

    store = open_store(store_url)
    try:
        first = msgspec.structs.replace(_customer("p1"), domain="contoso.onmicrosoft.com")
        with store.unit_of_work(write=True) as uow:
            uow.customers.add(first)
            assert uow.customers.domain_taken("p1", "contoso.onmicrosoft.com")
            assert not uow.customers.domain_taken("p2", "contoso.onmicrosoft.com")
        again = msgspec.structs.replace(_customer("p1"), domain="contoso.onmicrosoft.com")
        with pytest.raises(Conflict) as raised, store.unit_of_work(write=True) as uow:
            uow.customers.add(again)
        assert raised.value.code == 409
        with store.unit_of_work(write=False) as uow:
            assert uow.customers.list("p1") == [first]
        # Records without a domain (made before it was kept) never clash.
        with store.unit_of_work(write=True) as uow:
            uow.customers.add(_customer("p1"))
            uow.customers.add(_customer("p1"))
    finally:
        store.close()


def test_migration_0006_keeps_each_partners_first_customer_of_a_domain(database_url: str) -> None:
    """Customers made before the rule keep their domains; a partner's later duplicates are left
    out of the index (they are not deleted), so the index can be made."""
    url = DatabaseUrl.parse(database_url)
    migrate.upgrade(url, "0005")

    def body(domain: str) -> bytes:
        return json.dumps({"companyProfile": {"domain": domain}}).encode()

    rows = [
        ("c1", "p1", 1, body("Contoso.onmicrosoft.com")),
        ("c2", "p1", 2, body("contoso.onmicrosoft.com")),
        ("c3", "p2", 3, body("contoso.onmicrosoft.com")),
        ("c4", "p1", 4, b"{}"),
    ]
    store = open_store(url)
    try:
        with store.unit_of_work(write=True) as uow:
            for row in rows:
                uow.cursor.execute(
                    uow.dialect.sql(
                        "INSERT INTO customers (id, partner_id, country, created_at, body) "
                        "VALUES (?, ?, 'US', ?, ?)"
                    ),
                    (row[0], row[1], row[2], row[3]),
                )
    finally:
        store.close()
    migrate.upgrade(url)
    store = open_store(url)
    try:
        with store.unit_of_work(write=False) as uow:
            found = {c.id: c.domain for p in ("p1", "p2") for c in uow.customers.list(p)}
            assert found == {
                "c1": "contoso.onmicrosoft.com",
                "c2": None,
                "c3": "contoso.onmicrosoft.com",
                "c4": None,
            }
    finally:
        store.close()
    migrate.downgrade(url, "0005")
    assert migrate.current(url) == "0005"
    migrate.upgrade(url)


def test_migration_0006_reads_customers_a_batch_at_a_time(database_url: str) -> None:
    """The migration holds one batch of customers' bodies at a time, not the whole table (on
    100k customers that was some 125 MiB on SQLite and 270 MiB on PostgreSQL), and a partner's first
    customer of a domain keeps it when its duplicates come in later batches."""
    url = DatabaseUrl.parse(database_url)
    migrate.upgrade(url, "0005")
    count = 4 * 1000 + 7
    padding = "x" * 10_000

    def body(i: int) -> bytes:
        profile = {"domain": f"D{i % 2000}.example.com"}
        return json.dumps({"companyProfile": profile, "padding": padding}).encode()

    store = open_store(url)
    try:
        with store.unit_of_work(write=True) as uow:
            insert = uow.dialect.sql(
                "INSERT INTO customers (id, partner_id, country, created_at, body) "
                "VALUES (?, 'p', 'US', ?, ?)"
            )
            # Ids run against creation order: the first made of a domain is the later id.
            for i in range(count):
                uow.cursor.execute(insert, (f"c{count - i:05d}", i, body(i)))
    finally:
        store.close()
    total = count * len(body(0))
    tracemalloc.start()
    try:
        migrate.upgrade(url)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < total / 2, (peak, total)
    store = open_store(url)
    try:
        with store.unit_of_work(write=False) as uow:
            kept = {c.id: c.domain for c in uow.customers.list("p") if c.domain is not None}
    finally:
        store.close()
    assert kept == {f"c{count - i:05d}": f"d{i}.example.com" for i in range(2000)}
