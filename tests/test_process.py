"""A real server process, as a new user runs it: start, create, restart, read back."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import customer_body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(data_dir: Path, *extra: str) -> Iterator[tuple[str, str]]:
    """Run ``partnercart serve``; yield its URL and what it printed on start."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "partnercart",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/_partnercart/ping", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read() if proc.stdout else ""
                    pytest.fail(f"server did not start: {out}")
                time.sleep(0.1)
        yield url, ""
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    if "Traceback" in (out or ""):
        pytest.fail(f"the server printed a traceback:\n{out}")


def token(data_dir: Path, tenant: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "partnercart",
            "token",
            "--tenant",
            tenant,
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_a_restarted_server_still_serves_its_carts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    tenant = str(uuid.uuid4())
    with server(data) as (url, _):
        auth = {"Authorization": f"Bearer {token(data, tenant)}"}
        customer = httpx.post(f"{url}/v1/customers", json=customer_body(), headers=auth)
        assert customer.status_code == 201
        cid = customer.json()["id"]
        cart = httpx.post(
            f"{url}/v1/customers/{cid}/carts",
            json={
                "lineItems": [
                    {
                        "catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS",
                        "quantity": 2,
                        "billingCycle": "monthly",
                        "termDuration": "P1M",
                    }
                ]
            },
            headers=auth,
        )
        assert cart.status_code == 201
    assert (data / "partnercart.db").is_file()
    with server(data) as (url, _):
        # The key survived too: a token made before the restart still verifies.
        again = httpx.get(f"{url}/v1/customers/{cid}/carts/{cart.json()['id']}", headers=auth)
        assert again.status_code == 200
        assert again.json() == cart.json()


def test_serve_says_where_it_listens_and_where_data_lives(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "partnercart",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "d"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        second = proc.stdout.readline()
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    assert f"listening on http://127.0.0.1:{port}" in first
    assert str((tmp_path / "d" / "partnercart.db").resolve()) in second


def test_serve_refuses_a_bad_database_url(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "partnercart",
            "serve",
            "--database",
            "mysql://x/y",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "unsupported database URL" in done.stderr
    assert "Traceback" not in done.stderr


def _raw_exchange(url: str, request: bytes) -> bytes:
    """Send bytes as they are and read until the server closes the connection."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


MALFORMED = {
    "a control character in a header": (
        b"GET /v1/customers HTTP/1.1\r\nHost: x\r\nIf-Match: \x01\x02\r\n\r\n"
    ),
    "no request line": b"GARBAGE\r\n\r\n",
    "a chunk size that is not hex": (
        b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
    ),
}


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["one-process", "two-workers"])
def test_a_request_that_is_not_http_gets_the_error_body(tmp_path: Path, workers: list[str]) -> None:
    """uvicorn answers what it cannot parse itself; serve makes that answer the Partner Center
    error body (400, code 800002), and the connection is closed after it."""
    with server(tmp_path / "data", *workers) as (url, _):
        for name, request in MALFORMED.items():
            answer = _raw_exchange(url, request)
            head, _, body = answer.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            assert lines[0] == "HTTP/1.1 400 Bad Request", name
            fields = dict(line.lower().split(": ", 1) for line in lines[1:])
            assert fields["content-type"] == "application/json; charset=utf-8", name
            assert fields["connection"] == "close", name
            assert int(fields["content-length"]) == len(body), name
            assert fields["ms-serverid"].startswith("partnercart-"), name
            error = json.loads(body)
            assert error["code"] == 800002, name
            assert "not valid HTTP/1.1" in error["description"], name
            assert error["data"] == []
        # The server goes on serving well-formed requests.
        assert httpx.get(f"{url}/_partnercart/ping", timeout=5).status_code == 200


def test_a_test_run_that_is_killed_takes_its_server_with_it(tmp_path: Path) -> None:
    """The plugin's server watches the process that started it (PARTNERCART_EXIT_WITH): a run
    killed with SIGKILL, which can stop nothing, still leaves no server behind."""
    import signal

    from partnercart.server.watchdog import ENV, alive
    from partnercart.testing._server import EXIT_WITH

    assert EXIT_WITH == ENV

    starter = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from partnercart.testing._server import ServerProcess\n"
        "server = ServerProcess(Path(sys.argv[1])).start()\n"
        "print(server.url, server.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    # Not an xdist worker, even when this test runs in one (the server would watch the
    # controller, which outlives this test).
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"}
    run = subprocess.Popen(
        [sys.executable, "-c", starter, str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert run.stdout is not None
        url, pid_text = run.stdout.readline().split()
        server_pid = int(pid_text)
        assert httpx.get(f"{url}/_partnercart/ping", timeout=5).status_code == 200
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
        deadline = time.monotonic() + 30
        while _running(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(server_pid), "the server outlived the run that started it"
        assert alive(os.getpid())
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=10)
        if run.stdout is not None:
            run.stdout.close()


def _running(pid: int) -> bool:
    """Alive and not a zombie (the server is the killed run's child, reaped by init)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_stopped_server_closes_its_database(tmp_path: Path) -> None:
    """SIGTERM (how the pytest plugin and process managers stop ``serve``) ends with the store
    closed: uvicorn raises the signal again once it has shut down, so nothing after
    ``uvicorn.run`` runs, and the SQLite connections were left open (their WAL behind them; on
    PostgreSQL the pool's connections just dropped)."""
    data = tmp_path / "data"
    with server(data) as (url, _):
        auth = {"Authorization": f"Bearer {token(data, str(uuid.uuid4()))}"}
        assert httpx.post(f"{url}/v1/customers", json=customer_body(), headers=auth).is_success
        assert (data / "partnercart.db-wal").exists()
    # The last connection to close checkpoints the WAL into the file and removes it.
    assert not (data / "partnercart.db-wal").exists()
    assert (data / "partnercart.db").is_file()
