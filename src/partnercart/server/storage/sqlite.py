"""The embedded default: SQLite in WAL mode, called inline (a point read costs microseconds)."""

from __future__ import annotations

import sqlite3
import threading
from types import TracebackType

from partnercart.server.storage.session import Repositories, SharedRepositories
from partnercart.server.storage.sql import SQLITE


class SqliteUnitOfWork(SharedRepositories):
    def __init__(
        self,
        connection: sqlite3.Connection,
        repos: Repositories,
        *,
        write: bool,
        snapshot: bool = True,
    ) -> None:
        self._conn = connection
        self._write = write
        # A read of one statement needs no transaction around it: the statement is its own.
        self._transaction = write or snapshot
        self._use(repos)

    def __enter__(self) -> SqliteUnitOfWork:
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

    def __init__(self, path: str, *, synchronous: str = "normal") -> None:
        if synchronous not in self.SYNC_MODES:
            raise ValueError(f"synchronous must be one of {self.SYNC_MODES}, not {synchronous!r}")
        self.path = path
        self.synchronous = synchronous
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._checkpointer: WalCheckpointer | None = None

    def _connection(self) -> tuple[sqlite3.Connection, Repositories]:
        """This thread's connection and the repositories over its cursor."""
        found: tuple[sqlite3.Connection, Repositories] | None = getattr(self._local, "conn", None)
        if found is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a process crash (every commit is in the WAL before
            # the call returns); only an OS crash or power cut may lose the last commits. OFF
            # never syncs (a throwaway data dir): an OS crash may then corrupt the file.
            conn.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("PRAGMA foreign_keys=ON")
            bound_wal(conn)
            found = (conn, Repositories(conn.cursor(), SQLITE, advisory_locks=False))
            self._local.conn = found
            with self._lock:
                self._all.append(conn)
                if self._checkpointer is None:
                    self._checkpointer = WalCheckpointer(self.path, self.synchronous)
        return found

    def unit_of_work(self, *, write: bool, snapshot: bool = True) -> SqliteUnitOfWork:
        """One transaction; a read with ``snapshot=False`` runs its statements without one
        (for a read of a single statement, which is atomic by itself)."""
        conn, repos = self._connection()
        return SqliteUnitOfWork(conn, repos, write=write, snapshot=snapshot)

    def close(self) -> None:
        with self._lock:
            if self._checkpointer is not None:
                self._checkpointer.stop()
                self._checkpointer = None
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


#: A committing writer checkpoints once the WAL holds this many bytes (SQLite's own default,
#: 1000 pages of 4 KB), and the WAL file is cut back to this size when it starts over.
WAL_LIMIT = 4 * 1024 * 1024


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
    conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")


class WalCheckpointer:
    """Copies the WAL back into the database every :attr:`EVERY` seconds, on a connection and
    thread of its own. PASSIVE never waits for readers or writers; with several server
    processes on one file, whichever checkpoints first does the work and the others find
    little left. The copy's file I/O runs outside the GIL, so requests go on meanwhile. What
    this thread cannot do, starting the WAL over, the writers do (:func:`bound_wal`)."""

    EVERY = 0.25

    def __init__(self, path: str, synchronous: str = "normal") -> None:
        self._path = path
        self._synchronous = synchronous
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="partnercart-wal-checkpoint", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout=1000")
            conn.execute(f"PRAGMA synchronous={self._synchronous.upper()}")
            while not self._stop.wait(self.EVERY):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue  # busy or the file went away; the next round tries again
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
