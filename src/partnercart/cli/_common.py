"""What every API command shares: how to reach the server, how to print, how to fail.

Exit codes (also in ``partnercart --help``):

====  =====================================================================
0     success
1     an unexpected error (a bug: please report it)
2     usage: a missing or invalid option or argument
3     authentication or permission: 401 / 403, or no token could be obtained
4     not found: 404
5     conflict: 409 / 412 (the resource changed or is busy)
6     bad input: 400 and friends, or a request file that cannot be read
7     server or network: 5xx, 429 after retries, timeouts, unreachable server
====  =====================================================================
"""

from __future__ import annotations

import codecs
import functools
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx
import msgspec
import yaml
from rich.console import Console
from rich.table import Table

from partnercart.client import (
    AsyncPartnerCenter,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PartnercartCredential,
    PartnerCenter,
    PartnerCenterError,
    PreconditionFailedError,
    RetryPolicy,
    TokenCredential,
    UnauthorizedError,
)
from partnercart.client._credentials import DEFAULT_CLIENT_ID
from partnercart.schema.codec import CodecError, convert

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_SERVER = "http://127.0.0.1:8400"

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_NOT_FOUND = 4
EXIT_CONFLICT = 5
EXIT_BAD_INPUT = 6
EXIT_SERVER = 7

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 unexpected error; 2 usage; 3 authentication or permission "
    "(401/403); 4 not found (404); 5 conflict (409/412); 6 bad input (400, unreadable "
    "request file); 7 server or network (5xx, 429, timeout)."
)


def exit_code_for(error: PartnerCenterError) -> int:
    if isinstance(error, UnauthorizedError | ForbiddenError):
        return EXIT_AUTH
    if isinstance(error, NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, ConflictError | PreconditionFailedError):
        return EXIT_CONFLICT
    if isinstance(error, BadRequestError):
        return EXIT_BAD_INPUT
    return EXIT_SERVER


class InputFileError(Exception):
    """A request file that cannot be read or is not the expected resource."""


@dataclass(frozen=True, slots=True)
class Connection:
    server: str
    tenant: str | None
    token: str | None
    client_id: str
    client_secret: str
    timeout: float
    retries: int
    as_json: bool
    #: Tests hand a transport in through ``CliRunner.invoke(..., obj={"transport": ...})``.
    transport: httpx.MockTransport | None = None

    def credential(self) -> TokenCredential | str:
        if self.token:
            return self.token
        if self.tenant:
            return PartnercartCredential(
                self.server, self.tenant, self.client_id, self.client_secret
            )
        raise click.UsageError(
            "say who you are: --tenant PARTNER_GUID (or PARTNERCART_TENANT) to get a token "
            "from the partnercart server, or --token TOKEN (or PARTNERCART_TOKEN)."
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.retries + 1)

    def client(self) -> PartnerCenter:
        return PartnerCenter(
            self.server,
            self.credential(),
            timeout=self.timeout,
            retry=self.retry_policy(),
            transport=self.transport,
        )

    def async_client(self) -> AsyncPartnerCenter:
        return AsyncPartnerCenter(
            self.server,
            self.credential(),
            timeout=self.timeout,
            retry=self.retry_policy(),
            transport=self.transport,
        )


def _connection_options(func: F) -> F:
    options = [
        click.option(
            "--server",
            envvar="PARTNERCART_URL",
            default=DEFAULT_SERVER,
            show_default=True,
            help="Base URL of the API (env PARTNERCART_URL).",
        ),
        click.option(
            "--tenant",
            envvar="PARTNERCART_TENANT",
            default=None,
            help="Your partner tenant id (a GUID); a token is fetched from the server's "
            "token endpoint (env PARTNERCART_TENANT).",
        ),
        click.option(
            "--token",
            envvar="PARTNERCART_TOKEN",
            default=None,
            help="A bearer token to use as is, instead of --tenant (env PARTNERCART_TOKEN).",
        ),
        click.option(
            "--client-id",
            envvar="PARTNERCART_CLIENT_ID",
            default=DEFAULT_CLIENT_ID,
            show_default=True,
            help="Application id sent to the token endpoint (env PARTNERCART_CLIENT_ID).",
        ),
        click.option(
            "--client-secret",
            envvar="PARTNERCART_CLIENT_SECRET",
            default="partnercart",
            show_default=True,
            help="Application secret sent to the token endpoint (env PARTNERCART_CLIENT_SECRET).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=60.0,
            show_default=True,
            help="Seconds to wait for each HTTP attempt.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(0, 10),
            default=3,
            show_default=True,
            help="Retries after a network error, 429 or 5xx (never after other errors).",
        ),
        click.option(
            "--json", "as_json", is_flag=True, help="Print JSON (for scripts) instead of tables."
        ),
    ]

    def holder() -> None: ...

    for option in reversed(options):
        holder = option(holder)
    # Click lists decorator parameters in reverse; putting these first makes them show last in
    # --help, after the command's own arguments and options.
    own = getattr(func, "__click_params__", [])
    func.__click_params__ = [*holder.__click_params__, *own]  # type: ignore[attr-defined]
    return func


def api_command(group: click.Group, name: str, **kwargs: Any) -> Callable[[F], F]:
    """Register ``func(conn, ...)`` under ``group`` with the connection options, and turn
    client errors into a message on stderr and an exit code."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(
            server: str,
            tenant: str | None,
            token: str | None,
            client_id: str,
            client_secret: str,
            timeout: float,
            retries: int,
            as_json: bool,
            **params: Any,
        ) -> None:
            root = click.get_current_context().find_root().obj
            transport = root.get("transport") if isinstance(root, dict) else None
            conn = Connection(
                server=server.rstrip("/"),
                tenant=tenant,
                token=token,
                client_id=client_id,
                client_secret=client_secret,
                timeout=timeout,
                retries=retries,
                as_json=as_json,
                transport=transport,
            )
            try:
                func(conn, **params)
            except PartnerCenterError as exc:
                fail(str(exc), exit_code_for(exc))
            except InputFileError as exc:
                fail(str(exc), EXIT_BAD_INPUT)
            except ValueError as exc:
                # What the SDK refuses before sending anything: an empty id, a country that
                # is not two letters. A usage error, like a bad option.
                fail(str(exc), EXIT_USAGE)

        command = group.command(name, **kwargs)(_connection_options(wrapper))
        return command  # type: ignore[return-value]

    return decorate


def fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


# --- input ---------------------------------------------------------------------------------


def load_document(path: Path) -> Any:
    """A JSON or YAML file as plain data (YAML is a superset of JSON; ``.json`` is read as
    JSON for exact error positions)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    text = _text_of(path, raw)
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InputFileError(f"{path} is not valid JSON or YAML: {exc}") from None


#: Byte order marks, longest first: a file that starts with one is read in that encoding
#: (Windows PowerShell 5 writes UTF-16 with a mark when output is redirected to a file).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _text_of(path: Path, raw: bytes) -> str:
    """A request file's text: UTF-8, or the encoding its byte order mark names."""
    encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), "utf-8")
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path} is not {encoding.upper().removesuffix('-SIG')} text (byte {exc.start} "
            "cannot be read): save it as UTF-8"
        ) from None


def load_resource(path: Path, type_: type[T]) -> T:
    """A request body from a file, read the way the service reads it: any key casing, any enum
    spelling, server-owned fields ignored (so the output of ``get --json`` can be edited and
    sent back)."""
    document = load_document(path)
    try:
        return convert(document, type_, drop_server_owned=True)
    except CodecError as exc:
        raise InputFileError(f"{path}: {exc.message}") from None


# --- output --------------------------------------------------------------------------------


def console(*, stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 200
    return Console(file=stream, width=width, highlight=False, soft_wrap=False)


def print_json(value: Any) -> None:
    click.echo(msgspec.json.format(msgspec.json.encode(value), indent=2).decode())


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    result = Table(title=title, title_justify="left", show_lines=False)
    for name in columns:
        result.add_column(name, no_wrap=True, overflow="ignore")
    for row in rows:
        result.add_row(*("" if cell is None else str(cell) for cell in row))
    return result


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    console().print(table(title, columns, rows))


def print_fields(title: str, fields: Sequence[tuple[str, Any]]) -> None:
    grid = Table(title=title, title_justify="left", show_header=False, box=None)
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(no_wrap=True, overflow="ignore")
    for name, value in fields:
        grid.add_row(name, "" if value is None else str(value))
    console().print(grid)


def enum_text(value: Any) -> str:
    return "" if value is None else str(getattr(value, "value", value))
