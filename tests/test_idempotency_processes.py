"""Two real server processes on one PostgreSQL database honour one MS-RequestId once."""

from __future__ import annotations

import datetime as dt
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from partnercart.server.domain.idempotency import REPLAY_HEADER
from partnercart.server.identity.keys import SigningKey
from partnercart.server.identity.tokens import TokenIssuer
from partnercart.server.settings import AuthSettings
from partnercart.server.storage import DatabaseUrl, migrate
from tests.conftest import customer_body

SRC = Path(__file__).resolve().parents[1] / "src"
ROUNDS = 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(database: str, data_dir: Path, log: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "partnercart", "serve", "--database", database]
    command += ["--port", str(port), "--data-dir", str(data_dir), "--no-migrate"]
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/_partnercart/ping", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server did not start:\n{log.read_text()}")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert "Traceback" not in log.read_text(), log.read_text()


def _all_at_once(
    targets: list[str], body: dict[str, Any], headers: dict[str, str]
) -> list[httpx.Response]:
    """POST the same request to every target from its own thread, released together."""
    barrier = threading.Barrier(len(targets))
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def fire(target: str) -> None:
        with httpx.Client(timeout=30) as client:
            client.get(target.split("/v1/")[0] + "/_partnercart/ping")  # connect first
            barrier.wait()
            answer = client.post(target, json=body, headers=headers)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=fire, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def shared_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.mark.slow
def test_two_processes_honour_one_request_id_once(shared_database: str, tmp_path: Path) -> None:
    """PostgreSQL: a request arriving while the first runs elsewhere gets 409. SQLite: the
    second writer waits for the database lock (BEGIN IMMEDIATE) and then replays."""
    database = shared_database
    migrate.upgrade(DatabaseUrl.parse(database))
    data_dir = tmp_path / "data"
    key = SigningKey.load_or_create(data_dir)  # made once, so both processes share it
    partner = str(uuid.uuid4())
    token = TokenIssuer(key, issuer=AuthSettings().issuer, lifetime=dt.timedelta(hours=1)).issue(
        tenant_id=partner, client_id=str(uuid.uuid4()), now=dt.datetime.now(dt.UTC)
    )
    auth = {"Authorization": f"Bearer {token}"}
    with ExitStack() as stack:
        urls = [
            stack.enter_context(_server(database, data_dir, tmp_path / f"server{n}.log"))
            for n in (1, 2)
        ]
        created = httpx.post(f"{urls[0]}/v1/customers", json=customer_body(), headers=auth)
        assert created.status_code == 201, created.text
        customer = created.json()["id"]
        body = {"lineItems": [{"catalogItemId": "CFQ7TTC0LH18:0001:CFQ7TTC0K971", "quantity": 1}]}
        statuses: list[int] = []
        for _ in range(ROUNDS):
            headers = {**auth, "MS-RequestId": str(uuid.uuid4())}
            path = f"/v1/customers/{customer}/carts"
            answers = _all_at_once([f"{url}{path}" for url in urls * 2], body, headers)
            assert len(answers) == 4
            ok = [a for a in answers if a.status_code == 201]
            assert ok, [a.text for a in answers]
            assert all(a.status_code == 409 for a in answers if a.status_code != 201)
            if database.startswith("sqlite"):
                assert len(ok) == len(answers)
            assert len({a.content for a in ok}) == 1
            assert sum(REPLAY_HEADER not in a.headers for a in ok) <= 1
            statuses += [a.status_code for a in answers]
            # Afterwards every retry, at either process, is a replay of the one answer.
            for url in urls:
                retry = httpx.post(
                    f"{url}/v1/customers/{customer}/carts", json=body, headers=headers
                )
                assert retry.status_code == 201
                assert retry.headers[REPLAY_HEADER] == "true"
                assert len(retry.headers.get_list("date")) == 1  # ours; uvicorn's is off
                assert retry.content == ok[0].content
    assert count_carts(database) == ROUNDS
    print(f"{database.split(':')[0]}, {ROUNDS} rounds of 4: ", end="")
    print(f"{statuses.count(201)} x 201, {statuses.count(409)} x 409")


def count_carts(database: str) -> int:
    url = DatabaseUrl.parse(database)
    if url.engine == "sqlite":
        with closing(sqlite3.connect(url.target)) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM carts").fetchone()[0])
    with psycopg.connect(url.target) as pg:
        row = pg.execute("SELECT COUNT(*) FROM carts").fetchone()
    assert row is not None
    return int(row[0])
