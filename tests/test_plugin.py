"""The pytest plugin's server, as a user's test run meets it: how it starts, what it says when
it cannot, and what it leaves behind."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

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
