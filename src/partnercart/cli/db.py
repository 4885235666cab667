"""``partnercart db``: schema versions."""

from __future__ import annotations

from pathlib import Path

import click


def _url(database: str | None, data_dir: Path) -> object:
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
    from partnercart.server.storage import DatabaseUrl, migrate

    url = _url(database, data_dir)
    assert isinstance(url, DatabaseUrl)
    if url.engine == "sqlite":
        Path(url.target).parent.mkdir(parents=True, exist_ok=True)
    try:
        migrate.upgrade(url, revision)
    except Exception as exc:
        raise click.ClickException(f"migration failed: {exc}") from exc
    click.echo(f"{url}: at revision {migrate.current(url)}")


@db.command()
@database_option
@data_dir_option
def current(database: str | None, data_dir: Path) -> None:
    """Print the schema revision of the database and the latest one."""
    from partnercart.server.storage import DatabaseUrl, migrate

    url = _url(database, data_dir)
    assert isinstance(url, DatabaseUrl)
    click.echo(f"current: {migrate.current(url) or 'empty'}; latest: {migrate.head()}")
