"""Everything a running server holds, built from settings in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from partnercart.server.batching import PassBatcher
from partnercart.server.catalog import load_catalog
from partnercart.server.control.clocks import ClockSource
from partnercart.server.control.faults import FaultBook
from partnercart.server.domain.clock import Clock, SystemClock
from partnercart.server.domain.ids import IdSource, RandomIds, SeededIds
from partnercart.server.domain.orders import OrderPolicy
from partnercart.server.domain.records import CartRecord
from partnercart.server.identity.clients import ClientRegistry
from partnercart.server.identity.jwks import open_jwks
from partnercart.server.identity.keys import SigningKey, load_or_create_admin_key
from partnercart.server.identity.tokens import (
    KeySet,
    KeySource,
    TokenIssuer,
    TokenPolicy,
    TokenVerifier,
)
from partnercart.server.services.carts import find_owned_carts
from partnercart.server.services.context import Services
from partnercart.server.settings import EMULATOR_ISSUER, Settings
from partnercart.server.storage import DatabaseUrl, open_store
from partnercart.server.storage.ports import Store
from partnercart.server.threads import StoreThreads


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    services: Services
    verifier: TokenVerifier
    issuer: TokenIssuer | None
    signing_key: SigningKey | None
    wall_clock: Clock
    #: emulator mode: who may get tokens from the token endpoint
    clients: ClientRegistry
    #: the control plane's credential (never a partner token)
    #: each partner tenant's virtual clock (the control plane's clock routes move them).
    clocks: ClockSource
    #: the fault rules this process applies.
    faults: FaultBook
    admin_key: str
    #: where blocking store work runs (PostgreSQL): one thread per pooled connection.
    threads: StoreThreads
    #: GET cart's joined reads, the ones of one loop pass in one statement (PostgreSQL);
    #: ``None`` when the store reads inline (SQLite).
    cart_reads: CartReads | None = None

    def close(self) -> None:
        self.threads.close()
        self.services.store.close()


def build_runtime(
    settings: Settings, *, clock: Clock | None = None, ids: IdSource | None = None
) -> Runtime:
    # The catalog first: a bad catalog file stops the start before anything is opened.
    catalog = load_catalog(settings.catalog_files, replace=settings.catalog_replace)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    auth = settings.auth
    policy = TokenPolicy(
        issuer=auth.issuer,
        audiences=auth.audiences,
        leeway=auth.leeway,
        extra_issuers=auth.extra_issuers,
    )
    clients = ClientRegistry()
    keys: KeySource
    if auth.mode == "emulator":
        signing = SigningKey.load_or_create(settings.data_dir)
        key: SigningKey | None = signing
        keys = KeySet({signing.kid: signing.public})
        issuer: TokenIssuer | None = TokenIssuer(
            signing, issuer=auth.issuer, lifetime=auth.token_lifetime
        )
        if auth.clients_file is not None:
            clients = ClientRegistry.load(auth.clients_file)
    elif auth.mode == "external":
        if not auth.jwks:
            raise ValueError("external auth mode needs a JWKS file or URL (--jwks)")
        if auth.issuer == EMULATOR_ISSUER:
            raise ValueError("external auth mode needs the trusted issuer (--issuer)")
        key, keys, issuer = None, open_jwks(auth.jwks), None
    else:
        raise ValueError(f"unknown auth mode {auth.mode!r}: use emulator or external")
    admin_key = auth.admin_key or load_or_create_admin_key(settings.data_dir)
    if len(admin_key) < 16:
        raise ValueError("the admin key must be at least 16 characters long")
    url = DatabaseUrl.parse(settings.database_url())
    if settings.migrate_on_start:
        from partnercart.server.storage import migrate

        migrate.upgrade(url)
    store = open_store(
        url,
        pool_size=settings.pool_size,
        sqlite_sync=settings.sqlite_sync,
        sqlite_group_writes=settings.sqlite_group_writes,
        sqlite_cache_mib=settings.sqlite_cache_mib,
    )
    orders = OrderPolicy(
        provisioning_delay=settings.provisioning_delay,
        cancellation_window=settings.cancellation_window,
        max_subscriptions_per_customer=settings.max_subscriptions_per_customer,
    )
    if ids is None:
        ids = SeededIds(settings.seed) if settings.seed is not None else RandomIds()
    source: IdSource = ids
    services = Services(
        store=store,
        clock=clock or SystemClock(),
        ids=source,
        catalog=catalog,
        orders=orders,
    )
    threads = StoreThreads(settings.pool_size)
    return Runtime(
        settings=settings,
        services=services,
        verifier=TokenVerifier(keys, policy),
        issuer=issuer,
        signing_key=key,
        wall_clock=SystemClock(),
        clients=clients,
        admin_key=admin_key,
        clocks=ClockSource(store, base=services.clock, frozen_at=settings.frozen_at),
        faults=FaultBook(store),
        threads=threads,
        cart_reads=cart_reads(store, threads) if store.blocking else None,
    )


CartKey = tuple[str, str, str]
CartReads = PassBatcher[CartKey, tuple[bool, CartRecord | None]]


def cart_reads(store: Store, threads: StoreThreads) -> CartReads:
    """GET cart's joined reads asked for in one loop pass, run as one statement on a store
    thread (see server/batching.py)."""

    def fetch(keys: Sequence[CartKey]) -> list[tuple[bool, CartRecord | None]]:
        with store.unit_of_work(write=False, snapshot=False) as uow:
            return find_owned_carts(uow, keys)

    return PassBatcher(fetch, threads.run)
