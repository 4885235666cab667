"""Running a use case from a handler: one unit of work per request."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from starlette.requests import Request

from partnercart.server.domain.carts import Actor
from partnercart.server.domain.ids import ids_for_partner
from partnercart.server.runtime import Runtime
from partnercart.server.services.context import Context

R = TypeVar("R")


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _run(runtime: Runtime, use_case: Callable[..., R], write: bool, kwargs: Any) -> R:
    services = runtime.services
    actor = kwargs.get("actor")
    if isinstance(actor, Actor):
        # The caller partner's virtual clock and id stream (read before the unit of work opens:
        # the clock may need its own short read).
        clock: Any = runtime.clocks.for_partner(actor.partner_id)
        ids = ids_for_partner(services.ids, actor.partner_id)
    else:
        clock, ids = services.clock, services.ids
    with services.store.unit_of_work(write=write) as uow:
        return use_case(Context(uow=uow, clock=clock, ids=ids), **kwargs)


async def call(request: Request, use_case: Callable[..., R], /, *, write: bool, **kwargs: Any) -> R:
    """Run ``use_case(context, **kwargs)`` in one transaction: inline for an embedded store (a
    SQLite point read is cheaper than a thread hop), in a worker thread for a networked one.

    When ``kwargs`` has the ``actor``, the context's clock is that partner's virtual clock and
    its ids come from that partner's stream."""
    runtime = runtime_of(request)
    if runtime.services.store.blocking:
        return await anyio.to_thread.run_sync(
            functools.partial(_run, runtime, use_case, write, kwargs)
        )
    return _run(runtime, use_case, write, kwargs)
