"""Server time per request, in process: the ASGI app called directly, no socket, no client.

    python bench/inprocess.py [--requests 5000] [--profile ROUTE] [--only ROUTE] [--count ROUTE]
                              [--no-request-log]

Prints microseconds of app time per call for the trivial route, GET cart, PUT cart, create
cart, and create + checkout of a 10-line cart (timed as one call), each next to the trivial
route's, so a change to the hot path can be weighed before the wrk run (``bench/run.py``) that
measures the whole server. ``--profile ROUTE`` prints a pyinstrument profile of one route.
Writes send a fresh MS-RequestId and the access log goes to os.devnull, as ``serve`` would
write it, unless turned off.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from harness import ROUTES, cart_body, customer_body

from partnercart.server.http.accesslog import configure_access_log
from partnercart.server.http.app import create_app
from partnercart.server.http.factory import prepare_serving
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import Settings

Call = Callable[[], Awaitable[int]]


def _scope(app: Any, method: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "app": app,
    }


def caller(
    app: Any,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
    answers: list[bytes] | None = None,
) -> Call:
    """One request through the app; returns its status (and keeps its body in ``answers``)."""

    async def call() -> int:
        sent = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif answers is not None and message["type"] == "http.response.body":
                answers.append(message.get("body", b""))

        scope = _scope(app, method, path, headers)
        if method != "GET":  # a fresh MS-RequestId per write, as bench/run.py sends
            scope["headers"].append((b"ms-requestid", str(uuid.uuid4()).encode()))
        await app(scope, receive, send)
        return status

    return call


async def warm_up(call: Call, expect: int) -> None:
    """50 calls, each answered ``expect`` (or the bench stops: it would time error answers)."""
    for _ in range(50):
        status = await call()
        if status != expect:
            raise SystemExit(f"expected {expect}, got {status}")


async def run_calls(call: Call, requests: int) -> None:
    for _ in range(requests):
        await call()
        await asyncio.sleep(0)  # let the request log's batched writes run, as a server would


async def per_call(call: Call, requests: int, expect: int) -> float:
    """Microseconds a call, after the warm-up."""
    await warm_up(call, expect)
    started = time.perf_counter()
    await run_calls(call, requests)
    return (time.perf_counter() - started) / requests * 1e6


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            request_log=not args.no_request_log,
            access_log=not args.no_access_log,
        )
        runtime = build_runtime(settings)
        app = create_app(runtime, owns_runtime=True)
        assert runtime.issuer is not None
        partner = str(uuid.uuid4())
        token = runtime.issuer.issue(
            tenant_id=partner, client_id=str(uuid.uuid4()), now=dt.datetime.now(dt.UTC)
        )
        auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        json_headers = auth | {"Content-Type": "application/json"}
        from starlette.testclient import TestClient

        with TestClient(app) as client:
            made_customer = client.post("/v1/customers", json=customer_body(), headers=auth)
            customer = made_customer.json()["id"]
            body = cart_body(3)
            cart = client.post(
                f"/v1/customers/{customer}/carts", content=body, headers=json_headers
            ).json()
            cart_path = f"/v1/customers/{customer}/carts/{cart['id']}"
            ten = cart_body(10)
            made: list[bytes] = []
            carts_path = f"/v1/customers/{customer}/carts"
            create_ten = caller(app, "POST", carts_path, json_headers, ten, made)

            async def create_then_checkout() -> int:
                """``create`` of a 10-line cart and its checkout, timed as one call."""
                status = await create_ten()
                cart_id = json.loads(made.pop())["id"]
                path = f"{carts_path}/{cart_id}/checkout"
                checked = caller(app, "POST", path, json_headers, b"")
                return status if status != 201 else await checked()

            routes: dict[str, tuple[Call, int]] = {
                "trivial": (caller(app, "GET", "/_partnercart/ping", {}), 200),
                "get": (caller(app, "GET", cart_path, auth), 200),
                "put": (caller(app, "PUT", cart_path, json_headers, body), 201),
                "create": (
                    caller(app, "POST", f"/v1/customers/{customer}/carts", json_headers, body),
                    201,
                ),
                "checkout": (create_then_checkout, 201),
            }
            prepare_serving(app)  # as `serve` does once the app is built
            if args.profile:
                from pyinstrument import Profiler

                call, expect = routes[args.profile]
                await per_call(call, 200, expect)
                profiler = Profiler(interval=0.0001, async_mode="disabled")
                profiler.start()
                await per_call(call, args.requests, expect)
                profiler.stop()
                await app.parts.request_log_buffer.flush()
                print(profiler.output_text(unicode=True, color=False, show_all=False))
                return
            if args.count:
                # For bench/instructions.py: this route alone, untimed, after the warm-up,
                # from an empty request log buffer (so the rows of the set-up and the warm-up
                # are not written inside the window in one run and outside it in another).
                call, expect = routes[args.count]
                hold_timed_work(runtime, app.parts.request_log_buffer)
                await warm_up(call, expect)
                await app.parts.request_log_buffer.flush()
                toggle = _collect_toggle()
                toggle()
                await run_calls(call, args.requests)
                toggle()
                await app.parts.request_log_buffer.flush()
                return
            if args.only:
                routes = {name: routes[name] for name in ("trivial", args.only)}
            # Interleaved batches, the best batch of each route: the machine is shared.
            best = dict.fromkeys(routes, float("inf"))
            for _round in range(args.rounds):
                for name, (call, expect) in routes.items():
                    us = await per_call(call, args.requests // args.rounds, expect)
                    best[name] = min(best[name], us)
            trivial = best["trivial"]
            # The log's batches were started on this loop: write what waits before the
            # lifespan (on the test client's loop) closes the store.
            await app.parts.request_log_buffer.flush()
            print(f"{'route':10} {'us/call':>9} {'extra over trivial':>20}")
            for name, us in best.items():
                print(f"{name:10} {us:9.1f} {us - trivial:20.1f}")


def hold_timed_work(runtime: Any, buffer: Any) -> None:
    """For counting: hold off the work that comes once per so many seconds of wall time
    rather than per request (the fault rules' and clocks' cache checks, a SQLite read each,
    and the request log's tick, another). Under callgrind a request takes some fifty times as
    long, so each of them came round fifty times as often per request as on a server, and
    whether one more fell inside the window moved a count by over a percent."""
    runtime.faults._ttl = 3600.0
    runtime.clocks._ttl = 3600.0
    buffer.FLUSH_AFTER = 3600.0


def _collect_toggle() -> Callable[[], object]:
    """callgrind's ``CALLGRIND_TOGGLE_COLLECT`` from the shim bench/instructions.py builds
    (``PARTNERCART_CALLGRIND_SHIM``), so only the requests are counted; a no-op without it."""
    shim = os.environ.get("PARTNERCART_CALLGRIND_SHIM")
    if not shim:
        return lambda: None
    import ctypes

    toggle: Callable[[], object] = ctypes.CDLL(shim).cg_toggle
    return toggle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--profile", choices=ROUTES)
    parser.add_argument("--rounds", type=int, default=5, help="batches per route (best kept)")
    parser.add_argument(
        "--only",
        choices=ROUTES[1:],
        help="time just this route next to the trivial one (for an outside profiler)",
    )
    parser.add_argument(
        "--count",
        choices=ROUTES,
        help="run just this route --requests times after its warm-up and print nothing (for "
        "bench/instructions.py, which counts the instructions under callgrind)",
    )
    parser.add_argument("--no-request-log", action="store_true")
    parser.add_argument(
        "--no-access-log",
        action="store_true",
        help="leave the access logger off (serve turns it on; here its lines go to os.devnull)",
    )
    args = parser.parse_args()
    if not args.no_access_log:
        configure_access_log(open(os.devnull, "w"))  # noqa: SIM115 - as serve does, to devnull
    asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
