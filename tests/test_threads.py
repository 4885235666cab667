"""StoreThreads: blocking store work off the event loop, on the runtime's own threads."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from partnercart.server.threads import StoreThreads


def test_runs_on_another_thread_and_hands_back_the_result() -> None:
    threads = StoreThreads(2)
    try:

        async def main() -> tuple[int, str]:
            return threading.get_ident(), await threads.run(lambda: threading.current_thread().name)

        loop_thread, worker = asyncio.run(main())
        assert loop_thread == threading.get_ident()
        assert worker.startswith("partnercart-store")
    finally:
        threads.close()


def test_an_exception_reaches_the_caller() -> None:
    threads = StoreThreads(1)

    def fail() -> None:
        raise LookupError("no such row")

    try:
        with pytest.raises(LookupError, match="no such row"):
            asyncio.run(threads.run(fail))
    finally:
        threads.close()


def test_no_more_threads_at_once_than_workers() -> None:
    threads = StoreThreads(3)
    changed = threading.Condition()
    running = 0
    most = 0

    def work() -> None:
        nonlocal running, most
        with changed:
            running += 1
            most = max(most, running)
            changed.notify_all()
            # Hold on until three run at once, so a slow machine cannot hide a fourth.
            changed.wait_for(lambda: most >= 3, timeout=5)
        time.sleep(0.005)
        with changed:
            running -= 1

    async def main() -> None:
        await asyncio.gather(*(threads.run(work) for _ in range(12)))

    try:
        asyncio.run(main())
    finally:
        threads.close()
    assert most == 3


def test_a_cancelled_caller_waits_for_its_work_to_end() -> None:
    """As with anyio.to_thread: a transaction is never left running behind its request."""
    threads = StoreThreads(1)
    started = threading.Event()
    ended = threading.Event()

    def slow() -> str:
        started.set()
        time.sleep(0.2)
        ended.set()
        return "done"

    async def main() -> bool:
        task = asyncio.ensure_future(threads.run(slow))
        while not started.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return ended.is_set()

    try:
        assert asyncio.run(main()) is True
    finally:
        threads.close()


def test_close_waits_for_the_work_under_way() -> None:
    threads = StoreThreads(1)
    ended = threading.Event()

    def slow() -> None:
        time.sleep(0.1)
        ended.set()

    async def main() -> None:
        task = asyncio.ensure_future(threads.run(slow))
        await asyncio.sleep(0.02)
        threads.close()  # on the loop's thread, as Runtime.close is called at shutdown
        assert ended.is_set()
        await task

    asyncio.run(main())
