"""What the control plane costs a request: the same cart GETs against a server with the request
log on, with it off, and with a fault rule that matches nothing.

    python bench/control_overhead.py [--requests 2000] [--concurrency 16]

Prints requests per second for each; a rough figure on a shared machine, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers import Partner, ServerProcess, line, running


async def hammer(url: str, headers: dict[str, str], total: int, concurrency: int) -> float:
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        queue = iter(range(total))

        async def worker() -> None:
            for _ in queue:
                response = await client.get(url)
                assert response.status_code == 200, response.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - started)


def measure(extra: tuple[str, ...], rule: bool, total: int, concurrency: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        with running(ServerProcess(data, extra=extra)) as (server,):
            partner = Partner(data)
            customer = partner.new_customer(server.url)
            cart = partner.new_cart(server.url, customer, [line(1)])
            if rule:
                key = (data / "admin-key").read_text().strip()
                httpx.post(
                    f"{server.url}/_partnercart/faults",
                    json={"partner": str(uuid.uuid4()), "status": 500},
                    headers={"X-Partnercart-Admin-Key": key},
                ).raise_for_status()
            url = f"{server.url}/v1/customers/{customer}/carts/{cart['id']}"
            asyncio.run(hammer(url, partner.headers, 200, concurrency))  # warm up
            return asyncio.run(hammer(url, partner.headers, total, concurrency))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    for name, extra, rule in [
        ("request log off", ("--no-request-log",), False),
        ("request log on", (), False),
        ("log on + a rule matching nothing", (), True),
    ]:
        rate = measure(extra, rule, args.requests, args.concurrency)
        print(f"{name:34} {rate:8.0f} req/s")


if __name__ == "__main__":
    main()
