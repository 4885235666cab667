"""Run a real partnercart server in a child process on a free port (for tests).

Under pytest-xdist the workers share one server: its address, pid and the number of workers
using it live in ``server.json`` in a directory all workers of one run share, guarded by an
exclusive ``fcntl`` lock on ``server.lock``. The first worker starts the server; the last one
to finish stops it. The count belongs to one server (a generation id): when the server dies and
a worker starts another, the workers that held the dead one leave the new one's count alone.
Only this module's callers know the protocol; tests just get a URL.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

__all__ = ["RunningServer", "ServerProcess", "SharedServer", "free_port", "read_admin_key"]

START_TIMEOUT = 60.0
#: ``partnercart.server.watchdog.ENV``, spelled out: a client-only install imports nothing of
#: the server (tests/client/test_public_surface.py).
EXIT_WITH = "PARTNERCART_EXIT_WITH"


@dataclass(frozen=True, slots=True)
class RunningServer:
    """What a test needs to reach the server."""

    url: str
    data_dir: Path
    pid: int | None = None
    #: the control plane's admin key (``None``: a server started elsewhere, key not given)
    admin_key: str | None = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _source_root() -> str:
    """The directory the running ``partnercart`` package was imported from, so the child runs
    the same code as the tests (a source checkout as much as an installed package)."""
    import partnercart

    return str(Path(partnercart.__file__).resolve().parent.parent)


def read_admin_key(data_dir: Path) -> str | None:
    """The admin key ``serve`` keeps in its data directory (``<data dir>/admin-key``)."""
    try:
        return (data_dir / "admin-key").read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def _ping(url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(f"{url}/_partnercart/ping", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


class ServerProcess:
    """One ``python -m partnercart serve`` child with its own data directory and SQLite file."""

    def __init__(self, data_dir: Path, *, database: str | None = None) -> None:
        self.data_dir = data_dir
        self.database = database
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> RunningServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_source_root(), env.get("PYTHONPATH", "")) if p
        )
        # The server ends with the test run even when the run is killed: with the xdist
        # controller (whose workers share it), or with this process.
        env[EXIT_WITH] = str(os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid())
        failure = output = ""
        command: list[str] = []
        for _ in range(3):  # another process may grab the free port before the server binds it
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            command = [
                sys.executable,
                "-m",
                "partnercart",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--data-dir",
                str(self.data_dir),
                "--log-level",
                "warning",
                # The data dir is a temporary one: no fsync (writes 1.1-1.5x faster).
                "--sqlite-sync",
                "off",
            ]
            if self.database:
                command += ["--database", self.database]
            # Each attempt writes the log afresh: a failure shows that attempt's output only.
            with self.log_file.open("wb") as log:
                self.process = subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
                )
            failure = self._wait_ready()
            if not failure:
                return RunningServer(
                    self.url, self.data_dir, self.process.pid, read_admin_key(self.data_dir)
                )
            self.stop()
            output = self._log_tail()
            if "address already in use" not in output.lower():
                break  # anything but a lost port race fails the same way again
        raise RuntimeError(
            f"the partnercart server did not start: it {failure}.\n"
            f"command: {shlex.join(command)}\n"
            f"its output ({self.log_file}):\n{output}"
        )

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    def _wait_ready(self) -> str:
        """``""`` once the server answers; otherwise what went wrong."""
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                return f"exited with code {code}"
            if _ping(self.url, timeout=1.0):
                return ""
            time.sleep(0.05)
        return f"did not answer GET {self.url}/_partnercart/ping within {START_TIMEOUT:.0f} s"

    def _log_tail(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.process = None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    with path.open("a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class SharedServer:
    """One server for all the xdist workers of a run, reference-counted in ``server.json``.

    Each server started gets a generation id, and the count of its users is kept under that
    id: ``{"current": id, "servers": {id: {"url", "pid", "users"}}}``. A worker releases the
    generation it acquired. When the current server stops answering, the next worker starts
    another (a new generation, counted from 1) and the old entry stays for the workers still
    holding it: their releases count it down, never the new one, and its last user stops it
    (by its own handle, or by pid only while it still answers: a dead server's pid may have
    been given to another process)."""

    def __init__(self, shared_dir: Path, *, database: str | None = None) -> None:
        self.dir = shared_dir
        self.database = database
        self.state_file = shared_dir / "server.json"
        self.lock_file = shared_dir / "server.lock"
        self._own: ServerProcess | None = None
        #: the generation this worker acquired (``None`` before acquire, and after release)
        self._generation: str | None = None

    def _read(self) -> tuple[str | None, dict[str, dict[str, Any]]]:
        """The current generation and every generation still counted."""
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None, {}
        if not isinstance(state, dict) or not isinstance(state.get("servers"), dict):
            return None, {}
        servers = {
            str(generation): entry
            for generation, entry in state["servers"].items()
            if isinstance(entry, dict)
        }
        current = state.get("current")
        return (current if isinstance(current, str) else None), servers

    def _write(self, current: str | None, servers: dict[str, dict[str, Any]]) -> None:
        if servers:
            self.state_file.write_text(json.dumps({"current": current, "servers": servers}))
        else:
            with contextlib.suppress(OSError):
                self.state_file.unlink()

    def acquire(self) -> RunningServer:
        self.dir.mkdir(parents=True, exist_ok=True)
        with _locked(self.lock_file):
            current, servers = self._read()
            entry = servers.get(current) if current is not None else None
            if entry is not None and int(entry.get("users", 0)) > 0 and _ping(str(entry["url"])):
                entry["users"] = int(entry["users"]) + 1
            else:
                self._own = ServerProcess(self.dir / "data", database=self.database)
                server = self._own.start()
                current = uuid.uuid4().hex
                entry = servers[current] = {"url": server.url, "pid": server.pid, "users": 1}
            self._write(current, servers)
            self._generation = current
            data = self.dir / "data"
            pid = int(entry["pid"])
            return RunningServer(str(entry["url"]), data, pid, read_admin_key(data))

    def release(self) -> None:
        generation, self._generation = self._generation, None
        with _locked(self.lock_file):
            current, servers = self._read()
            entry = servers.get(generation) if generation is not None else None
            if generation is None or entry is None:  # nothing counted for it
                if self._own is not None:
                    self._own.stop()
                    self._own = None
                return
            users = int(entry.get("users", 1)) - 1
            if users > 0:
                entry["users"] = users
                self._write(current, servers)
                if self._own is not None and self._own.process is not None:
                    # The server outlives this worker: the last user stops it by pid. Mark the
                    # handle as settled so its garbage collection does not warn.
                    self._own.process.returncode = 0
                    self._own = None
                return
            del servers[generation]
            replaced = generation != current
            self._write(current if replaced else None, servers)
            if self._own is not None:
                self._own.stop()
                self._own = None
                return
            pid = entry.get("pid")
            url = str(entry.get("url", ""))
            if replaced and not (url and _ping(url, timeout=0.5)):
                return  # found dead before: its pid may be another process's by now
            if isinstance(pid, int):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 15
                while url and time.monotonic() < deadline and _ping(url, timeout=0.5):
                    time.sleep(0.05)
