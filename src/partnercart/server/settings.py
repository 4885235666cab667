"""Server settings: read once in ``main`` and handed to the factories; never global."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path(".partnercart")
DEFAULT_BODY_LIMIT = 1024 * 1024  # 1 MiB; see docs/decisions.md
#: the ``iss`` of the emulator's own tokens; ``{tenantid}`` stands for the partner tenant
EMULATOR_ISSUER = "https://login.partnercart.local/{tenantid}/v2.0"

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
    #: how long a new order stays ``pending`` on the server's clock before it is ``completed``
    provisioning_delay: dt.timedelta = dt.timedelta(seconds=30)
    #: how long after purchase a one-time order may still be cancelled with PATCH order
    cancellation_window: dt.timedelta = dt.timedelta(days=30)
    #: live subscriptions a customer may hold; a checkout group past it fails (800066)
    max_subscriptions_per_customer: int | None = None
    #: at most ``rate_limit`` requests per ``rate_window`` seconds per partner (None: no limit)
    rate_limit: int | None = None
    rate_window: float = 60.0
    #: one JSON line per request on the ``partnercart.access`` logger (INFO)
    access_log: bool = True
    #: catalog files laid over the default catalog, in order (or replacing it, see below).
    catalog_files: tuple[Path, ...] = ()
    #: serve only ``catalog_files``, without the default catalog.
    catalog_replace: bool = False
    #: deterministic mode: ids from this seed (per partner stream) ...
    seed: int | None = None
    #: ... and every partner's clock frozen at this instant until told otherwise.
    frozen_at: dt.datetime | None = None
    #: keep the request log (``/_partnercart/requests``) in the database.
    request_log: bool = True
    #: SQLite's ``synchronous``: ``normal`` (WAL synced at each checkpoint: a power cut may
    #: lose the last commits, never the file) or ``off`` (no fsync: a throwaway data dir only).
    sqlite_sync: str = "normal"
    #: SQLite: the writes of one pass of the event loop share one commit. ``serve --workers
    #: N`` turns it off: a group holds the file's write lock for a whole pass, and the other
    #: processes, polling for it, starved (PUT p99 1.5 s with two; docs/decisions.md).
    sqlite_group_writes: bool = True
    #: SQLite: each connection's page cache, in MiB (SQLite's own default, about 2 MiB). A
    #: larger one keeps a big file's hot pages in process memory, where the kernel's page cache
    #: on some virtual machines does not stay, but makes every commit slower (docs/decisions.md,
    #: "SQLite's page cache: a knob, not a default").
    sqlite_cache_mib: int = 2

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
