"""The pytest plugin's server, as a user's test run meets it: how it starts, what it says when
it cannot, and what it leaves behind."""

from __future__ import annotations

import socket
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
