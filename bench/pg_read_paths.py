"""How a server process should make a PostgreSQL point read: the ways side by side.

``python bench/pg_read_paths.py [URL] [--reads 20000] [--rounds 2]`` pins itself to one core
(as ``serve`` is pinned in the bench), fills a scratch table of 1,000 rows of 1.5 KB, and
reads rows by key in each of these ways, alternating them round by round:

- ``inline``: psycopg's blocking connection called on the event loop's thread, back to back;
- ``async``: psycopg's ``AsyncConnection``, 32 tasks over 4 connections on uvloop;
- ``thread``: psycopg's pool in worker threads reached by ``anyio.to_thread``, 32 tasks;
- ``store``: the runtime's own store threads (``StoreThreads``, one per pooled connection,
  entered with ``run_in_executor``), one read per hand-off: GET cart on PostgreSQL before
  batching;
- ``batched``: the same threads behind ``PassBatcher``, the reads asked for in one pass of the
  loop in one statement (``= ANY``): GET cart on PostgreSQL now;
- ``asyncpg``: asyncpg's pool, 32 tasks over 4 connections (only when asyncpg is installed).

For each it prints wall time and this process's CPU time per read. On the server's one core,
CPU time is what a read takes from every other request; the wall time of ``inline`` is what
the event loop waits. Each way's timing includes opening its connections (at most 10, a few
milliseconds in all: under 3 us a read at 20,000 reads). The scratch table is dropped at the
end. Use a throwaway database.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import anyio.to_thread
import psycopg
from psycopg_pool import ConnectionPool

from partnercart.server.batching import PassBatcher
from partnercart.server.threads import StoreThreads

TABLE = "bench_read_paths"
QUERY = f"SELECT id, body FROM {TABLE} WHERE id = %s"
TASKS = 32


def timed(reads: int, run: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return (
        (time.perf_counter() - wall) / reads * 1e6,
        (time.process_time() - cpu) / reads * 1e6,
    )


def inline(url: str, ids: list[str], reads: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        for i in range(reads):
            cur.execute(QUERY, (ids[i % len(ids)],), prepare=True)
            cur.fetchone()


def on_loop(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


def psycopg_async(url: str, ids: list[str], reads: int) -> None:
    async def main() -> None:
        free: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
        for _ in range(4):
            free.put_nowait(await psycopg.AsyncConnection.connect(url, autocommit=True))

        async def task(k: int) -> None:
            for i in range(reads // TASKS):
                conn = await free.get()
                try:
                    cur = await conn.execute(QUERY, (ids[(k + i) % len(ids)],), prepare=True)
                    await cur.fetchone()
                finally:
                    free.put_nowait(conn)

        await asyncio.gather(*(task(k) for k in range(TASKS)))
        while not free.empty():
            await free.get_nowait().close()

    on_loop(main)


def _in_tasks(ids: list[str], reads: int, read: Callable[[str], Awaitable[object]]) -> None:
    """``reads`` calls of ``read(key)`` spread over :data:`TASKS` tasks on one event loop."""

    async def main() -> None:
        async def task(k: int) -> None:
            for i in range(reads // TASKS):
                await read(ids[(k + i) % len(ids)])

        await asyncio.gather(*(task(k) for k in range(TASKS)))

    on_loop(main)


def _pool(url: str) -> ConnectionPool:
    return ConnectionPool(url, min_size=10, max_size=10, kwargs={"autocommit": True}, open=True)


def threads(url: str, ids: list[str], reads: int) -> None:
    pool = _pool(url)

    def read(key: str) -> None:
        with pool.connection() as conn:
            conn.execute(QUERY, (key,), prepare=True).fetchone()

    try:
        _in_tasks(ids, reads, functools.partial(anyio.to_thread.run_sync, read))
    finally:
        pool.close()


def store_threads(url: str, ids: list[str], reads: int) -> None:
    pool, workers = _pool(url), StoreThreads(10)

    def read(key: str) -> None:
        with pool.connection() as conn:
            conn.execute(QUERY, (key,), prepare=True).fetchone()

    try:
        _in_tasks(ids, reads, lambda key: workers.run(functools.partial(read, key)))
    finally:
        workers.close()
        pool.close()


def batched(url: str, ids: list[str], reads: int) -> None:
    pool, workers = _pool(url), StoreThreads(10)
    many = f"SELECT id, body FROM {TABLE} WHERE id = ANY(%s)"

    def fetch(keys: Sequence[str]) -> list[Any]:
        with pool.connection() as conn:
            found = {row[0]: row for row in conn.execute(many, (list(keys),), prepare=True)}
        return [found.get(key) for key in keys]

    reader: PassBatcher[str, Any] = PassBatcher(fetch, workers.run)
    try:
        _in_tasks(ids, reads, reader.get)
    finally:
        workers.close()
        pool.close()
    print(f"batched: {reader.keys / max(1, reader.calls):.1f} reads a statement on average")


def asyncpg_pool(url: str, ids: list[str], reads: int) -> None:
    import asyncpg

    async def main() -> None:
        pool = await asyncpg.create_pool(url, min_size=4, max_size=4)
        query = QUERY.replace("%s", "$1")

        async def task(k: int) -> None:
            for i in range(reads // TASKS):
                async with pool.acquire() as conn:
                    await conn.fetchrow(query, ids[(k + i) % len(ids)])

        await asyncio.gather(*(task(k) for k in range(TASKS)))
        await pool.close()

    on_loop(main)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default="postgresql://127.0.0.1:5432/test")
    parser.add_argument("--reads", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    ways: dict[str, Callable[[str, list[str], int], None]] = {
        "inline": inline,
        "async": psycopg_async,
        "thread": threads,
        "store": store_threads,
        "batched": batched,
    }
    try:
        import asyncpg  # noqa: F401

        ways["asyncpg"] = asyncpg_pool
    except ImportError:
        print("asyncpg is not installed: its row is left out")
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id text PRIMARY KEY, body bytea)")
        conn.execute(
            f"INSERT INTO {TABLE} SELECT md5(i::text), convert_to(repeat('x', 1500), 'UTF8') "
            "FROM generate_series(1, 1000) i ON CONFLICT DO NOTHING"
        )
        ids = [str(row[0]) for row in conn.execute(f"SELECT id FROM {TABLE}")]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    try:
        for _ in range(args.rounds):
            for name, way in ways.items():
                run = functools.partial(way, args.url, ids, args.reads)
                results[name].append(timed(args.reads, run))
    finally:
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    print(f"\n{args.reads} point reads of 1.5 KB rows per way and round, one core, medians:\n")
    print("| way | wall us/read | CPU us/read | CPU vs inline |")
    print("|---|---:|---:|---:|")
    base = statistics.median(cpu for _, cpu in results["inline"])
    for name, runs in results.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {cpu / base:.2f}x |")


if __name__ == "__main__":
    main()
