"""``/_partnercart/...``: the emulator's control plane (admin credential on every data route).

Thin handlers: check the admin key, parse, run one control operation in one unit of work,
answer JSON.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import uuid
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from partnercart.schema.timefmt import format_timestamp, parse_timestamp
from partnercart.server.control import clocks, faults, requestlog, reset, seed, views
from partnercart.server.control.clocks import ClockState
from partnercart.server.control.durations import parse_duration
from partnercart.server.domain.errors import BadRequest, Conflict, NotFound
from partnercart.server.domain.ids import is_guid
from partnercart.server.http import media
from partnercart.server.http.admin import require_admin
from partnercart.server.http.calls import in_unit_of_work
from partnercart.server.http.parts import parts_of
from partnercart.server.runtime import Runtime
from partnercart.server.storage.failures import INTEGRITY_ERRORS
from partnercart.server.storage.ports import UnitOfWork

T = TypeVar("T")

_encoder = msgspec.json.Encoder()


def _json(value: Any, status: int = 200) -> Response:
    return Response(
        _encoder.encode(value), status_code=status, media_type="application/json; charset=utf-8"
    )


async def _admin(request: Request) -> Runtime:
    require_admin(request)
    return parts_of(request).runtime


async def _body(request: Request, type_: type[T]) -> T:
    data = await media.read_body(request)
    if not data.strip():
        data = b"{}"
    try:
        return msgspec.json.decode(data, type=type_)
    except msgspec.ValidationError as exc:
        raise BadRequest(f"Invalid request body: {exc}.") from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.") from None


def _partner(request: Request) -> str:
    partner_id = str(request.path_params["partner_id"])
    if not is_guid(partner_id):
        raise BadRequest(f"{partner_id!r} is not a partner tenant id (a GUID).", data=["partner"])
    return partner_id.lower()


def _query_partner(request: Request) -> str | None:
    value = request.query_params.get("partner")
    if value is None:
        return None
    if not value.strip():  # not "every partner": a DELETE would clear them all
        raise BadRequest(
            "partner is empty: name a partner tenant id, or leave the parameter out.",
            data=["partner"],
        )
    if not is_guid(value):
        raise BadRequest(f"{value!r} is not a partner tenant id (a GUID).", data=["partner"])
    return value.lower()


# Reset and seed.


class ResetRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    partner: str | None = None


async def reset_all(request: Request) -> Response:
    runtime = await _admin(request)
    body = await _body(request, ResetRequest)
    partner_id = None
    if body.partner is not None:
        if not is_guid(body.partner):
            raise BadRequest("partner must be a partner tenant id (a GUID).", data=["partner"])
        partner_id = body.partner.lower()
    return await _reset(request, runtime, partner_id)


async def reset_partner(request: Request) -> Response:
    runtime = await _admin(request)
    return await _reset(request, runtime, _partner(request))


RESET_ATTEMPTS = 5


async def _reset(request: Request, runtime: Runtime, partner_id: str | None) -> Response:
    # Entries still waiting belong to the time before the reset: this process writes its own
    # first; other processes are told to write theirs promptly, as for a reader (an entry of
    # theirs may still land after the reset, within a second or two).
    await parts_of(request).request_log_buffer.before_reading()
    for attempt in range(RESET_ATTEMPTS):
        try:
            deleted = await in_unit_of_work(
                runtime, functools.partial(reset.reset, partner_id=partner_id), write=True
            )
            break
        except INTEGRITY_ERRORS:
            # A customer made on another connection while the reset ran got rows of its own
            # before the reset reached it: nothing was deleted (the transaction rolled back);
            # run it again, which finds those rows too.
            if attempt == RESET_ATTEMPTS - 1:
                raise Conflict(
                    "The reset kept meeting writes of the same partner; retry it.", code=800064
                ) from None
    runtime.clocks.invalidate(partner_id)
    runtime.faults.invalidate()
    return _json({"partner": partner_id, "deleted": deleted})


async def seed_data(request: Request) -> Response:
    runtime = await _admin(request)
    data = await media.read_body(request)
    document = seed.parse_document(data, request.headers.get("content-type", ""))
    created = await in_unit_of_work(
        runtime,
        functools.partial(
            seed.seed, document=document, clocks=runtime.clocks, services=runtime.services
        ),
        write=True,
    )
    return _json(created, 201)


# Read views for the dashboard.


async def list_partners(request: Request) -> Response:
    runtime = await _admin(request)
    return _json({"items": await in_unit_of_work(runtime, views.partners, write=False)})


async def partner_customers(request: Request) -> Response:
    runtime = await _admin(request)
    partner_id = _partner(request)
    items = await in_unit_of_work(
        runtime, functools.partial(views.customers, partner_id=partner_id), write=False
    )
    return _json({"partner": partner_id, "items": items})


async def partner_carts(request: Request) -> Response:
    runtime = await _admin(request)
    partner_id = _partner(request)

    def read(uow: UnitOfWork) -> list[dict[str, Any]]:
        now = runtime.clocks.state(uow, partner_id).now(runtime.clocks.base)
        return views.carts(uow, partner_id, now=now)

    return _json(
        {"partner": partner_id, "items": await in_unit_of_work(runtime, read, write=False)}
    )


async def partner_orders(request: Request) -> Response:
    runtime = await _admin(request)
    partner_id = _partner(request)

    def read(uow: UnitOfWork) -> dict[str, Any]:
        now = runtime.clocks.state(uow, partner_id).now(runtime.clocks.base)
        return views.orders(uow, partner_id, now=now)

    return _json({"partner": partner_id, **await in_unit_of_work(runtime, read, write=False)})


# The clock.


def _clock_body(partner_id: str, state: ClockState, runtime: Runtime) -> dict[str, Any]:
    now = state.now(runtime.clocks.base)
    offset = None if state.frozen else state.offset.total_seconds()
    return {
        "partner": partner_id,
        "now": format_timestamp(now),
        "frozen": state.frozen,
        "offsetSeconds": offset,
        "stored": state.stored,
    }


async def _change_clock(
    request: Request, runtime: Runtime, change: Callable[[ClockState, Runtime], ClockState]
) -> Response:
    partner_id = _partner(request)

    def work(uow: UnitOfWork) -> ClockState:
        state = change(runtime.clocks.state_for_change(uow, partner_id), runtime)
        try:
            clocks.checked(state, runtime.clocks.base)
        except clocks.ClockOutOfRange as exc:  # refused before anything is saved
            raise BadRequest(str(exc), data=["now"]) from None
        clocks.save(uow, partner_id, state, now=runtime.wall_clock.now())
        return state

    state = await in_unit_of_work(runtime, work, write=True)
    runtime.clocks.invalidate(partner_id)
    return _json(_clock_body(partner_id, state, runtime))


async def get_clock(request: Request) -> Response:
    runtime = await _admin(request)
    partner_id = _partner(request)
    state = await in_unit_of_work(
        runtime, functools.partial(runtime.clocks.state, partner_id=partner_id), write=False
    )
    return _json(_clock_body(partner_id, state, runtime))


class SetClock(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    now: str
    frozen: bool | None = None


def _instant(text: str) -> dt.datetime:
    """The instant asked for, in UTC, if a clock may show it: checked here as well as after
    the change (:func:`_change_clock`), because an instant at the calendar's edge cannot even
    be subtracted from the base clock to make a running clock's offset."""
    try:
        moment = parse_timestamp(text)
    except (ValueError, TypeError):
        raise BadRequest(
            f"{text!r} is not an ISO-8601 instant; use for example 2026-01-01T00:00:00Z.",
            data=["now"],
        ) from None
    try:
        return clocks.check_instant(moment)
    except clocks.ClockOutOfRange as exc:
        raise BadRequest(str(exc), data=["now"]) from None


async def set_clock(request: Request) -> Response:
    runtime = await _admin(request)
    body = await _body(request, SetClock)
    moment = _instant(body.now)

    def change(state: ClockState, runtime: Runtime) -> ClockState:
        base = runtime.clocks.base
        if body.frozen is not None and body.frozen != state.frozen:
            state = clocks.frozen(state, base) if body.frozen else clocks.running(state, base)
        return clocks.set_to(state, moment, base)

    return await _change_clock(request, runtime, change)


class Advance(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    duration: str


async def advance_clock(request: Request) -> Response:
    runtime = await _admin(request)
    body = await _body(request, Advance)
    duration = parse_duration(body.duration)

    def change(state: ClockState, runtime: Runtime) -> ClockState:
        return clocks.advanced(state, duration, runtime.clocks.base)

    return await _change_clock(request, runtime, change)


async def freeze_clock(request: Request) -> Response:
    runtime = await _admin(request)
    return await _change_clock(
        request, runtime, lambda state, runtime: clocks.frozen(state, runtime.clocks.base)
    )


async def unfreeze_clock(request: Request) -> Response:
    runtime = await _admin(request)
    return await _change_clock(
        request, runtime, lambda state, runtime: clocks.running(state, runtime.clocks.base)
    )


# Fault rules.


async def list_faults(request: Request) -> Response:
    runtime = await _admin(request)
    partner_id = _query_partner(request)
    items = await in_unit_of_work(
        runtime, functools.partial(faults.list_rules, partner_id=partner_id), write=False
    )
    return _json({"items": items})


async def add_fault(request: Request) -> Response:
    runtime = await _admin(request)
    spec = await _body(request, faults.FaultSpec)
    now = runtime.wall_clock.now()
    templates = [
        route.path
        for route in getattr(request.scope.get("app"), "routes", ())
        if isinstance(route, Route) and not route.path.startswith("/_partnercart")
    ]
    checked = faults.validate(spec, rule_id=str(uuid.uuid4()), now=now, templates=templates)

    def store(uow: UnitOfWork) -> faults.FaultRule:
        rule = faults.owned(uow, checked)
        faults.add(uow, rule=rule, now=now)
        return rule

    rule = await in_unit_of_work(runtime, store, write=True)
    runtime.faults.invalidate()
    return _json(rule, 201)


async def delete_fault(request: Request) -> Response:
    runtime = await _admin(request)
    rule_id = str(request.path_params["rule_id"])
    deleted = await in_unit_of_work(
        runtime, functools.partial(faults.delete, rule_id=rule_id), write=True
    )
    if not deleted:
        raise NotFound(f"No fault rule {rule_id}.")
    runtime.faults.invalidate()
    return Response(status_code=204)


async def delete_faults(request: Request) -> Response:
    runtime = await _admin(request)
    partner_id = _query_partner(request)
    count = await in_unit_of_work(
        runtime, functools.partial(faults.delete_all, partner_id=partner_id), write=True
    )
    runtime.faults.invalidate()
    return _json({"deleted": count})


# The request log.


async def list_requests(request: Request) -> Response:
    runtime = await _admin(request)
    partner_id = _query_partner(request)
    raw = request.query_params.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= requestlog.KEEP:
        raise BadRequest(f"limit must be between 1 and {requestlog.KEEP}.", data=["limit"])
    await parts_of(request).request_log_buffer.before_reading()
    items = await in_unit_of_work(
        runtime,
        functools.partial(requestlog.recent, partner_id=partner_id, limit=int(raw)),
        write=False,
    )
    return _json({"items": items})


def _batches(runtime: Runtime) -> dict[str, int] | None:
    reads = runtime.cart_reads
    if reads is None:
        return None
    return {"statements": reads.calls, "reads": reads.keys, "largest": reads.largest}


async def info(request: Request) -> Response:
    runtime = await _admin(request)
    settings = runtime.settings
    return _json(
        {
            "wallClock": format_timestamp(runtime.wall_clock.now()),
            "baseClock": format_timestamp(runtime.clocks.base.now()),
            "seed": settings.seed,
            "frozenAt": format_timestamp(settings.frozen_at) if settings.frozen_at else None,
            "requestLog": settings.request_log,
            # ``serve --sqlite-sync``, as the open store has it (``None`` on PostgreSQL)
            "sqliteSync": getattr(runtime.services.store, "synchronous", None),
            # whether SQLite's writes of one loop pass share a commit (off with --workers N)
            "sqliteGroupWrites": getattr(runtime.services.store, "group_writes", None),
            # ``serve --sqlite-cache-mib``, each SQLite connection's page cache
            "sqliteCacheMiB": getattr(runtime.services.store, "cache_mib", None),
            # ``serve --pool-size``, as the open store has it (``None`` on SQLite)
            "poolSize": getattr(runtime.services.store, "pool_size", None),
            # GET cart's reads batched per loop pass (PostgreSQL; ``None`` on SQLite)
            "cartReadBatches": _batches(runtime),
            # ``serve --loop``: "uvloop" or "asyncio" (the module the running loop comes from)
            "eventLoop": type(asyncio.get_running_loop()).__module__.partition(".")[0],
            # bytes of free heap top the allocator keeps (``None``: its own default)
            "heapTopKept": parts_of(request).heap_top_kept,
        }
    )


# The dashboard: static files, no data (the page calls the routes above with the admin key).

_UI_FILES = {
    "": ("index.html", "text/html; charset=utf-8"),
    "app.js": ("app.js", "text/javascript; charset=utf-8"),
    "app.css": ("app.css", "text/css; charset=utf-8"),
}


@functools.cache
def _ui_file(name: str) -> bytes:
    return resources.files("partnercart.server.control").joinpath("ui", name).read_bytes()


async def ui(request: Request) -> Response:
    name = str(request.path_params.get("name", ""))
    found = _UI_FILES.get(name)
    if found is None:
        raise NotFound(f"No dashboard file {name!r}.")
    return Response(
        _ui_file(found[0]),
        media_type=found[1],
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
        },
    )


P = "/_partnercart"
ROUTES = [
    Route(f"{P}/reset", reset_all, methods=["POST"]),
    Route(f"{P}/seed", seed_data, methods=["POST"]),
    Route(f"{P}/info", info, methods=["GET"]),
    Route(f"{P}/partners", list_partners, methods=["GET"]),
    Route(f"{P}/partners/{{partner_id}}/reset", reset_partner, methods=["POST"]),
    Route(f"{P}/partners/{{partner_id}}/customers", partner_customers, methods=["GET"]),
    Route(f"{P}/partners/{{partner_id}}/carts", partner_carts, methods=["GET"]),
    Route(f"{P}/partners/{{partner_id}}/orders", partner_orders, methods=["GET"]),
    Route(f"{P}/partners/{{partner_id}}/clock", get_clock, methods=["GET"]),
    Route(f"{P}/partners/{{partner_id}}/clock", set_clock, methods=["PUT"]),
    Route(f"{P}/partners/{{partner_id}}/clock/advance", advance_clock, methods=["POST"]),
    Route(f"{P}/partners/{{partner_id}}/clock/freeze", freeze_clock, methods=["POST"]),
    Route(f"{P}/partners/{{partner_id}}/clock/unfreeze", unfreeze_clock, methods=["POST"]),
    Route(f"{P}/faults", list_faults, methods=["GET"]),
    Route(f"{P}/faults", add_fault, methods=["POST"]),
    Route(f"{P}/faults", delete_faults, methods=["DELETE"]),
    Route(f"{P}/faults/{{rule_id}}", delete_fault, methods=["DELETE"]),
    Route(f"{P}/requests", list_requests, methods=["GET"]),
    Route(f"{P}/ui", ui, methods=["GET"]),
    Route(f"{P}/ui/{{name}}", ui, methods=["GET"]),
]
