"""Two builds of partnercart side by side: is a change faster, on this machine, today?

    python bench/ab.py --a /path/to/old/checkout [--b .] [--route get put ...] [--rounds 5]
                       [--a-args="--no-request-log"] [--b-args="..."] [--duration 5]
                       [--a-env="NAME=VALUE ..."] [--b-env="..."] [--a-python PY] [--b-python PY]

This machine's speed drifts (the fixed-body route alone moved by a third within an hour), so
two builds measured in separate runs cannot be compared. Here both servers run at once, each on
its own data dir, pinned to the same core, and are loaded in alternating rounds (A, B, B, A, ...)
with the same wrk script; the table gives each route's median req/s, p50 and p99 for A and B,
and B/A as the median of the per-round ratios with their range. ``--a``/``--b`` name source
checkouts (a ``git worktree`` of the old commit, say); ``--a-args``/``--b-args`` add ``serve``
options, so one checkout with two settings can be compared too, and ``--a-env``/``--b-env``
set environment variables for one server process (an allocator setting, say), and
``--a-python``/``--b-python`` the interpreter that runs it (another CPython, say).
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from harness import (
    PYTHON,
    RESULTS,
    ROUTES,
    LoadResult,
    LoadSpec,
    Placement,
    Process,
    cart_body,
    drive,
    free_port,
    have_wrk,
    headers,
    pinned,
    seed_over_api,
    temp_dir,
    wait_http,
)

CART_LINES = 3
CHECKOUT_LINES = 10
CHECKOUT_CONNECTIONS = 8


@dataclass
class Build:
    name: str
    root: Path
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    python: str = PYTHON
    process: Process | None = None
    port: int = 0
    specs: dict[str, LoadSpec] = field(default_factory=dict)
    results: dict[str, list[LoadResult]] = field(default_factory=dict)


def start_build(build: Build, work: Path, placement: Placement) -> None:
    data_dir = work / f"data-{build.name}"
    build.port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(build.root / "src")
    env.update(build.env)
    command = [build.python, "-m", "partnercart", "serve", "--port", str(build.port)]
    command += ["--data-dir", str(data_dir), *build.args]
    log = work / f"server-{build.name}.log"
    popen = subprocess.Popen(
        pinned(command, placement.server),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    build.process = Process(build.name, popen, log)
    wait_http(build.process, f"http://127.0.0.1:{build.port}/_partnercart/ping")
    tenant = str(uuid.uuid4())
    token_command = [build.python, "-m", "partnercart", "token", "--tenant", tenant]
    bearer = subprocess.run(
        [*token_command, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    base = f"http://127.0.0.1:{build.port}"
    seeded = seed_over_api(base, bearer, carts=32, lines=CART_LINES)
    get_headers = headers(bearer)
    del get_headers["Content-Type"]
    carts = f"/v1/customers/{seeded.customer_id}/carts"
    body = cart_body(CART_LINES).decode()
    port = build.port
    build.specs = {
        "trivial": LoadSpec(port, ["/_partnercart/ping"], request_ids=False),
        "get": LoadSpec(port, seeded.cart_paths(), headers=get_headers),
        "put": LoadSpec(
            port, seeded.cart_paths(), method="PUT", body=body, headers=headers(bearer)
        ),
        "create": LoadSpec(port, [carts], method="POST", body=body, headers=headers(bearer)),
        "checkout": LoadSpec(
            port,
            [carts],
            method="POST",
            body=cart_body(CHECKOUT_LINES).decode(),
            headers=headers(bearer),
            mode="create_checkout",
            checkout_body='"success"',
            connections=CHECKOUT_CONNECTIONS,
        ),
    }


def run(
    build: Build,
    route: str,
    duration: float,
    placement: Placement,
    work: Path,
    connections: int,
    *,
    generator: str = "wrk",
) -> LoadResult:
    spec = build.specs[route]
    spec.duration = duration
    if route != "checkout":
        spec.connections = connections
    return drive(spec, placement=placement, generator=generator, work_dir=work / "load")


def _env(text: str) -> dict[str, str]:
    pairs = [item.partition("=") for item in shlex.split(text)]
    return {name: value for name, _, value in pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--a", type=Path, required=True, help="checkout of build A")
    parser.add_argument("--b", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--a-args", default="", help="more `serve` options for A")
    parser.add_argument("--b-args", default="", help="more `serve` options for B")
    parser.add_argument("--a-env", default="", help="NAME=VALUE ... for A's server process")
    parser.add_argument("--b-env", default="", help="NAME=VALUE ... for B's server process")
    parser.add_argument("--a-python", default=PYTHON, help="the interpreter that runs A's server")
    parser.add_argument("--b-python", default=PYTHON, help="the interpreter that runs B's server")
    parser.add_argument("--route", nargs="+", choices=ROUTES, default=["get", "put"])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not have_wrk():
        raise SystemExit("bench/ab.py needs wrk (apt-get install wrk)")
    work = temp_dir("partnercart-ab-")
    RESULTS.mkdir(exist_ok=True)
    placement = Placement.choose(1)
    builds = [
        Build("A", args.a.resolve(), shlex.split(args.a_args), _env(args.a_env), args.a_python),
        Build("B", args.b.resolve(), shlex.split(args.b_args), _env(args.b_env), args.b_python),
    ]
    try:
        for build in builds:
            start_build(build, work, placement)
        for build in builds:  # warm both up once
            for route in args.route:
                run(build, route, 1.0, placement, work, args.connections)
        for round_no in range(args.rounds):
            order = builds if round_no % 2 == 0 else builds[::-1]
            for route in args.route:
                for build in order:
                    result = run(build, route, args.duration, placement, work, args.connections)
                    build.results.setdefault(route, []).append(result)
                    print(
                        f"round {round_no + 1} {route:9} {build.name}: {result.rps:9,.0f} req/s"
                        f"  p50 {result.p50_ms:6.2f}  p99 {result.p99_ms:6.2f} ms"
                        f"  errors {result.errors}"
                    )
    finally:
        for build in builds:
            if build.process is not None:
                build.process.stop()
    a, b = builds
    print()
    for build in builds:
        print(f"{build.name} = {build.root} {build.args} {build.env or ''} {build.python}")
    print(
        f"{'route':10} {'A req/s':>9} {'B req/s':>9} {'B/A':>6} {'rounds':>13}"
        f" {'A p99':>7} {'B p99':>7}"
    )
    for route in args.route:
        ra, rb = a.results[route], b.results[route]
        ratio, low, high = paired_ratio(ra, rb)
        print(
            f"{route:10} {statistics.median(r.rps for r in ra):9,.0f}"
            f" {statistics.median(r.rps for r in rb):9,.0f} {ratio:6.3f} {low:6.3f}-{high:.3f}"
            f" {statistics.median(r.p99_ms for r in ra):7.2f}"
            f" {statistics.median(r.p99_ms for r in rb):7.2f}"
        )


def paired_ratio(a: list[LoadResult], b: list[LoadResult]) -> tuple[float, float, float]:
    """B's req/s over A's, round by round: the median and the lowest and highest round. A
    median whose rounds straddle 1 says less than one whose rounds all lie on one side."""
    ratios = [y.rps / x.rps for x, y in zip(a, b, strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)


if __name__ == "__main__":
    main()
