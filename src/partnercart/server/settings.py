"""Server settings: read once in ``main`` and handed to the factories; never global."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path(".partnercart")
DEFAULT_BODY_LIMIT = 1024 * 1024  # 1 MiB; see docs/decisions.md


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """``emulator``: we sign and publish our own keys. ``external``: trust a configured issuer."""

    mode: str = "emulator"
    #: emulator mode: the ``iss`` of issued tokens; ``{tenantid}`` is replaced by the tenant.
    issuer: str = "https://login.partnercart.local/{tenantid}/v2.0"
    audiences: tuple[str, ...] = ("https://api.partnercenter.microsoft.com",)
    token_lifetime: dt.timedelta = dt.timedelta(hours=1)
    leeway: dt.timedelta = dt.timedelta(seconds=60)
    #: external mode: a JWKS file or URL with the issuer's public keys.
    jwks: str | None = None
    #: guards the control routes; never a partner token.
    admin_key: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    database: str | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    host: str = "127.0.0.1"
    port: int = 8400
    body_limit: int = DEFAULT_BODY_LIMIT
    migrate_on_start: bool = True
    pool_size: int = 10
    auth: AuthSettings = field(default_factory=AuthSettings)
    #: catalog files laid over the default catalog, in order (or replacing it, see below).
    catalog_files: tuple[Path, ...] = ()
    #: serve only ``catalog_files``, without the default catalog.
    catalog_replace: bool = False

    def database_url(self) -> str:
        if self.database:
            return self.database
        return f"sqlite:///{(self.data_dir / 'partnercart.db').as_posix()}"
