"""``partnercart db``: schema versions, and seeding a database for benchmarks and demos."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from partnercart.server.storage import DatabaseUrl


def _url(database: str | None, data_dir: Path) -> DatabaseUrl:
    from partnercart.server.settings import Settings
    from partnercart.server.storage import DatabaseUrl

    try:
        return DatabaseUrl.parse(Settings(database=database, data_dir=data_dir).database_url())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--database") from exc


database_option = click.option(
    "--database", default=None, help="sqlite:///FILE or postgresql://USER@HOST:PORT/DB."
)
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path(".partnercart"),
    show_default=True,
    help="Where the default SQLite file lives.",
)


@click.group()
def db() -> None:
    """Database schema: upgrade it, or see which version it is at."""


@db.command()
@database_option
@data_dir_option
@click.option("--revision", default="head", show_default=True)
def upgrade(database: str | None, data_dir: Path, revision: str) -> None:
    """Apply migrations up to REVISION (the latest by default)."""
    from partnercart.server.storage import migrate

    url = _url(database, data_dir)
    if url.engine == "sqlite":
        Path(url.target).parent.mkdir(parents=True, exist_ok=True)
    try:
        migrate.upgrade(url, revision)
    except Exception as exc:
        raise click.ClickException(f"migration failed: {exc}") from exc
    click.echo(f"{url}: at revision {_current(url)}")


def _current(url: DatabaseUrl) -> str:
    """The database's revision as text; a click error (no traceback) when it cannot be read."""
    from partnercart.server.storage import migrate

    try:
        return migrate.current(url) or "empty"
    except Exception as exc:  # a database that cannot be reached or read
        raise click.ClickException(f"cannot read the schema version of {url}: {exc}") from exc


@db.command()
@database_option
@data_dir_option
def current(database: str | None, data_dir: Path) -> None:
    """Print the schema revision of the database and the latest one."""
    from partnercart.server.storage import migrate

    url = _url(database, data_dir)
    if url.engine == "sqlite" and not Path(url.target).exists():
        # Asking must not make an empty file (which the next command would take as the data).
        raise click.ClickException(f"no database at {url.target}: check --database or --data-dir")
    click.echo(f"current: {_current(url)}; latest: {migrate.head()}")


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
@database_option
@data_dir_option
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
    from partnercart.server.services.seed import seed
    from partnercart.server.settings import Settings

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
