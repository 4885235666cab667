"""Everything a running server holds, built from settings in one place."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from partnercart.server.control import adminkey
from partnercart.server.control.clocks import ClockSource
from partnercart.server.control.faults import FaultBook
from partnercart.server.domain.clock import Clock, SystemClock
from partnercart.server.domain.ids import IdSource, RandomIds, SeededIds
from partnercart.server.identity.keys import SigningKey
from partnercart.server.identity.tokens import KeySet, TokenIssuer, TokenPolicy, TokenVerifier
from partnercart.server.services.context import Services
from partnercart.server.settings import Settings
from partnercart.server.storage import DatabaseUrl, open_store


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    services: Services
    verifier: TokenVerifier
    issuer: TokenIssuer | None
    signing_key: SigningKey | None
    wall_clock: Clock
    #: each partner tenant's virtual clock (the control plane's clock routes move them).
    clocks: ClockSource
    #: the fault rules this process applies.
    faults: FaultBook
    #: the credential the control routes require.
    admin_key: str

    def close(self) -> None:
        self.services.store.close()


def _external_keys(source: str) -> KeySet:
    if source.startswith(("http://", "https://")):
        import httpx

        response = httpx.get(source, timeout=10)
        response.raise_for_status()
        return KeySet.from_jwks(response.json())
    return KeySet.from_jwks(json.loads(Path(source).read_text()))


def build_runtime(
    settings: Settings, *, clock: Clock | None = None, ids: IdSource | None = None
) -> Runtime:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = DatabaseUrl.parse(settings.database_url())
    if settings.migrate_on_start:
        from partnercart.server.storage import migrate

        migrate.upgrade(url)
    store = open_store(url, pool_size=settings.pool_size)
    auth = settings.auth
    policy = TokenPolicy(issuer=auth.issuer, audiences=auth.audiences, leeway=auth.leeway)
    if auth.mode == "emulator":
        key = SigningKey.load_or_create(settings.data_dir)
        keys = KeySet({key.kid: key.public})
        issuer: TokenIssuer | None = TokenIssuer(
            key, issuer=auth.issuer, lifetime=auth.token_lifetime
        )
    elif auth.mode == "external":
        if not auth.jwks:
            raise ValueError("external auth mode needs a JWKS file or URL")
        key, keys, issuer = None, _external_keys(auth.jwks), None
    else:
        raise ValueError(f"unknown auth mode {auth.mode!r}: use emulator or external")
    if ids is None:
        ids = SeededIds(settings.seed) if settings.seed is not None else RandomIds()
    services = Services(store=store, clock=clock or SystemClock(), ids=ids)
    return Runtime(
        settings=settings,
        services=services,
        verifier=TokenVerifier(keys, policy),
        issuer=issuer,
        signing_key=key,
        wall_clock=SystemClock(),
        clocks=ClockSource(store, base=services.clock, frozen_at=settings.frozen_at),
        faults=FaultBook(store),
        admin_key=auth.admin_key or adminkey.load_or_create(settings.data_dir),
    )
