"""Server settings: read once in ``main`` and handed to the factories; never global."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path(".partnercart")
DEFAULT_BODY_LIMIT = 1024 * 1024  # 1 MiB; see docs/decisions.md
#: the ``iss`` of the emulator's own tokens; ``{tenantid}`` stands for the partner tenant
EMULATOR_ISSUER = "https://login.partnercart.local/{tenantid}/v2.0"


@dataclass(frozen=True, slots=True)
class AuthSettings:
    """``emulator``: we sign and publish our own keys. ``external``: trust a configured issuer."""

    mode: str = "emulator"
    #: the ``iss`` a token must have (and, in emulator mode, the one issued tokens get);
    #: ``{tenantid}`` stands for the token's ``tid``.
    issuer: str = EMULATOR_ISSUER
    #: further issuers to trust (external mode: Entra ID's v1 and v2 issuer forms, say).
    extra_issuers: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ("https://api.partnercenter.microsoft.com",)
    token_lifetime: dt.timedelta = dt.timedelta(hours=1)
    leeway: dt.timedelta = dt.timedelta(seconds=60)
    #: external mode: a JWKS file or URL with the issuer's public keys.
    jwks: str | None = None
    #: emulator mode: a JSON file of the applications allowed to get tokens (and their
    #: secrets); ``None`` lets any application id with any non-empty secret in.
    clients_file: Path | None = None
    #: guards the control routes; never a partner token. ``None``: read from (or made in)
    #: ``<data_dir>/admin-key``.
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

    def database_url(self) -> str:
        if self.database:
            return self.database
        return f"sqlite:///{(self.data_dir / 'partnercart.db').as_posix()}"
