"""The request log's capture: what the gateway keeps of each Partner Center request, and the
buffer that writes the entries in batches.

While a request runs only references are kept (the header lists, the body chunks); when it
ends its fields are packed to MessagePack in the layout of
:class:`~partnercart.server.control.requestlog.StoredRequest`, and the buffer keeps that one
bytes object (see :class:`LogBuffer`). Credentials are redacted as rows go into the table
(:func:`~partnercart.server.control.requestlog.add_many`), so only for the rows written: a busy
partner's older rows are dropped here unwritten. The readable entry is made only when somebody
reads the log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import itertools
import logging
import operator
import time
from collections import deque
from typing import Any

import msgspec
from starlette.types import Scope

from partnercart.server.control import requestlog
from partnercart.server.control.requestlog import BODY_LIMIT, StoredRequest
from partnercart.server.control.store import to_micros
from partnercart.server.http.auth import partner_from_header
from partnercart.server.http.calls import in_unit_of_work
from partnercart.server.runtime import Runtime

log = logging.getLogger("partnercart.requestlog")


#: A request log row: ``(partner_id, at_micros, packed StoredRequest)``, its headers as they
#: came (redacted when written).
Row = tuple[str | None, int, bytes]

#: :meth:`Capture.row` packs a tuple in this order, which MessagePack encodes exactly as the
#: array-like :class:`StoredRequest` (checked here, and by tests/test_control_units.py).
_ROW_FIELDS = (
    "method",
    "path",
    "route",
    "query",
    "status",
    "duration_ms",
    "request_id",
    "correlation_id",
    "request_headers",
    "request_body",
    "request_size",
    "response_headers",
    "response_body",
    "response_size",
    "fault",
    "fault_action",
    "replayed",
    "dropped",
)
if StoredRequest.__struct_fields__ != _ROW_FIELDS:  # pragma: no cover - a change to one of them
    raise RuntimeError("Capture.row packs StoredRequest's fields in their order: update both")
_packer = msgspec.msgpack.Encoder()


class Capture:
    """One request as the gateway saw it; :meth:`row` turns it into what the buffer keeps
    when the request ends."""

    __slots__ = (
        "duration",
        "request_chunks",
        "request_size",
        "response_chunks",
        "response_headers",
        "response_size",
        "scope",
        "started",
        "status",
        "wall",
    )

    def __init__(self, scope: Scope, wall: dt.datetime, started: float) -> None:
        self.scope = scope
        self.wall = wall
        self.started = started
        self.duration = 0.0
        self.status: int | None = None
        self.response_headers: list[tuple[bytes, bytes]] = []
        self.request_chunks: list[bytes] = []
        self.request_size = 0
        self.response_chunks: list[bytes] = []
        self.response_size = 0

    def request_body(self, body: bytes) -> None:
        if self.request_size <= BODY_LIMIT:
            self.request_chunks.append(body)
        self.request_size += len(body)

    def response_body(self, body: bytes) -> None:
        if self.response_size <= BODY_LIMIT:
            self.response_chunks.append(body)
        self.response_size += len(body)

    def row(self, runtime: Runtime) -> Row:
        """The partner, the instant and the request packed as it will be stored, its header
        lists still as they came (redacted when written). A tuple is packed rather than a
        :class:`StoredRequest` made first: it costs a GET about 4 µs less."""
        scope = self.scope
        state: dict[str, Any] = scope.get("state") or {}
        dropped = bool(state.get("drop_connection"))
        route = state.get("route")
        if route is None and scope.get("route") is not None:
            route = getattr(scope["route"], "path", None)
        chunks = self.response_chunks
        response_body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        fields = (
            scope["method"],
            scope["path"],
            route,
            scope.get("query_string", b"")[: requestlog.HEADER_LIMIT],
            None if dropped else self.status,
            round(self.duration * 1000, 3),
            state.get("request_id"),
            state.get("correlation_id"),
            scope["headers"],
            b"".join(self.request_chunks)[: BODY_LIMIT + 1],
            self.request_size,
            self.response_headers,
            response_body[: BODY_LIMIT + 1],
            self.response_size,
            state.get("fault"),
            state.get("fault_action"),
            bool(state.get("idempotent_replay")),
            dropped,
        )
        partner = state.get("partner_id") or partner_from_header(
            runtime, state.get("authorization")
        )
        return partner, to_micros(self.wall), _packer.encode(fields)


class LogBuffer:
    """This process's log entries on their way to the table, and when they are written.

    **Kept per partner, the newest ``KEEP``**: the table keeps no more than that per partner,
    so an older entry of a busy partner is dropped here rather than written and trimmed.

    **Written when somebody reads the log, or every ``IDLE_FLUSH_AFTER`` seconds**: while the
    log is read anywhere (this process's list route, or another process's, which it tells
    through ``control_versions``; see :func:`requestlog.bump_readers`), entries are written
    about every ``FLUSH_AFTER`` seconds, for ``WATCHED_FOR`` seconds after the last read; when
    nobody reads it, every ``IDLE_FLUSH_AFTER`` seconds, and as soon as ``FLUSH_SIZE`` wait
    (many partners). Writing a thousand rows a second had cost GET cart a quarter of its
    throughput on SQLite (docs/decisions.md). This process's own list route and reset write
    its entries first, so they see everything up to the call; another process's entries show
    within about ``FLUSH_AFTER`` plus a check of the signal.

    **How a batch is written depends on the store.** SQLite (called inline by every request)
    gets it on the event loop, ``STEP`` rows per transaction with the loop let go between
    steps: a worker thread holding SQLite's write lock made the requests' own writes wait in
    SQLite's busy handler, which sleeps in steps of 1-100 ms, with the whole event loop stopped
    behind them. PostgreSQL gets it in a worker thread, ``CHUNK`` rows per transaction: its row
    locks do not stop other writers, and the round trips are better off the loop. One batch
    is written at a time, and rows go in the order their requests ended.

    A row is packed as its request ends, and the buffer holds that bytes object: holding each
    request's parts instead (header lists, bodies, a struct) until the write cost GET cart 3% of
    its throughput with 1000 rows a partner held (docs/decisions.md)."""

    FLUSH_AFTER = 1.0
    IDLE_FLUSH_AFTER = 10.0
    WATCHED_FOR = 60.0
    FLUSH_SIZE = 4096
    CHUNK = 64
    STEP = 16

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._pending: dict[str | None, deque[tuple[int, Row]]] = {}
        self._size = 0
        self._seq = itertools.count()
        self._scheduled = False
        self._timer: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writing: asyncio.Lock | None = None
        self._last_write = time.monotonic()
        self._watched_until = float("-inf")
        self._readers: int | None = None

    def __len__(self) -> int:
        return self._size

    def add(self, capture: Capture) -> None:
        """Queue a capture's row; it is written later, by a task of its own."""
        try:
            row = capture.row(self.runtime)
        except Exception:  # the answer is already sent; a log line must not fail it
            log.warning("could not log a request", exc_info=True)
            return
        self.keep(row)

    def keep(self, row: Row) -> None:
        """Queue a packed row; a task writes it later (call on the event loop)."""
        queue = self._pending.get(row[0])
        if queue is None:
            queue = self._pending[row[0]] = deque(maxlen=requestlog.KEEP)
        if len(queue) != queue.maxlen:
            self._size += 1
        queue.append((next(self._seq), row))
        if self._size == self.FLUSH_SIZE:  # once per crossing: the flush empties it
            self._start(self.flush())
        elif not self._scheduled:
            self._scheduled = True
            self._timer = self._start(self._tick_later())

    def _start(self, work: Any) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _watch(self) -> None:
        """Somebody reads the log: write promptly for a while."""
        self._watched_until = time.monotonic() + self.WATCHED_FOR

    async def before_reading(self) -> None:
        """Before this process reads (or resets) the log: tell every process, this one
        included, to write promptly for a while, and write this process's entries now."""
        self._watch()
        await in_unit_of_work(self.runtime, requestlog.bump_readers, write=True)
        await self.flush()

    async def _tick_later(self) -> None:
        while True:
            await asyncio.sleep(self.FLUSH_AFTER)
            readers: int | None
            try:
                readers = await in_unit_of_work(
                    self.runtime, requestlog.readers_version, write=False
                )
            except Exception:  # the signal is a hint; the timed write still happens
                log.warning("could not read the request log's reader signal", exc_info=True)
                readers = self._readers
            if self._readers is not None and readers != self._readers:
                self._watch()
            self._readers = readers
            now = time.monotonic()
            if now < self._watched_until or now - self._last_write >= self.IDLE_FLUSH_AFTER:
                break
        self._timer = None  # past this point the task writes, and is never cancelled
        await self.flush()

    def _take(self) -> list[Row]:
        """Every waiting row, in the order the requests ended."""
        queues, self._pending = self._pending, {}
        self._size = 0
        self._scheduled = False
        self._last_write = time.monotonic()
        entries = [entry for queue in queues.values() for entry in queue]
        entries.sort(key=operator.itemgetter(0))
        return [row for _seq, row in entries]

    def _write(self, rows: list[Row]) -> None:
        """The whole batch at once (a worker thread, or shutdown)."""
        store = self.runtime.services.store
        for start in range(0, len(rows), self.CHUNK):
            with store.unit_of_work(write=True) as uow:
                requestlog.add_many(uow, rows[start : start + self.CHUNK])
        # Each partner's log is trimmed once per batch.
        with store.unit_of_work(write=True) as uow:
            for partner_id in {row[0] for row in rows}:
                requestlog.trim_log(uow, partner_id)

    async def _write_stepwise(self, batch: list[Row]) -> None:
        """The batch on the event loop, ``STEP`` rows (inserted, trimmed) per
        transaction, letting the loop run the requests that wait between steps."""
        store = self.runtime.services.store
        for start in range(0, len(batch), self.STEP):
            with store.unit_of_work(write=True) as uow:
                requestlog.add_many(uow, batch[start : start + self.STEP])
            await asyncio.sleep(0)
        for partner_id in {row[0] for row in batch}:
            while True:
                with store.unit_of_work(write=True) as uow:
                    deleted = requestlog.trim_log(uow, partner_id, at_most=self.STEP)
                await asyncio.sleep(0)
                if deleted < self.STEP:
                    break

    async def flush(self) -> None:
        """Write what waits; when a batch is being written, after it."""
        if self._writing is None:
            self._writing = asyncio.Lock()
        async with self._writing:
            if not self._size:
                return
            timer, self._timer = self._timer, None
            if timer is not None and timer is not asyncio.current_task():
                timer.cancel()  # still waiting for its turn: this write takes its rows
            batch = self._take()
            try:
                if self.runtime.services.store.blocking:
                    await self.runtime.threads.run(functools.partial(self._write, batch))
                else:
                    await self._write_stepwise(batch)
            except Exception:  # the answers are already sent; lost log lines must not fail them
                log.warning("could not write %d request log entries", len(batch), exc_info=True)

    async def close(self) -> None:
        """At shutdown: stop the timer, let a batch being written finish, then write the rest.

        A write started on another event loop (an app driven from one loop while its lifespan
        runs on another, as the in-process bench does) cannot be awaited here; what it has not
        taken is written all the same."""
        loop = asyncio.get_running_loop()
        timer, self._timer = self._timer, None
        if timer is not None and timer.get_loop() is loop:
            timer.cancel()
        mine = [task for task in self._tasks if task.get_loop() is loop]
        await asyncio.gather(*mine, return_exceptions=True)
        self.flush_now()

    def flush_now(self) -> None:
        """Write what is pending, synchronously."""
        if self._size:
            batch = self._take()
            try:
                self._write(batch)
            except Exception:
                log.warning("could not write %d request log entries", len(batch), exc_info=True)
