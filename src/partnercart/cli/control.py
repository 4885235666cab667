"""``partnercart control ...``: drive a running server's control plane (``/_partnercart``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from partnercart.cli._common import (
    EXIT_AUTH,
    EXIT_BAD_INPUT,
    EXIT_CONFLICT,
    EXIT_NOT_FOUND,
    EXIT_SERVER,
)

DEFAULT_URL = "http://127.0.0.1:8400"


class ControlError(click.ClickException):
    """A failed control call, with the exit code of the CLI's table (``partnercart --help``)
    instead of click's 1, which the table keeps for bugs."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        # click declares ``exit_code`` on the class (1); this instance carries its own.
        self.exit_code = exit_code  # type: ignore[misc]


def exit_code_for_status(status: int) -> int:
    if status in (401, 403):
        return EXIT_AUTH
    if status == 404:
        return EXIT_NOT_FOUND
    if status in (409, 412):
        return EXIT_CONFLICT
    if 400 <= status < 500 and status != 429:
        return EXIT_BAD_INPUT
    return EXIT_SERVER


class ControlClient:
    """Plain HTTP calls to the control routes with the admin key."""

    def __init__(self, url: str, admin_key: str) -> None:
        self.url = url.rstrip("/")
        self.admin_key = admin_key

    def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        import httpx

        headers = {"X-Partnercart-Admin-Key": self.admin_key}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response = httpx.request(
                method,
                f"{self.url}/_partnercart{path}",
                json=json_body,
                content=content,
                params={k: v for k, v in (params or {}).items() if v is not None},
                headers=headers,
                timeout=30,
            )
        except httpx.TransportError as exc:
            raise ControlError(f"cannot reach {self.url}: {exc}", EXIT_SERVER) from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("description") or response.text
            except ValueError:
                detail = response.text
            raise ControlError(
                f"{response.status_code}: {detail}", exit_code_for_status(response.status_code)
            )
        return response.json() if response.content else None


def _key(admin_key: str | None, data_dir: Path) -> str:
    if admin_key:
        return admin_key
    from partnercart.server.identity.keys import read_admin_key

    found = read_admin_key(data_dir)
    if not found:
        raise ControlError(
            f"no admin key: pass --admin-key, set PARTNERCART_ADMIN_KEY, or point --data-dir "
            f"at the server's data directory (no {data_dir / 'admin-key'})",
            EXIT_AUTH,
        )
    return found


def _partner_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--partner ""`` (what ``$(...)`` gives when the step before failed) is refused: left
    out, the option means every partner, and a reset would delete them all."""
    if value is not None and not value.strip():
        raise click.BadParameter("is empty; name a partner tenant id, or leave the option out")
    return value


def _print(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False))


@click.group()
@click.option("--url", default=DEFAULT_URL, show_default=True, envvar="PARTNERCART_URL")
@click.option("--admin-key", default=None, envvar="PARTNERCART_ADMIN_KEY")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path(".partnercart"),
    show_default=True,
    help="Where to read the admin key when --admin-key is not given.",
)
@click.pass_context
def control(ctx: click.Context, url: str, admin_key: str | None, data_dir: Path) -> None:
    """The emulator's control plane: reset, seed, clocks, faults, the request log."""
    ctx.obj = _Lazy(url, admin_key, data_dir)


class _Lazy:
    def __init__(self, url: str, admin_key: str | None, data_dir: Path) -> None:
        self._args = (url, admin_key, data_dir)
        self._client: ControlClient | None = None

    @property
    def client(self) -> ControlClient:
        if self._client is None:
            url, admin_key, data_dir = self._args
            self._client = ControlClient(url, _key(admin_key, data_dir))
        return self._client


def _client(ctx: click.Context) -> ControlClient:
    lazy: _Lazy = ctx.obj
    return lazy.client


@control.command()
@click.option(
    "--partner", default=None, callback=_partner_option, help="Reset only this partner tenant."
)
@click.pass_context
def reset(ctx: click.Context, partner: str | None) -> None:
    """Delete everything, or everything one partner tenant owns."""
    path = f"/partners/{partner}/reset" if partner else "/reset"
    _print(_client(ctx).call("POST", path))


@control.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def seed(ctx: click.Context, file: Path) -> None:
    """Create the customers and carts in FILE (JSON or YAML); print their ids."""
    yaml = file.suffix.lower() in (".yaml", ".yml")
    _print(
        _client(ctx).call(
            "POST",
            "/seed",
            content=file.read_bytes(),
            content_type="application/yaml" if yaml else "application/json",
        )
    )


@control.command()
@click.pass_context
def partners(ctx: click.Context) -> None:
    """The partner tenants the emulator knows."""
    _print(_client(ctx).call("GET", "/partners"))


@control.group()
def clock() -> None:
    """A partner tenant's virtual clock."""


@clock.command("show")
@click.argument("partner")
@click.pass_context
def clock_show(ctx: click.Context, partner: str) -> None:
    """Print the partner's clock."""
    _print(_client(ctx).call("GET", f"/partners/{partner}/clock"))


@clock.command("set")
@click.argument("partner")
@click.argument("instant")
@click.option("--frozen/--running", default=None, help="Also freeze it, or let it run.")
@click.pass_context
def clock_set(ctx: click.Context, partner: str, instant: str, frozen: bool | None) -> None:
    """Set the partner's clock to INSTANT (2026-01-01T00:00:00Z)."""
    body: dict[str, Any] = {"now": instant}
    if frozen is not None:
        body["frozen"] = frozen
    _print(_client(ctx).call("PUT", f"/partners/{partner}/clock", json_body=body))


@clock.command("advance")
@click.argument("partner")
@click.argument("duration")
@click.pass_context
def clock_advance(ctx: click.Context, partner: str, duration: str) -> None:
    """Move the partner's clock by an ISO-8601 DURATION (P7D, PT1H30M)."""
    _print(
        _client(ctx).call(
            "POST", f"/partners/{partner}/clock/advance", json_body={"duration": duration}
        )
    )


@clock.command("freeze")
@click.argument("partner")
@click.pass_context
def clock_freeze(ctx: click.Context, partner: str) -> None:
    """Stop the partner's clock where it is."""
    _print(_client(ctx).call("POST", f"/partners/{partner}/clock/freeze"))


@clock.command("unfreeze")
@click.argument("partner")
@click.pass_context
def clock_unfreeze(ctx: click.Context, partner: str) -> None:
    """Let the partner's clock run again from where it stands."""
    _print(_client(ctx).call("POST", f"/partners/{partner}/clock/unfreeze"))


@control.group()
def faults() -> None:
    """Fault rules."""


@faults.command("list")
@click.option("--partner", default=None, callback=_partner_option)
@click.pass_context
def faults_list(ctx: click.Context, partner: str | None) -> None:
    """List the rules (spent ones too)."""
    _print(_client(ctx).call("GET", "/faults", params={"partner": partner}))


@faults.command("add")
@click.option(
    "--action",
    type=click.Choice(["status", "latency", "drop", "apply_then_status", "apply_then_drop"]),
    default="status",
    show_default=True,
)
@click.option(
    "--partner", default=None, callback=_partner_option, help="Only this partner tenant's calls."
)
@click.option("--customer", default=None, help="Only calls on this customer.")
@click.option("--method", default=None, help="Only this HTTP method.")
@click.option("--route", default=None, help="A route template or glob (/v1/customers/*/carts*).")
@click.option("--nth", default=1, show_default=True, type=int, help="First fire on this call.")
@click.option("--times", default=None, type=int, help="Fire this many times (default: always).")
@click.option("--status", default=500, show_default=True, type=int)
@click.option("--code", default=None, type=int, help="Partner Center error code.")
@click.option("--description", default=None)
@click.option("--retry-after", default=1, show_default=True, type=int, help="Seconds (429).")
@click.option("--latency-ms", default=0, show_default=True, type=int)
@click.pass_context
def faults_add(ctx: click.Context, /, **options: Any) -> None:
    """Add a rule; print it with its id."""
    body = {
        "action": options["action"],
        "partner": options["partner"],
        "customer": options["customer"],
        "method": options["method"],
        "route": options["route"],
        "nth": options["nth"],
        "times": options["times"],
        "status": options["status"],
        "code": options["code"],
        "description": options["description"],
        "retryAfter": options["retry_after"],
        "latencyMs": options["latency_ms"],
    }
    _print(_client(ctx).call("POST", "/faults", json_body=body))


@faults.command("delete")
@click.argument("rule_id")
@click.pass_context
def faults_delete(ctx: click.Context, rule_id: str) -> None:
    """Delete one rule."""
    _client(ctx).call("DELETE", f"/faults/{rule_id}")
    click.echo(f"deleted {rule_id}")


@faults.command("clear")
@click.option("--partner", default=None, callback=_partner_option)
@click.pass_context
def faults_clear(ctx: click.Context, partner: str | None) -> None:
    """Delete every rule (of one partner)."""
    _print(_client(ctx).call("DELETE", "/faults", params={"partner": partner}))


@control.command()
@click.option("--partner", default=None, callback=_partner_option)
@click.option("--limit", default=20, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the full entries as JSON.")
@click.pass_context
def requests(ctx: click.Context, partner: str | None, limit: int, as_json: bool) -> None:
    """The most recent requests, newest first (one line each; --json: the entries)."""
    found = _client(ctx).call("GET", "/requests", params={"partner": partner, "limit": limit})
    if as_json:
        _print(found)  # an empty log is still JSON: {"items": []}
        return
    if not found["items"]:
        click.echo(f"no requests logged for partner {partner}" if partner else "no requests logged")
        return
    for item in found["items"]:
        status = "dropped" if item.get("dropped") else item.get("status")
        notes = []
        if item.get("fault"):
            notes.append(f"fault {item.get('faultAction')} {item['fault'][:8]}")
        if item.get("replayed"):
            notes.append("replay")
        sys.stdout.write(
            f"{item['at']}  {item['method']:6} {item['path']}  {status}  "
            f"{item['durationMs']:.1f} ms  {'; '.join(notes)}\n"
        )
