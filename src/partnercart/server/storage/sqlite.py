"""The embedded default: SQLite in WAL mode, called inline (a point read costs microseconds).

Writes made on the event loop are grouped (:class:`WriteGroup`): the writes of one pass of
the loop share one transaction, each in a savepoint of its own, and their answers leave once
that transaction has committed. Writes of one commit share the pages they touch, so about half
as much goes into the WAL per write, and half as many checkpoints copy it back (docs/decisions.md,
"SQLite writes commit in groups").
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
import time
from types import TracebackType

from partnercart.server.domain.errors import ServiceUnavailable
from partnercart.server.storage.session import Repositories, SharedRepositories
from partnercart.server.storage.sql import SQLITE


class SqliteUnitOfWork(SharedRepositories):
    def __init__(
        self,
        connection: sqlite3.Connection,
        repos: Repositories,
        group: WriteGroup,
        *,
        write: bool,
        snapshot: bool = True,
    ) -> None:
        self._conn = connection
        self._group = group
        self._write = write
        # A read of one statement needs no transaction around it: the statement is its own.
        self._transaction = write or snapshot
        self._use(repos)

    def __enter__(self) -> SqliteUnitOfWork:
        # A unit of work of its own never sees a group's changes before they are committed:
        # the open group commits first.
        self._group.settle()
        # IMMEDIATE takes the write lock up front, so two writers never both read and then
        # collide; readers never wait in WAL mode.
        if self._transaction:
            self._conn.execute("BEGIN IMMEDIATE" if self._write else "BEGIN")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._transaction:
            return
        if exc_type is None:
            self._conn.execute("COMMIT")
        else:
            self._conn.execute("ROLLBACK")


class SqliteStore:
    blocking = False

    #: SQLite's ``synchronous`` values a store may be opened with.
    SYNC_MODES = ("normal", "off")

    def __init__(
        self,
        path: str,
        *,
        synchronous: str = "normal",
        group_writes: bool = True,
        cache_mib: int = 2,
    ) -> None:
        if synchronous not in self.SYNC_MODES:
            raise ValueError(f"synchronous must be one of {self.SYNC_MODES}, not {synchronous!r}")
        if cache_mib < 1:
            raise ValueError(f"the page cache must be at least 1 MiB, not {cache_mib}")
        self.path = path
        self.synchronous = synchronous
        #: Each connection's page cache in MiB (filled as pages are read, up to this size).
        self.cache_mib = cache_mib
        #: Whether :meth:`grouped_write` groups (one server process on the file).
        self.group_writes = group_writes
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._groups: list[WriteGroup] = []
        self._lock = threading.Lock()
        self._checkpointer: WalCheckpointer | None = None

    def _connection(self) -> tuple[sqlite3.Connection, Repositories, WriteGroup]:
        """This thread's connection, the repositories over its cursor and its write group."""
        found: tuple[sqlite3.Connection, Repositories, WriteGroup] | None = getattr(
            self._local, "conn", None
        )
        if found is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a process crash (every commit is in the WAL before
            # the call returns); only an OS crash or power cut may lose the last commits. OFF
            # never syncs (a throwaway data dir): an OS crash may then corrupt the file.
            conn.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("PRAGMA foreign_keys=ON")
            # A grouped write's savepoint keeps the pages it changes in a sub-journal: in
            # memory, not in a temporary file opened and removed for every group.
            conn.execute("PRAGMA temp_store=MEMORY")
            # A negative size is in KiB. A larger cache keeps a big file's hot pages in process
            # memory, but every commit takes longer (docs/decisions.md, "SQLite's page cache").
            conn.execute(f"PRAGMA cache_size=-{self.cache_mib * 1024}")
            bound_wal(conn)
            found = (
                conn,
                Repositories(conn.cursor(), SQLITE, advisory_locks=False),
                WriteGroup(conn),
            )
            self._local.conn = found
            with self._lock:
                self._all.append(conn)
                self._groups.append(found[2])
                if self._checkpointer is None:
                    self._checkpointer = WalCheckpointer(self.path, self.synchronous)
        return found

    @property
    def wal_flushes(self) -> int | None:
        """How often the WAL was synced ahead of its checkpoints (:class:`WalFlusher`);
        ``None`` before the first connection or when the store never syncs."""
        checkpointer = self._checkpointer
        if checkpointer is None or checkpointer.flusher is None:
            return None
        return checkpointer.flusher.flushes

    def unit_of_work(self, *, write: bool, snapshot: bool = True) -> SqliteUnitOfWork:
        """One transaction; a read with ``snapshot=False`` runs its statements without one
        (for a read of a single statement, which is atomic by itself)."""
        conn, repos, group = self._connection()
        return SqliteUnitOfWork(conn, repos, group, write=write, snapshot=snapshot)

    def grouped_write(self) -> GroupedSqliteUnitOfWork | None:
        """A write in this thread's open group (opened if there is none); call it on the
        thread of a running event loop, and await its :meth:`~GroupedSqliteUnitOfWork.durable`
        before answering. ``None`` when the store was opened with ``group_writes=False``."""
        if not self.group_writes:
            return None
        conn, repos, group = self._connection()
        return GroupedSqliteUnitOfWork(conn, repos, group)

    def close(self) -> None:
        with self._lock:
            if self._checkpointer is not None:
                self._checkpointer.stop()
                self._checkpointer = None
            for group in self._groups:
                group.settle()
            self._groups.clear()
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


class WriteGroup:
    """The shared transaction of one connection's grouped writes.

    The first grouped write of a pass of the event loop opens it (``BEGIN IMMEDIATE``) and
    asks the loop to commit it on its next pass; every grouped write until then runs in a
    savepoint of its own inside it. A write that raises is undone to its savepoint alone. A
    unit of work of its own on the same connection (a read, say) commits the group first, so
    nothing reads another request's changes before they are committed.

    When the commit fails (a full disk, an I/O error) or SQLite itself rolls the whole
    transaction back, every write of the group learns it from ``durable()`` as
    :class:`ServiceUnavailable` and nothing of the group is kept: a retry runs again."""

    __slots__ = ("_conn", "_scheduled", "_waiters", "active")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._waiters: list[asyncio.Future[None]] = []
        self._scheduled = False
        #: A grouped write's block is running (its savepoint is open).
        self.active = False

    def join(self) -> asyncio.Future[None]:
        """Open the group if needed and return the future its commit will settle."""
        loop = asyncio.get_running_loop()
        if self.active:
            raise RuntimeError("a grouped write cannot open inside another grouped write")
        if not self._waiters:
            self._conn.execute("BEGIN IMMEDIATE")
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._commit_scheduled)
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        return waiter

    def settle(self) -> None:
        """Commit the open group now, if there is one."""
        if self.active:
            raise RuntimeError("a unit of work cannot open inside a grouped write")
        if self._waiters:
            self._finish()

    def _commit_scheduled(self) -> None:
        self._scheduled = False
        if self.active:  # a write's block is open (it cannot be, as blocks never await): later
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._commit_scheduled)
        elif self._waiters:
            self._finish()

    def _finish(self) -> None:
        waiters, self._waiters = self._waiters, []
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                # A broken connection may refuse even this; SQLite then drops the transaction.
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
            _tell(waiters, exc)
            return
        _tell(waiters, None)

    def lost(self, exc: BaseException) -> None:
        """SQLite rolled the group's transaction back itself: every write in it is gone."""
        waiters, self._waiters = self._waiters, []
        _tell(waiters, exc)


def _tell(waiters: list[asyncio.Future[None]], exc: BaseException | None) -> None:
    """Settle the waiters of a group: committed (``exc`` is None) or failed. From another
    thread (a store closed off the loop), through the loop."""
    if not waiters:
        return
    loop = waiters[0].get_loop()
    try:
        here = asyncio.get_running_loop() is loop
    except RuntimeError:
        here = False
    for waiter in waiters:
        if exc is None:
            outcome: BaseException | None = None
        else:
            outcome = ServiceUnavailable(
                f"The change could not be saved ({exc}); nothing of it was kept. Retry the request."
            )
        if here:
            _settle(waiter, outcome)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(_settle, waiter, outcome)


def _settle(waiter: asyncio.Future[None], outcome: BaseException | None) -> None:
    if waiter.done():  # its request was cancelled meanwhile
        return
    if outcome is None:
        waiter.set_result(None)
    else:
        waiter.set_exception(outcome)


class GroupedSqliteUnitOfWork(SharedRepositories):
    """One write inside its connection's :class:`WriteGroup`, in a savepoint of its own."""

    def __init__(self, conn: sqlite3.Connection, repos: Repositories, group: WriteGroup) -> None:
        self._group = group
        self._conn = conn
        self._waiter: asyncio.Future[None] | None = None
        self._use(repos)

    def __enter__(self) -> GroupedSqliteUnitOfWork:
        self._waiter = self._group.join()
        self._conn.execute("SAVEPOINT grouped_write")
        self._group.active = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._group.active = False
        if exc is not None:
            self._undo(exc)
            return
        try:
            self._conn.execute("RELEASE grouped_write")
        except sqlite3.Error as failed:  # the write fails after all, and is undone
            self._undo(failed)
            raise

    def _undo(self, reason: BaseException) -> None:
        """Undo this write alone, or, when SQLite ended the transaction, tell the group."""
        if not self._conn.in_transaction:  # an I/O error or a full disk ends it all
            self._group.lost(reason)
            return
        try:
            self._conn.execute("ROLLBACK TO grouped_write")
            self._conn.execute("RELEASE grouped_write")
        except sqlite3.Error as failed:
            if self._conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
            self._group.lost(failed)

    async def durable(self) -> None:
        if self._waiter is None:  # it never joined a group (BEGIN failed): nothing to wait for
            return
        await self._waiter


#: A committing writer checkpoints once the WAL holds this many bytes (SQLite's own default,
#: 1000 pages of 4 KB).
WAL_LIMIT = 4 * 1024 * 1024

#: The WAL file is cut back to this size when it starts over. Above :data:`WAL_LIMIT`, so the
#: file keeps the blocks it grew into: cut back to 4 MB after every checkpoint, the next commit
#: past it allocated them again, and syncing newly allocated blocks costs a journal commit too.
WAL_FILE_LIMIT = 4 * WAL_LIMIT


def bound_wal(conn: sqlite3.Connection) -> None:
    """Keep a request connection's WAL bounded; the :class:`WalCheckpointer` does most of the
    copying meanwhile.

    The WAL only starts over from its beginning when a writer finds every frame copied back,
    and a checkpoint in another thread never gets there while writes go on: frames arrive
    during every pass. With that thread as the only checkpointer, the WAL grew by 300 MB a
    second under steady writes, without end, and every page lookup walked its ever longer index
    (create + checkout fell from 970 to 500 req/s within 10 s). So the committing writer
    checkpoints too, once the WAL reaches :data:`WAL_LIMIT`: it copies what the thread has not
    yet copied and syncs, and the next write starts the WAL over. Those commits take 10-20 ms
    (mostly the two fsyncs); with a 64 MB limit they took 35-50 ms, less often, and the p99 of
    create + checkout was worse (docs/decisions.md)."""
    page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    conn.execute(f"PRAGMA wal_autocheckpoint={max(1, WAL_LIMIT // page)}")
    conn.execute(f"PRAGMA journal_size_limit={WAL_FILE_LIMIT}")


class WalFlusher:
    """Writes what was appended to a WAL file through to the disk, from a thread of its own,
    ahead of the checkpoint that must sync it.

    With ``synchronous=NORMAL`` a commit only writes its frames into the page cache; the
    checkpoint that copies them back first syncs the whole WAL, and that ran on the event loop
    (4-5 ms for 4 MB of WAL, every 65 ms under create + checkout). Synced here every few
    milliseconds, the checkpoint finds little left to write (0.4 ms). It never takes a lock of
    SQLite's, changes nothing in the file, and never closes its descriptor while the file is in
    use (closing a descriptor would drop the process's POSIX locks on that file; SQLite keeps
    none on the WAL, but nothing here relies on it)."""

    def __init__(self, path: str) -> None:
        self.path = path
        #: How many times the WAL was synced (a file that did not change is not).
        self.flushes = 0
        self._fd = -1
        self._seen: tuple[int, int, int] | None = None

    def flush(self) -> bool:
        """Sync the WAL if it changed since the last call; ``True`` when it was synced."""
        try:
            if self._fd < 0:
                self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            stat = os.fstat(self._fd)
            if stat.st_nlink == 0:  # removed (the last connection closed): open the new one
                self.close()
                return False
            # A rewound WAL keeps its size; its modification time moves with every write. One
            # missed within the clock's tick is synced by the next call or by the checkpoint.
            stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
            if stamp == self._seen:
                return False
            self._seen = stamp
            os.fdatasync(self._fd)
        except FileNotFoundError:  # no WAL yet
            return False
        except OSError:
            self.close()
            return False
        self.flushes += 1
        return True

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = -1
        self._seen = None


class WalCheckpointer:
    """Copies the WAL back into the database every :attr:`EVERY` seconds, on a connection and
    thread of its own. PASSIVE never waits for readers or writers; with several server
    processes on one file, whichever checkpoints first does the work and the others find
    little left. The copy's file I/O runs outside the GIL, so requests go on meanwhile. What
    this thread cannot do, starting the WAL over, the writers do (:func:`bound_wal`). In
    between, every :attr:`FLUSH_EVERY` seconds, it syncs the WAL's new frames
    (:class:`WalFlusher`) unless the store never syncs (``synchronous=off``)."""

    EVERY = 0.25
    FLUSH_EVERY = 0.01

    def __init__(self, path: str, synchronous: str = "normal") -> None:
        self._path = path
        self._synchronous = synchronous
        self.flusher = WalFlusher(path + "-wal") if synchronous != "off" else None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="partnercart-wal-checkpoint", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        flusher = self.flusher
        tick = self.EVERY if flusher is None else min(self.FLUSH_EVERY, self.EVERY)
        next_checkpoint = time.monotonic() + self.EVERY
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            conn.execute(f"PRAGMA synchronous={self._synchronous.upper()}")
            while not self._stop.wait(tick):
                if flusher is not None:
                    flusher.flush()
                    if time.monotonic() < next_checkpoint:
                        continue
                    next_checkpoint = time.monotonic() + self.EVERY
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue  # busy or the file went away; the next round tries again
        finally:
            conn.close()
            if flusher is not None:
                flusher.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
