"""A small HTTP/1.1 keep-alive load generator, for machines without ``wrk``.

``python bench/pyload.py SPEC.json`` runs the :class:`harness.LoadSpec` in the file and prints
the same ``BENCH_JSON {...}`` line as the wrk script. One process, one event loop (uvloop when
installed), ``connections`` sockets each sending its next request when the last answer is in
(no pipelining). ``bench/run.py --compare-loadgen`` measures it against wrk on the same routes.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import time
import uuid
from typing import Any

_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:\s*chunked", re.IGNORECASE)
_CART_ID = re.compile(rb'^\{"id":"([0-9a-f-]+)"')


class Generator:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.counter = 0
        self.pending: list[str] = []
        self.base = "".join(f"{k}: {v}\r\n" for k, v in spec["headers"].items())
        body = spec["body"]
        self.body = body.encode() if body is not None else None
        self.host = f"Host: 127.0.0.1:{spec['port']}\r\n"

    def _format(self, method: str, path: str, body: bytes | None) -> bytes:
        self.counter += 1
        extra = ""
        if self.spec["request_ids"]:
            extra = f"MS-RequestId: {uuid.uuid4()}\r\n"  # random, as the SDKs send
        length = f"Content-Length: {len(body)}\r\n" if body is not None else ""
        if body is None and method in ("POST", "PUT"):
            length = "Content-Length: 0\r\n"
        head = f"{method} {path} HTTP/1.1\r\n{self.host}{self.base}{extra}{length}\r\n"
        return head.encode() + (body or b"")

    def next(self) -> bytes:
        spec = self.spec
        paths: list[str] = spec["paths"]
        mode = spec["mode"]
        if mode == "random":
            return self._format(spec["method"], random.choice(paths), self.body)
        if mode == "create_checkout":
            if self.pending:
                cart_id = self.pending.pop()
                checkout = spec["checkout_body"].encode() if spec["checkout_body"] else None
                return self._format("POST", f"{paths[0]}/{cart_id}/checkout", checkout)
            return self._format("POST", paths[0], self.body)
        return self._format(spec["method"], paths[self.counter % len(paths)], self.body)

    def on_response(self, status: int, body: bytes) -> None:
        if self.spec["mode"] == "create_checkout" and status == 201:
            match = _CART_ID.match(body)
            if match:
                self.pending.append(match.group(1).decode())


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors_status = 0
        self.errors_socket = 0


class Connection(asyncio.Protocol):
    def __init__(
        self, generator: Generator, stats: Stats, deadline: float, done: asyncio.Future[None]
    ) -> None:
        self.generator = generator
        self.stats = stats
        self.deadline = deadline
        self.done = done
        self.buffer = b""
        self.started = 0.0
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's transports do not subclass asyncio.Transport
        self._send()

    def _send(self) -> None:
        data = self.generator.next()
        self.started = time.perf_counter()
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            match = _LENGTH.search(self.buffer, 0, end + 2)
            if match is None and _CHUNKED.search(self.buffer, 0, end + 2):
                raise SystemExit("pyload reads Content-Length bodies only, not chunked ones")
            length = int(match.group(1)) if match else 0
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            now = time.perf_counter()
            status = int(self.buffer[9:12])
            body = self.buffer[end + 4 : total]
            self.buffer = self.buffer[total:]
            self.stats.latencies.append(now - self.started)
            if status >= 400:
                self.stats.errors_status += 1
            self.generator.on_response(status, body)
            if now >= self.deadline:
                self._finish()
                return
            self._send()

    def _finish(self) -> None:
        if self.transport is not None:
            self.transport.close()
        if not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if time.perf_counter() < self.deadline:
            self.stats.errors_socket += 1
        if not self.done.done():
            self.done.set_result(None)


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, round(pct / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    generator = Generator(spec)
    stats = Stats()
    begin = time.perf_counter()
    deadline = begin + float(spec["duration"])
    futures: list[asyncio.Future[None]] = []
    for _ in range(int(spec["connections"])):
        done: asyncio.Future[None] = loop.create_future()
        futures.append(done)
        await loop.create_connection(
            lambda d=done: Connection(generator, stats, deadline, d),  # type: ignore[misc]
            "127.0.0.1",
            int(spec["port"]),
        )
    await asyncio.gather(*futures)
    elapsed = time.perf_counter() - begin
    ordered = sorted(stats.latencies)
    ms = 1000.0
    return {
        "requests": len(ordered),
        "duration_s": elapsed,
        "p50_ms": percentile(ordered, 50) * ms,
        "p90_ms": percentile(ordered, 90) * ms,
        "p99_ms": percentile(ordered, 99) * ms,
        "max_ms": (ordered[-1] if ordered else 0.0) * ms,
        "mean_ms": (sum(ordered) / len(ordered) if ordered else 0.0) * ms,
        "errors_status": stats.errors_status,
        "errors_socket": stats.errors_socket,
    }


def main() -> None:
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        runner = asyncio.run
    result = runner(run(spec))
    print("BENCH_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
