"""Blocking store work off the event loop, on threads the runtime owns.

A networked store (PostgreSQL) runs each unit of work on a thread so a round trip or a row lock
never stalls the event loop. The threads are a plain executor of the runtime's own, as many as
the store has connections, entered through ``loop.run_in_executor``: on one core a hand-off
that way costs 19-24 µs against 51 µs through ``anyio.to_thread`` and its capacity limiter
(docs/decisions.md), and no more threads wait for a connection than the pool can hand out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

R = TypeVar("R")


class StoreThreads:
    """Runs ``fn()`` on one of ``workers`` threads and awaits its result.

    Like ``anyio.to_thread.run_sync``, a cancelled caller still waits for its function to end
    before the cancellation goes on: a transaction cannot be stopped halfway, and a request's
    work never outlives its request (shutdown, for one, closes the store after the requests).
    """

    def __init__(self, workers: int) -> None:
        # Threads are started on first use, so an embedded store that never calls this has none.
        self._executor = ThreadPoolExecutor(
            max_workers=max(1, workers), thread_name_prefix="partnercart-store"
        )

    async def run(self, fn: Callable[[], R]) -> R:
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait([future])
            raise

    def close(self) -> None:
        """Wait for the work under way, then stop the threads."""
        self._executor.shutdown(wait=True)
