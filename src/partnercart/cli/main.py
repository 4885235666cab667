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

    Start a server with `partnercart serve`, get a token with `partnercart token --tenant T`,
    then call http://127.0.0.1:8400/v1/... as you would call Partner Center.
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
@click.option(
    "--admin-key",
    default=None,
    envvar="PARTNERCART_ADMIN_KEY",
    help="The key for /_partnercart control routes (default: DATA_DIR/admin-key, made on start).",
)
@click.option("--no-request-log", is_flag=True, help="Do not record requests for /_partnercart.")
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def serve(
    host: str,
    port: int,
    database: str | None,
    data_dir: Path,
    no_migrate: bool,
    workers: int,
    seed: int | None,
    frozen_at: str | None,
    admin_key: str | None,
    no_request_log: bool,
    log_level: str,
) -> None:
    """Run the Partner Center API server."""
    import uvicorn

    from partnercart.schema.timefmt import parse_timestamp
    from partnercart.server.http.app import create_app
    from partnercart.server.runtime import build_runtime
    from partnercart.server.settings import AuthSettings, Settings
    from partnercart.server.storage import DatabaseUrl

    if seed is not None and workers > 1:
        raise click.ClickException("deterministic mode (--seed) needs a single worker")
    frozen: dt.datetime | None = None
    if frozen_at is not None:
        try:
            frozen = parse_timestamp(frozen_at)
        except ValueError:
            raise click.BadParameter(
                "use an ISO-8601 instant such as 2026-01-01T00:00:00Z", param_hint="--frozen-at"
            ) from None
    settings = Settings(
        database=database,
        data_dir=data_dir,
        host=host,
        port=port,
        migrate_on_start=not no_migrate,
        auth=AuthSettings(admin_key=admin_key),
        seed=seed,
        frozen_at=frozen,
        request_log=not no_request_log,
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
    click.echo(f"data: {where}; signing key in {data_dir.resolve()}")
    click.echo(f"token: partnercart token --tenant <partner-guid> --data-dir {data_dir}")
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


def _has_data(runtime: Any) -> bool:
    from partnercart.server.control.store import rows

    with runtime.services.store.unit_of_work(write=False) as uow:
        return bool(rows(uow, "SELECT 1 FROM customers LIMIT 1"))


def _key_hint(settings: Any) -> str:
    from partnercart.server.control.adminkey import key_file

    if settings.auth.admin_key:
        return "as given"
    return str(key_file(settings.data_dir).resolve())


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


from partnercart.cli.db import db  # noqa: E402

main.add_command(db)

from partnercart.cli.control import control  # noqa: E402

main.add_command(control)

if __name__ == "__main__":  # pragma: no cover
    main()
