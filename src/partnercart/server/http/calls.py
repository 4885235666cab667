"""Running a use case from a handler: one unit of work per request.

Reads go through :func:`call`. Writes (POST, PUT, PATCH) go through :func:`write`, which also
honours ``MS-RequestId``: inside the same unit of work it claims the partner's key, replays a
stored answer or runs the use case and stores its answer, and commits once. On SQLite that
commit is shared by the writes of one pass of the event loop, and the answer waits for it.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.requests import Request

from partnercart.server.domain.carts import Actor
from partnercart.server.domain.clock import Clock
from partnercart.server.domain.idempotency import (
    IDEMPOTENT_METHODS,
    REPLAY_HEADER,
    REPLAY_WINDOW,
    RequestIdReused,
    RequestInProgress,
    StoredResponse,
    fingerprint,
)
from partnercart.server.domain.ids import IdSource, ids_for_partner, is_guid
from partnercart.server.domain.records import CartRecord
from partnercart.server.http import media
from partnercart.server.http.parts import parts_of
from partnercart.server.runtime import Runtime
from partnercart.server.services import carts
from partnercart.server.storage.ports import Store, UnitOfWork
from partnercart.server.storage.sql import to_micros

R = TypeVar("R")


def runtime_of(request: Request) -> Runtime:
    return parts_of(request).runtime


def _partner_time(runtime: Runtime, actor: object) -> tuple[Clock, IdSource]:
    """The caller partner's virtual clock and id stream (read before the unit of work opens:
    the clock may need its own short read); the server's own without an actor."""
    services = runtime.services
    if isinstance(actor, Actor):
        clock: Clock = runtime.clocks.for_partner(actor.partner_id)
        return clock, ids_for_partner(services.ids, actor.partner_id)
    return services.clock, services.ids


def _run(
    runtime: Runtime, use_case: Callable[..., R], write: bool, snapshot: bool, kwargs: Any
) -> R:
    services = runtime.services
    clock, ids = _partner_time(runtime, kwargs.get("actor"))
    with services.store.unit_of_work(write=write, snapshot=snapshot) as uow:
        return use_case(services.context(uow, clock=clock, ids=ids), **kwargs)


async def call(
    request: Request,
    use_case: Callable[..., R],
    /,
    *,
    write: bool,
    snapshot: bool = True,
    **kwargs: Any,
) -> R:
    """Run ``use_case(context, **kwargs)`` in one transaction: inline for an embedded store (a
    SQLite point read is cheaper than a thread hop), in a worker thread for a networked one.
    ``snapshot=False`` is for a read of one statement, which needs no transaction.

    When ``kwargs`` has the ``actor``, the context's clock is that partner's virtual clock and
    its ids come from that partner's stream."""
    runtime = runtime_of(request)
    if runtime.services.store.blocking:
        return await runtime.threads.run(
            functools.partial(_run, runtime, use_case, write, snapshot, kwargs)
        )
    return _run(runtime, use_case, write, snapshot, kwargs)


async def read_cart(
    request: Request, *, actor: Actor, customer_id: str, cart_id: str
) -> CartRecord:
    """GET cart's use case (:func:`carts.get_cart`), its one joined read made here rather
    than through :func:`call`: on SQLite inline, in a unit of work of its own, without the
    context, id stream and use-case call that :func:`call` makes around it; on PostgreSQL the
    reads of the GETs that arrive in one loop pass go to the database as one statement
    (``runtime.cart_reads``). Ids that are not GUIDs go through :func:`call`, whose use case
    answers them, and so does a networked store without batched reads."""
    runtime = runtime_of(request)
    reads = runtime.cart_reads
    store = runtime.services.store
    if not (is_guid(customer_id) and is_guid(cart_id)) or (reads is None and store.blocking):
        return await call(
            request,
            carts.get_cart,
            write=False,
            snapshot=False,  # one joined read
            actor=actor,
            customer_id=customer_id,
            cart_id=cart_id,
        )
    key = carts.owned_cart_key(actor, customer_id, cart_id)
    clocks = runtime.clocks
    if reads is None:
        clock = clocks.for_partner(actor.partner_id)
        with store.unit_of_work(write=False, snapshot=False) as uow:
            owned, found = carts.find_owned_cart(uow, key)
        return carts.cart_seen(actor, customer_id, cart_id, owned, found, clock.now())
    cached = clocks.cached(actor.partner_id)
    if cached is None:
        cached = await runtime.threads.run(functools.partial(clocks.for_partner, actor.partner_id))
    owned, found = await reads.get(key)
    return carts.cart_seen(actor, customer_id, cart_id, owned, found, cached.now())


async def in_unit_of_work(runtime: Runtime, fn: Callable[[UnitOfWork], R], *, write: bool) -> R:
    """``fn(uow)`` in one unit of work, for the control plane and the request log: inline for
    an embedded store, in a worker thread for a networked one (as :func:`call`)."""

    def work() -> R:
        with runtime.services.store.unit_of_work(write=write) as uow:
            return fn(uow)

    if runtime.services.store.blocking:
        return await runtime.threads.run(work)
    return work()


@dataclass(frozen=True, slots=True)
class Written:
    """A write's answer: fresh from the use case, or replayed from storage (``replay``)."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    replay: bool = False


@dataclass(frozen=True, slots=True)
class _Key:
    request_id: str
    fingerprint: str


class ExpirySweeper:
    """Deletes expired stored answers at most once per ``every`` of the server clock, in its own
    short transaction after a write (an expired answer is ignored on lookup anyway)."""

    def __init__(self, every: dt.timedelta = dt.timedelta(hours=1)) -> None:
        self.every = every
        self._last: dt.datetime | None = None
        self._lock = threading.Lock()

    def due(self, now: dt.datetime) -> bool:
        with self._lock:
            if self._last is not None and self._last <= now < self._last + self.every:
                return False
            self._last = now
            return True


def _record_body(result: Any) -> bytes:
    return bytes(result.body)


async def _key(request: Request) -> _Key | None:
    """The idempotency key of a write that carries ``MS-RequestId``; ``None`` otherwise (an id
    the middleware made up is for the echo only and never deduplicates)."""
    state = request.scope.get("state") or {}
    if request.method not in IDEMPOTENT_METHODS or not state.get("request_id_sent"):
        return None
    raw = state.get("raw_body")
    body = raw if isinstance(raw, bytes) else await request.body()
    # A body without Content-Type is read as JSON, so both spellings fingerprint alike.
    media_type = request.headers.get("content-type") or media.DEFAULT_TYPE
    return _Key(
        request_id=str(state["request_id"]),
        fingerprint=fingerprint(
            method=request.method,
            path=request.scope["path"],
            media_type=media_type.split(";", 1)[0].strip(),
            body=body,
        ),
    )


async def _grouped(store: Store, run: Callable[[UnitOfWork], R]) -> R:
    """``run`` in a grouped write when the store groups them (inline SQLite), its answer
    given once the group has committed; in a unit of work of its own otherwise. Even a write
    that failed waits: its error may rest on what other writes of the group did."""
    uow = store.grouped_write()
    if uow is None:
        return run(store.unit_of_work(write=True))
    try:
        return run(uow)
    finally:
        await uow.durable()


def _run_write(
    runtime: Runtime,
    unit_of_work: UnitOfWork,
    use_case: Callable[..., Any],
    actor: Actor,
    key: _Key | None,
    status: int,
    body_of: Callable[[Any], bytes],
    headers_of: Callable[[Any], Mapping[str, str]] | None,
    kwargs: Any,
) -> Written:
    services = runtime.services
    clock, ids = _partner_time(runtime, actor)
    with unit_of_work as uow:
        ctx = services.context(uow, clock=clock, ids=ids)
        if key is None:
            result = use_case(ctx, actor=actor, **kwargs)
            headers = dict(headers_of(result)) if headers_of else {}
            return Written(status, body_of(result), headers)
        partner = actor.partner_id
        if not uow.idempotency.claim(partner, key.request_id):
            raise RequestInProgress(
                f"A request with MS-RequestId {key.request_id} is still being processed; "
                "retry it later to get its answer."
            )
        # The replay window runs on the server's clock, as the sweep does: a partner's virtual
        # clock, set back or moved on, must not expire an answer early (a retry would run twice)
        # nor keep one past its day.
        now = services.clock.now()
        stored = uow.idempotency.get(partner, key.request_id)
        if stored is not None and stored.live(now):
            if stored.fingerprint != key.fingerprint:
                raise RequestIdReused(
                    f"MS-RequestId {key.request_id} was already used for a different request "
                    "(method, route or body); send a new MS-RequestId for a new request.",
                    data=["MS-RequestId"],
                )
            headers = dict(stored.headers)
            headers[REPLAY_HEADER] = "true"
            return Written(stored.status, stored.body, headers, replay=True)
        result = use_case(ctx, actor=actor, **kwargs)
        body = body_of(result)
        headers = dict(headers_of(result)) if headers_of else {}
        uow.idempotency.put(
            StoredResponse(
                partner_id=partner,
                request_id=key.request_id,
                fingerprint=key.fingerprint,
                status=status,
                headers=tuple(headers.items()),
                body=body,
                created_at=now,
                expires_at=now + REPLAY_WINDOW,
            )
        )
        return Written(status, body, headers)


def _purge(runtime: Runtime, now: dt.datetime) -> None:
    with runtime.services.store.unit_of_work(write=True) as uow:
        uow.idempotency.purge(to_micros(now))


async def write(
    request: Request,
    use_case: Callable[..., Any],
    /,
    *,
    actor: Actor,
    status: int,
    body_of: Callable[[Any], bytes] = _record_body,
    headers_of: Callable[[Any], Mapping[str, str]] | None = None,
    **kwargs: Any,
) -> Written:
    """Run ``use_case(context, actor=actor, **kwargs)`` in one transaction and answer ``status``
    with ``body_of(result)`` (the record's stored JSON by default) and ``headers_of(result)``.

    With ``MS-RequestId`` the answer is stored with the change and replayed, byte for byte and
    marked ``MS-Idempotent-Replay: true``, to a retry of the same request for 24 hours; the
    same id on a different request is 422; while the first still runs, 409. Failures roll back
    and store nothing, so a retry after an error runs again.
    """
    runtime = runtime_of(request)
    key = await _key(request)
    store = runtime.services.store
    blocking = store.blocking
    run = functools.partial(
        _run_write,
        runtime,
        use_case=use_case,
        actor=actor,
        key=key,
        status=status,
        body_of=body_of,
        headers_of=headers_of,
        kwargs=kwargs,
    )
    if blocking:
        written = await runtime.threads.run(functools.partial(run, store.unit_of_work(write=True)))
    else:
        written = await _grouped(store, run)
    if written.replay:
        request.state.idempotent_replay = True
    sweeper = parts_of(request).idempotency_sweeper
    if key is not None and sweeper is not None:
        # Whether a sweep is due is asked here, on the loop: on PostgreSQL a thread hand-off
        # only to hear "not yet" cost every write with MS-RequestId a second hop.
        now = runtime.services.clock.now()
        if sweeper.due(now):
            purge = functools.partial(_purge, runtime, now)
            await runtime.threads.run(purge) if blocking else purge()
    return written
