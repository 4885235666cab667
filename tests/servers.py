"""Real server processes for the multi-process, crash and end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import customer_body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_token(data_dir: Path, tenant: str) -> str:
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
        timeout=60,
    )
    return done.stdout.strip()


@dataclass
class ServerProcess:
    data_dir: Path
    database: str | None = None
    extra: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[str] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 60) -> ServerProcess:
        args = [
            sys.executable,
            "-m",
            "partnercart",
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            *self.extra,
        ]
        if self.database:
            args += ["--database", self.database]
        self.log = self.data_dir.parent / f"server-{self.port}-{uuid.uuid4().hex[:6]}.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/_partnercart/ping", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{self.output()}")
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text() if self.log and self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown code runs."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def running(*servers: ServerProcess) -> Iterator[tuple[ServerProcess, ...]]:
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


class Partner:
    """A partner tenant talking to a server over real HTTP."""

    def __init__(self, data_dir: Path, tenant: str | None = None) -> None:
        self.tenant = tenant or str(uuid.uuid4())
        self.headers = {"Authorization": f"Bearer {make_token(data_dir, self.tenant)}"}

    def new_customer(self, base: str, country: str = "US") -> str:
        response = httpx.post(
            f"{base}/v1/customers", json=customer_body(country), headers=self.headers, timeout=30
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def new_cart(self, base: str, customer: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        response = httpx.post(
            f"{base}/v1/customers/{customer}/carts",
            json={"lineItems": lines},
            headers=self.headers,
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


def line(quantity: int, catalog: str = "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS") -> dict[str, Any]:
    return {
        "catalogItemId": catalog,
        "quantity": quantity,
        "termDuration": "P1M",
        "billingCycle": "monthly",
    }
