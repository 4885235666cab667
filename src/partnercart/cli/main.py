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
@click.option("--port", default=8400, show_default=True, type=int, help="TCP port.")
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
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port (use PostgreSQL for more than a few).",
)
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
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
def serve(
    host: str,
    port: int,
    database: str | None,
    data_dir: Path,
    no_migrate: bool,
    workers: int,
    log_level: str,
    rate_limit: str | None,
    rate_limit_preset: str | None,
    access_log: bool,
) -> None:
    """Run the Partner Center API server."""
    import uvicorn

    from partnercart.server.http.accesslog import configure_access_log
    from partnercart.server.http.app import create_app
    from partnercart.server.runtime import build_runtime
    from partnercart.server.settings import RATE_LIMIT_PRESETS, Settings, parse_rate_limit
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
    if access_log:
        configure_access_log()
    settings = Settings(
        database=database,
        data_dir=data_dir,
        host=host,
        port=port,
        migrate_on_start=not no_migrate,
        rate_limit=limit[0] if limit else None,
        rate_window=limit[1] if limit else 60.0,
        access_log=access_log,
    )
    try:
        url = DatabaseUrl.parse(settings.database_url())
        runtime = build_runtime(settings)
    except Exception as exc:  # a bad URL, an unreachable database, an unreadable key
        raise click.ClickException(f"cannot start: {exc}") from exc
    where = f"SQLite file {Path(url.target).resolve()}" if url.engine == "sqlite" else f"{url}"
    click.echo(f"partnercart {__version__} listening on http://{host}:{port}")
    click.echo(f"data: {where}; signing key in {data_dir.resolve()}")
    click.echo(f"token: partnercart token --tenant <partner-guid> --data-dir {data_dir}")
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
    }
    if workers == 1:
        try:
            uvicorn.run(create_app(runtime), **common)
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
@click.option("--lifetime", default=3600, show_default=True, type=int, help="Seconds.")
def token(
    tenant: str,
    client_id: str,
    user_oid: str | None,
    upn: str | None,
    data_dir: Path,
    lifetime: int,
) -> None:
    """Print a bearer token signed with the server's key (emulator mode)."""
    from partnercart.server.domain.ids import is_guid
    from partnercart.server.identity.keys import SigningKey
    from partnercart.server.identity.tokens import TokenIssuer
    from partnercart.server.settings import AuthSettings

    if not is_guid(tenant):
        raise click.BadParameter("the tenant must be a GUID", param_hint="--tenant")
    key = SigningKey.load_or_create(data_dir)
    issuer = TokenIssuer(key, issuer=AuthSettings().issuer, lifetime=dt.timedelta(seconds=lifetime))
    click.echo(
        issuer.issue(
            tenant_id=tenant.lower(),
            client_id=client_id,
            now=dt.datetime.now(dt.UTC),
            user_oid=user_oid,
            upn=upn,
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

if __name__ == "__main__":  # pragma: no cover
    main()
