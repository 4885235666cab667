"""Lookups asked for in one pass of the event loop, answered together by one blocking call.

On PostgreSQL each unit of work costs the server's core a hand-off to a store thread and the
client side of a round trip: about 60 µs of CPU for a point read of a cart, measured with 32
callers at once on one core. Under load uvloop starts many requests in the same pass of its
loop, so their lookups can be collected and answered by one statement on one thread: 9 µs of
CPU a read in the same measurement (docs/decisions.md, "PostgreSQL: the GETs of one pass share
a round trip").
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")

Runner = Callable[[Callable[[], list[V]]], Awaitable[list[V]]]


class PassBatcher(Generic[K, V]):
    """``await get(key)``: the keys asked for in one pass of the loop go to one
    ``fetch(keys)`` call (at most ``most`` keys each; more make more calls, run at once),
    run through ``run`` (a store thread), which answers each key in order.

    A caller that is cancelled leaves the others their answers. When ``fetch`` raises, every
    caller of that call gets the exception."""

    def __init__(
        self,
        fetch: Callable[[Sequence[K]], list[V]],
        run: Runner[V],
        *,
        most: int = 64,
    ) -> None:
        self._fetch = fetch
        self._run = run
        self._most = max(1, most)
        self._pending: list[tuple[K, asyncio.Future[V]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._calls: set[asyncio.Task[None]] = set()
        #: ``fetch`` calls made, the keys they carried in all, and the most one carried
        #: (``GET /_partnercart/info`` shows them)
        self.calls = 0
        self.keys = 0
        self.largest = 0

    async def get(self, key: K) -> V:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            if self._pending:  # a batch is forming on another loop: this key goes alone
                return (await self._run(functools.partial(self._fetch, [key])))[0]
            self._loop = loop
        future: asyncio.Future[V] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((key, future))
        return await future

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        loop = self._loop
        assert loop is not None
        for start in range(0, len(pending), self._most):
            task = loop.create_task(self._answer(pending[start : start + self._most]))
            self._calls.add(task)
            task.add_done_callback(self._calls.discard)

    async def _answer(self, batch: list[tuple[K, asyncio.Future[V]]]) -> None:
        waiting = [(key, future) for key, future in batch if not future.done()]
        if not waiting:
            return
        self.calls += 1
        self.keys += len(waiting)
        self.largest = max(self.largest, len(waiting))
        keys = [key for key, _ in waiting]
        try:
            values = await self._run(functools.partial(self._fetch, keys))
        except asyncio.CancelledError:
            for _, future in waiting:
                future.cancel()
            raise
        except Exception as exc:  # every caller gets it, as from a call of its own
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        if len(values) != len(waiting):
            mismatch = RuntimeError(f"{len(waiting)} keys were asked for, {len(values)} answered")
            for _, future in waiting:
                if not future.done():
                    future.set_exception(mismatch)
            return
        for (_, future), value in zip(waiting, values, strict=True):
            if not future.done():
                future.set_result(value)
