"""The pytest plugin's server, as a user's test run meets it: how it starts, what it says when
it cannot, and what it leaves behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import httpx
import pytest

from partnercart.testing import _server
from partnercart.testing._server import ServerProcess


def test_a_server_that_cannot_start_says_why_once_with_its_command_and_log(
    tmp_path: Path,
) -> None:
    """A server that exits is not started twice more (only a lost port race is retried), and
    the message carries that one attempt's output, how it ended, the command and the log."""
    process = ServerProcess(tmp_path / "data", database="mysql://x/y")
    with pytest.raises(RuntimeError) as caught:
        process.start()
    message = str(caught.value)
    assert message.count("unsupported database URL") == 1
    assert "exited with code" in message
    assert "--database mysql://x/y" in message
    assert str(tmp_path / "data" / "server.log") in message
    assert process.process is None


def test_a_port_taken_before_the_server_binds_it_is_retried_on_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = [taken.getsockname()[1]]
        monkeypatch.setattr(
            _server, "free_port", lambda: ports.pop() if ports else real_free_port()
        )
        process = ServerProcess(tmp_path / "data")
        try:
            server = process.start()
            assert httpx.get(f"{server.url}/_partnercart/ping", timeout=5).status_code == 200
            assert not ports  # the taken port was tried first...
            assert server.url != f"http://127.0.0.1:{taken.getsockname()[1]}"  # ...then another
        finally:
            process.stop()


real_free_port = _server.free_port


USER_TESTS = """
def test_the_clock(partnercart_control, partner_tenant):
    got = partnercart_control.get(f"/partners/{partner_tenant}/clock")
    assert got.status_code == 200, got.text
"""


def _user_run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``pytest`` in a user's project with the plugin loaded by name."""
    project.mkdir(exist_ok=True)
    (project / "test_user.py").write_text(USER_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PARTNERCART_"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    plugins = ["-p", "partnercart.testing.plugin", "-p", "no:cacheprovider"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *plugins, "-q", "test_user.py", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_url_where_no_server_answers_fails_the_run_with_one_clear_message(
    tmp_path: Path,
) -> None:
    url = f"http://127.0.0.1:{real_free_port()}"
    done = _user_run(tmp_path / "project", "--partnercart-url", url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"no partnercart server answers at {url}" in done.stdout


def test_a_server_started_elsewhere_gets_the_control_plane_with_the_key_given(
    tmp_path: Path,
) -> None:
    process = ServerProcess(tmp_path / "data")
    server = process.start()
    try:
        assert server.admin_key == (tmp_path / "data" / "admin-key").read_text().strip()
        given = _user_run(
            tmp_path / "project",
            "--partnercart-url",
            server.url,
            "--partnercart-admin-key",
            server.admin_key,
        )
        assert given.returncode == 0, given.stdout + given.stderr
        missing = _user_run(tmp_path / "project", "--partnercart-url", server.url)
        assert missing.returncode == 1
        assert "partnercart_control needs the admin key of" in missing.stdout
    finally:
        process.stop()


def test_a_run_whose_server_cannot_start_shows_the_reason_without_the_plugins_traceback(
    tmp_path: Path,
) -> None:
    done = _user_run(tmp_path / "project", "--partnercart-database", "mysql://x/y")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the partnercart server did not start: it exited with code" in done.stdout
    assert "unsupported database URL" in done.stdout
    assert "_server.py" not in done.stdout  # no traceback through the plugin...
    assert "During handling of the above exception" not in done.stdout  # ...nor a chained one


class _SleepingServer:
    """Stands in for ``ServerProcess`` in :class:`SharedServer`: a real child process (so
    stopping it by pid is real) that "answers" while it runs. ``process`` is a stand-in too,
    for ``SharedServer`` to settle; the child itself is kept in :attr:`running`."""

    running: ClassVar[dict[str, subprocess.Popen[bytes]]] = {}

    def __init__(self, data_dir: Path, *, database: str | None = None) -> None:
        self.data_dir = data_dir
        self.process: SimpleNamespace | None = None
        self._child: subprocess.Popen[bytes] | None = None

    def start(self) -> _server.RunningServer:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        self._child, self.process = child, SimpleNamespace(returncode=None)
        url = f"http://server-{child.pid}"
        self.running[url] = child
        return _server.RunningServer(url, self.data_dir, child.pid)

    def stop(self) -> None:
        if self._child is not None and self._child.poll() is None:
            self._child.terminate()
            self._child.wait(timeout=15)
        self.process = None


@pytest.fixture
def sleeping_servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """``SharedServer`` starts :class:`_SleepingServer`s, which answer while they run, unless
    their URL is in the set yielded."""
    running = _SleepingServer.running
    silent: set[str] = set()

    def ping(url: str, timeout: float = 2.0) -> bool:
        return url in running and url not in silent and running[url].poll() is None

    monkeypatch.setattr(_server, "ServerProcess", _SleepingServer)
    monkeypatch.setattr(_server, "_ping", ping)
    try:
        yield silent
    finally:
        for process in running.values():
            if process.poll() is None:
                process.kill()
                process.wait(timeout=15)
        running.clear()


@pytest.mark.usefixtures("sleeping_servers")
def test_releases_for_a_dead_shared_server_leave_its_successors_count_alone(
    tmp_path: Path,
) -> None:
    """Workers A and B share a server; it dies; worker C starts another. A and B then
    release the dead one: the new server's count is not theirs to decrement, so it keeps
    serving C (and D, who joins it) until the last of its own users leaves."""
    running = _SleepingServer.running
    a, b, c, d = (_server.SharedServer(tmp_path / "shared") for _ in range(4))
    first = a.acquire()
    assert b.acquire().url == first.url
    running[first.url].terminate()  # the shared server dies mid-run
    running[first.url].wait(timeout=15)
    second = c.acquire()
    assert second.url != first.url
    second_process = running[second.url]
    b.release()  # B held the dead server, and never started one
    assert second_process.poll() is None, "B's release stopped C's server"
    a.release()
    assert second_process.poll() is None, "A's release stopped C's server"
    assert d.acquire().url == second.url  # still alive, still shared
    d.release()
    assert second_process.poll() is None
    c.release()  # the last of its users
    assert second_process.wait(timeout=15) is not None
    assert not (tmp_path / "shared" / "server.json").exists()


def test_a_replaced_server_that_still_runs_is_stopped_by_its_own_last_user(
    tmp_path: Path, sleeping_servers: set[str]
) -> None:
    """A server too slow to answer one ping is replaced, yet keeps serving the workers that
    hold it: they count it down apart from the new one, and the last of them stops it."""
    running = _SleepingServer.running
    a, b, c = (_server.SharedServer(tmp_path / "shared") for _ in range(3))
    first = a.acquire()
    b.acquire()
    sleeping_servers.add(first.url)
    second = c.acquire()
    assert second.url != first.url
    sleeping_servers.clear()  # it answers again
    a.release()  # it started the first server, but B still uses it
    assert running[first.url].poll() is None
    b.release()  # the first server's last user, who did not start it: stopped by pid
    assert running[first.url].wait(timeout=15) is not None
    assert running[second.url].poll() is None
    c.release()
    assert running[second.url].wait(timeout=15) is not None
    assert not (tmp_path / "shared" / "server.json").exists()
