"""Server settings: read once in ``main`` and handed to the factories; never global."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path(".partnercart")
DEFAULT_BODY_LIMIT = 1024 * 1024  # 1 MiB; see docs/decisions.md

#: Named rate limits (requests, seconds): "orders" is the documented 500 a minute per tenant.
RATE_LIMIT_PRESETS: dict[str, tuple[int, float]] = {"orders": (500, 60.0)}


def parse_rate_limit(text: str) -> tuple[int, float]:
    """``N`` (per minute) or ``N/SECONDS``, e.g. ``500``, ``500/60``, ``10/1.5``."""
    count, _, window = text.strip().partition("/")
    try:
        limit = int(count)
        seconds = float(window) if window else 60.0
    except ValueError:
        raise ValueError(f"expected N or N/SECONDS, got {text!r}") from None
    if limit < 1 or not seconds > 0:
        raise ValueError(f"the limit and the window must be positive, got {text!r}")
    return limit, seconds


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
    #: at most ``rate_limit`` requests per ``rate_window`` seconds per partner (None: no limit)
    rate_limit: int | None = None
    rate_window: float = 60.0
    #: one JSON line per request on the ``partnercart.access`` logger (INFO)
    access_log: bool = True

    def database_url(self) -> str:
        if self.database:
            return self.database
        return f"sqlite:///{(self.data_dir / 'partnercart.db').as_posix()}"


def settings_to_json(settings: Settings) -> bytes:
    """Settings for a worker process (``serve --workers N`` passes them in the environment)."""
    import msgspec

    return msgspec.json.encode(settings, enc_hook=lambda v: str(v) if isinstance(v, Path) else v)


def settings_from_json(data: bytes | str) -> Settings:
    import msgspec

    def dec_hook(type_: type, value: object) -> object:
        if type_ is Path and isinstance(value, str):
            return Path(value)
        raise NotImplementedError(type_)

    return msgspec.json.decode(data, type=Settings, dec_hook=dec_hook)
