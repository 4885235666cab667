"""``partnercart``: run the server, get tokens, drive the API from a shell."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

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
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
def serve(
    host: str, port: int, database: str | None, data_dir: Path, no_migrate: bool, log_level: str
) -> None:
    """Run the Partner Center API server."""
    import uvicorn

    from partnercart.server.http.app import create_app
    from partnercart.server.runtime import build_runtime
    from partnercart.server.settings import Settings
    from partnercart.server.storage import DatabaseUrl

    settings = Settings(
        database=database, data_dir=data_dir, host=host, port=port, migrate_on_start=not no_migrate
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
    sys.stdout.flush()
    try:
        uvicorn.run(
            create_app(runtime), host=host, port=port, log_level=log_level, access_log=False
        )
    finally:
        runtime.close()


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


@main.group()
def db() -> None:
    """Database chores: fill a database for benchmarks and demos."""


@db.command("seed")
@click.option("--carts", required=True, type=click.IntRange(min=0), help="How many carts to add.")
@click.option(
    "--customers",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="Customers the carts are spread over.",
)
@click.option(
    "--partner",
    default=None,
    help="The partner tenant (a GUID) owning them; a new random one when not given.",
)
@click.option("--lines", default=3, show_default=True, type=click.IntRange(1, 100))
@click.option("--batch", default=5000, show_default=True, type=click.IntRange(min=1))
@click.option("--database", default=None, help="As for `serve` (default: SQLite in --data-dir).")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path(".partnercart"),
    show_default=True,
    help=DATA_DIR_HELP,
)
def db_seed(
    carts: int,
    customers: int,
    partner: str | None,
    lines: int,
    batch: int,
    database: str | None,
    data_dir: Path,
) -> None:
    """Add CARTS valid carts (and their customers) straight to the database, with a progress bar.

    Prints the partner id; `partnercart token --tenant <it>` gives a token that can read them.
    """
    import uuid

    from rich.progress import MofNCompleteColumn, Progress, TimeRemainingColumn

    from partnercart.server.domain.ids import is_guid
    from partnercart.server.runtime import build_runtime
    from partnercart.server.settings import Settings
    from partnercart.server.storage.seed import seed

    if partner is not None and not is_guid(partner):
        raise click.BadParameter("the partner must be a GUID", param_hint="--partner")
    partner_id = (partner or str(uuid.uuid4())).lower()
    try:
        runtime = build_runtime(Settings(database=database, data_dir=data_dir))
    except Exception as exc:  # a bad URL, an unreachable database
        raise click.ClickException(f"cannot open the database: {exc}") from exc
    try:
        columns = (
            *Progress.get_default_columns()[:-1],
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task("seeding carts", total=carts)
            summary = seed(
                runtime.services,
                partner_id=partner_id,
                carts=carts,
                customers=customers,
                lines=lines,
                batch=batch,
                progress=lambda n: bar.advance(task, n),
            )
    finally:
        runtime.close()
    click.echo(
        f"seeded {summary.carts} carts over {summary.customers} customers "
        f"for partner {summary.partner_id}"
    )


if __name__ == "__main__":  # pragma: no cover
    main()
