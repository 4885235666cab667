"""``partnercart``: run the server, get tokens, drive the API from a shell."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from partnercart import __version__

DATA_DIR_HELP = "Where the SQLite file and the signing key live (default: ./.partnercart)."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="partnercart")
def main() -> None:
    """partnercart: the Partner Center cart, checkout and order API, for testing automation.

    \b
    1. Start a server:     partnercart serve
    2. Pick a partner id:  export PARTNERCART_TENANT=$(uuidgen)   (any GUID)
    3. Drive the API:      partnercart customers create
                           partnercart carts create CUSTOMER_ID --catalog-item P:S:A
                           partnercart carts checkout CUSTOMER_ID CART_ID

    Every API command takes --server (env PARTNERCART_URL, default http://127.0.0.1:8400),
    --tenant (env PARTNERCART_TENANT) or --token (env PARTNERCART_TOKEN), and --json for
    output a script can read. Run `partnercart COMMAND --help` for examples.
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", default=8400, show_default=True, type=click.IntRange(0, 65535), help="TCP port."
)
@click.option(
    "--database",
    default=None,
    help="sqlite:///FILE or postgresql://USER@HOST:PORT/DB (default: SQLite in --data-dir).",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path(".partnercart"),
    show_default=True,
    help=DATA_DIR_HELP,
)
@click.option("--no-migrate", is_flag=True, help="Do not apply database migrations on start.")
@click.option(
    "--catalog",
    "catalog_files",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A catalog JSON file laid over the default catalog (repeatable, applied in order).",
)
@click.option(
    "--catalog-replace",
    is_flag=True,
    help="Serve only the --catalog files, without the default catalog.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port (use PostgreSQL for more than a few).",
)
@click.option(
    "--loop",
    "event_loop",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "uvloop", "asyncio"]),
    help="Event loop: auto takes uvloop when installed. asyncio serves a burst of new "
    "connections to a busy server sooner, at some cost in throughput (docs/decisions.md).",
)
@click.option(
    "--seed",
    default=None,
    type=int,
    help="Deterministic mode: ids from this seed (one stream per partner tenant).",
)
@click.option(
    "--frozen-at",
    default=None,
    help="Deterministic mode: every partner's clock stands at this instant (2026-01-01T00:00:00Z).",
)
@click.option("--no-request-log", is_flag=True, help="Do not record requests for /_partnercart.")
@click.option(
    "--sqlite-sync",
    default="normal",
    show_default=True,
    type=click.Choice(["normal", "off"]),
    help="SQLite only. normal: a crash of the server loses nothing, a power cut at most the "
    "last commits. off: no fsync at all, faster writes, for a throwaway data dir only (a power "
    "cut or OS crash may corrupt the file).",
)
@click.option(
    "--sqlite-cache-mib",
    default=2,
    show_default=True,
    type=click.IntRange(1, 65536),
    help="SQLite only. Each database connection's page cache, in MiB; it fills as pages are "
    "read. Larger keeps a big file's hot pages in memory and makes commits slower.",
)
@click.option(
    "--pool-size",
    default=10,
    show_default=True,
    type=click.IntRange(1, 500),
    help="PostgreSQL only: connections each server process keeps, and as many threads run its "
    "database work (with --workers N, N times as many connections).",
)
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option(
    "--provisioning-delay",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds a new order stays pending before it completes and its subscriptions exist.",
)
@click.option(
    "--rate-limit",
    default=None,
    metavar="N[/SECONDS]",
    help="At most N requests per SECONDS (default 60) per partner; 429 beyond.",
)
@click.option(
    "--rate-limit-preset",
    type=click.Choice(["orders"]),
    default=None,
    help="A documented limit: orders = 500 requests a minute per partner.",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="One JSON line per request on stderr (logger partnercart.access).",
)
@click.option(
    "--auth",
    "auth_mode",
    default="emulator",
    show_default=True,
    type=click.Choice(["emulator", "external"]),
    help="emulator: sign and check our own tokens; external: check tokens of --issuer.",
)
@click.option(
    "--issuer",
    "issuers",
    multiple=True,
    help="Trusted token issuer ({tenantid} stands for the token's tid); repeat for more. "
    "Needed with --auth external.",
)
@click.option(
    "--audience",
    "audiences",
    multiple=True,
    help="Accepted token audience; repeat for more (default: https://api.partnercenter.microsoft.com).",
)
@click.option("--jwks", default=None, help="External mode: the issuer's JWKS, a file or a URL.")
@click.option(
    "--clients",
    "clients_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Emulator mode: JSON file of the applications (id, secret, tenants) that may get "
    "tokens; without it any application id and secret may.",
)
@click.option(
    "--admin-key",
    envvar="PARTNERCART_ADMIN_KEY",
    default=None,
    help="Key for the /_partnercart control routes (default: made in <data-dir>/admin-key).",
)
def serve(
    host: str,
    port: int,
    database: str | None,
    data_dir: Path,
    no_migrate: bool,
    workers: int,
    event_loop: str,
    catalog_files: tuple[Path, ...],
    catalog_replace: bool,
    seed: int | None,
    frozen_at: str | None,
    no_request_log: bool,
    sqlite_sync: str,
    sqlite_cache_mib: int,
    pool_size: int,
    log_level: str,
    provisioning_delay: float,
    rate_limit: str | None,
    rate_limit_preset: str | None,
    access_log: bool,
    auth_mode: str,
    issuers: tuple[str, ...],
    audiences: tuple[str, ...],
    jwks: str | None,
    clients_file: Path | None,
    admin_key: str | None,
) -> None:
    """Run the Partner Center API server."""
    import dataclasses

    import uvicorn

    from partnercart.schema.timefmt import parse_timestamp
    from partnercart.server.control.clocks import ClockOutOfRange, check_instant
    from partnercart.server.http.accesslog import configure_access_log
    from partnercart.server.http.app import create_app
    from partnercart.server.http.protocols import PartnerCenterHttpTools
    from partnercart.server.runtime import build_runtime
    from partnercart.server.settings import (
        RATE_LIMIT_PRESETS,
        AuthSettings,
        Settings,
        parse_rate_limit,
    )
    from partnercart.server.storage import DatabaseUrl

    if rate_limit and rate_limit_preset:
        raise click.UsageError("give --rate-limit or --rate-limit-preset, not both")
    limit: tuple[int, float] | None = None
    if rate_limit_preset:
        limit = RATE_LIMIT_PRESETS[rate_limit_preset]
    elif rate_limit:
        try:
            limit = parse_rate_limit(rate_limit)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--rate-limit") from exc
    if auth_mode == "external" and (not issuers or not jwks):
        raise click.UsageError("--auth external needs --issuer and --jwks")
    if auth_mode == "emulator" and jwks:
        raise click.UsageError("--jwks is for --auth external")
    auth = AuthSettings(mode=auth_mode, jwks=jwks, clients_file=clients_file, admin_key=admin_key)
    if issuers:
        auth = dataclasses.replace(auth, issuer=issuers[0], extra_issuers=issuers[1:])
    if audiences:
        auth = dataclasses.replace(auth, audiences=audiences)
    if seed is not None and workers > 1:
        raise click.ClickException("deterministic mode (--seed) needs a single worker")
    frozen: dt.datetime | None = None
    if frozen_at is not None:
        try:
            frozen = check_instant(parse_timestamp(frozen_at))
        except ClockOutOfRange as exc:
            raise click.BadParameter(str(exc), param_hint="--frozen-at") from None
        except ValueError:
            raise click.BadParameter(
                "use an ISO-8601 instant such as 2026-01-01T00:00:00Z", param_hint="--frozen-at"
            ) from None
    if access_log:  # past every check of the options: nothing is configured for a refusal
        configure_access_log()
    settings = Settings(
        database=database,
        data_dir=data_dir,
        host=host,
        port=port,
        migrate_on_start=not no_migrate,
        catalog_files=catalog_files,
        catalog_replace=catalog_replace,
        provisioning_delay=dt.timedelta(seconds=provisioning_delay),
        rate_limit=limit[0] if limit else None,
        rate_window=limit[1] if limit else 60.0,
        access_log=access_log,
        auth=auth,
        seed=seed,
        frozen_at=frozen,
        request_log=not no_request_log,
        sqlite_sync=sqlite_sync,
        sqlite_cache_mib=sqlite_cache_mib,
        sqlite_group_writes=workers == 1,
        pool_size=pool_size,
    )
    try:
        url = DatabaseUrl.parse(settings.database_url())
        runtime = build_runtime(settings)
    except Exception as exc:  # a bad URL, an unreachable database, an unreadable key
        raise click.ClickException(f"cannot start: {exc}") from exc
    if seed is not None and _has_data(runtime):
        runtime.close()
        # The seeded id streams start again at every start: on old data they would repeat ids.
        raise click.ClickException(
            "deterministic mode (--seed) needs an empty database: use a fresh --data-dir "
            "or --database"
        )
    where = f"SQLite file {Path(url.target).resolve()}" if url.engine == "sqlite" else f"{url}"
    click.echo(f"partnercart {__version__} listening on http://{host}:{port}")
    click.echo(f"data: {where}")
    if auth_mode == "emulator":
        click.echo(f"signing key in {data_dir.resolve()}")
        click.echo(f"token: partnercart token --tenant <partner-guid> --data-dir {data_dir}")
    else:
        click.echo(f"tokens from {', '.join(issuers)}; keys from {jwks}")
    click.echo(f"dashboard: http://{host}:{port}/_partnercart/ui")
    click.echo(f"admin key: {_key_hint(settings)}")
    if seed is not None or frozen is not None:
        click.echo(f"deterministic: seed {seed}, clocks frozen at {frozen_at}")
    if workers > 1:
        click.echo(f"workers: {workers} processes")
    sys.stdout.flush()
    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": False,
        # Our middleware adds Date on every answer; uvicorn's would duplicate it.
        "date_header": False,
        # On SIGTERM/SIGINT: stop accepting, finish the requests in flight, then exit.
        "timeout_graceful_shutdown": 30,
        "loop": event_loop,
        # A request uvicorn cannot parse gets the Partner Center error body, not plain text.
        "http": PartnerCenterHttpTools,
    }
    from partnercart.server.watchdog import from_environment

    from_environment()  # a test run's server ends with the run, even one that is killed
    if workers == 1:
        from partnercart.server.http.factory import prepare_serving

        try:
            # The app closes the runtime when it shuts down: on SIGTERM or SIGINT uvicorn raises
            # the signal again once it has stopped, so the process ends inside uvicorn.run and
            # the finally below runs only when uvicorn itself fails (a port in use).
            app = create_app(runtime, owns_runtime=True)
            prepare_serving(app)
            uvicorn.run(app, **common)
        finally:
            runtime.close()
        return
    import os

    from partnercart.server.http.factory import SETTINGS_ENV
    from partnercart.server.settings import settings_to_json

    runtime.close()
    os.environ[SETTINGS_ENV] = settings_to_json(settings).decode()
    uvicorn.run(
        "partnercart.server.http.factory:app_from_environment",
        factory=True,
        workers=workers,
        **common,
    )


def _has_data(runtime: Any) -> bool:
    from partnercart.server.control.store import rows

    with runtime.services.store.unit_of_work(write=False) as uow:
        return bool(rows(uow, "SELECT 1 FROM customers LIMIT 1"))


def _key_hint(settings: Any) -> str:
    from partnercart.server.identity.keys import admin_key_file

    if settings.auth.admin_key:
        return "as given"
    return str(admin_key_file(settings.data_dir).resolve())


@main.command()
@click.option("--tenant", required=True, help="The partner tenant id (a GUID) the token is for.")
@click.option("--client-id", default="00000000-0000-0000-0000-0000000000a1", show_default=True)
@click.option("--user", "user_oid", default=None, help="Make an App+User token for this user oid.")
@click.option("--upn", default=None, help="The user's UPN (App+User tokens).")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path(".partnercart"),
    show_default=True,
    help=DATA_DIR_HELP,
)
@click.option(
    "--lifetime", default=3600, show_default=True, type=click.IntRange(min=1), help="Seconds."
)
@click.option(
    "--issuer",
    default=None,
    help="The issuer the server was started with (default: the emulator's).",
)
@click.option(
    "--audience",
    default="https://api.partnercenter.microsoft.com",
    show_default=True,
    help="The token's audience (one the server accepts).",
)
def token(
    tenant: str,
    client_id: str,
    user_oid: str | None,
    upn: str | None,
    data_dir: Path,
    lifetime: int,
    issuer: str | None,
    audience: str,
) -> None:
    """Print a bearer token signed with the server's key (emulator mode).

    App-only by default; --user and/or --upn make an App+User token (with --upn alone the
    user's object id is derived from the UPN, as the token endpoint does). Use it as
    `Authorization: Bearer <token>`; run with the server's --data-dir.
    """
    from partnercart.server.domain.ids import is_guid
    from partnercart.server.identity.keys import SigningKey
    from partnercart.server.identity.tokens import TokenIssuer, user_object_id
    from partnercart.server.settings import EMULATOR_ISSUER

    if not is_guid(tenant):
        raise click.BadParameter("the tenant must be a GUID", param_hint="--tenant")
    if not is_guid(client_id):
        raise click.BadParameter("the client id must be a GUID", param_hint="--client-id")
    if user_oid is not None and not is_guid(user_oid):
        raise click.BadParameter("the user's object id must be a GUID", param_hint="--user")
    if upn is not None and user_oid is None:
        user_oid = user_object_id(tenant, upn)
    key = SigningKey.load_or_create(data_dir)
    signer = TokenIssuer(
        key, issuer=issuer or EMULATOR_ISSUER, lifetime=dt.timedelta(seconds=lifetime)
    )
    click.echo(
        signer.issue(
            tenant_id=tenant.lower(),
            client_id=client_id.lower(),
            now=dt.datetime.now(dt.UTC),
            user_oid=user_oid.lower() if user_oid else None,
            upn=upn,
            audience=audience,
        )
    )


def _register_api_commands() -> None:
    from partnercart.cli._common import EXIT_CODES_HELP
    from partnercart.cli.carts import carts
    from partnercart.cli.catalog import catalog
    from partnercart.cli.customers import customers
    from partnercart.cli.db import db
    from partnercart.cli.orders import orders

    for group in (customers, carts, orders, catalog, db):
        main.add_command(group)
    main.epilog = EXIT_CODES_HELP


_register_api_commands()

from partnercart.cli.control import control  # noqa: E402

main.add_command(control)

if __name__ == "__main__":  # pragma: no cover
    main()
