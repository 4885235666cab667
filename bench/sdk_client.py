"""How much the SDK costs per call, against a real local server.

    python bench/sdk_client.py [--calls 2000]

Starts a server on a free port, then times GET cart: raw httpx (one client, fixed headers),
the sync SDK, and the async SDK with 16 calls in flight. Prints calls per second; the ratio
sync SDK / raw httpx is the pipeline's overhead (ids, token lookup, building, decoding).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from partnercart.client import AsyncPartnerCenter, PartnercartCredential, PartnerCenter
from partnercart.testing._server import ServerProcess
from partnercart.testing.factories import sample_cart, sample_customer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    calls = parser.parse_args().calls
    started = time.perf_counter()
    server = ServerProcess(Path(tempfile.mkdtemp()) / "data")
    running = server.start()
    print(f"server ready in {time.perf_counter() - started:.2f} s")
    try:
        credential = PartnercartCredential(running.url, str(uuid.uuid4()))
        token = credential.get_token().token
        with PartnerCenter(running.url, credential) as pc:
            customer = pc.customers.create(sample_customer())
            assert customer.id is not None
            cart = pc.customers.by_id(customer.id).carts.create(sample_cart())
            assert cart.id is not None
            cart_ops = pc.customers.by_id(customer.id).carts.by_id(cart.id)
            path = f"{running.url}/v1/customers/{customer.id}/carts/{cart.id}"

            with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as raw:
                t0 = time.perf_counter()
                for _ in range(calls):
                    raw.get(path).raise_for_status()
                raw_rate = calls / (time.perf_counter() - t0)

            t0 = time.perf_counter()
            for _ in range(calls):
                cart_ops.get()
            sync_rate = calls / (time.perf_counter() - t0)

        async def run_async() -> float:
            async with AsyncPartnerCenter(running.url, credential) as apc:
                ops = apc.customers.by_id(str(customer.id)).carts.by_id(str(cart.id))
                gate = asyncio.Semaphore(16)

                async def one() -> None:
                    async with gate:
                        await ops.get()

                t0 = time.perf_counter()
                await asyncio.gather(*(one() for _ in range(calls)))
                return calls / (time.perf_counter() - t0)

        async_rate = asyncio.run(run_async())
        print(f"raw httpx, sequential:  {raw_rate:8.0f} calls/s")
        print(
            f"sync SDK, sequential:   {sync_rate:8.0f} calls/s ({sync_rate / raw_rate:.0%} of raw)"
        )
        print(f"async SDK, 16 in flight:{async_rate:8.0f} calls/s")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
