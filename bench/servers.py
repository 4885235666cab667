"""The ceiling of one Python process on one core, and what another HTTP server changes.

    python bench/servers.py [--rounds 3] [--duration 4] [--connections 32]

Every server runs pinned to the server core, wrk to the other, and all are loaded in turn,
round after round (the order turned each round), so the figures share one machine and one hour:

- a constant 1 KB JSON answer (``bench/stack_apps.py``): a raw ASGI callable on uvicorn (uvloop,
  httptools, as ``serve`` runs) and on granian, granian's own RSGI interface, and a one-route
  Starlette app on both: no route of a Python app on these servers can serve more;
- partnercart itself, served by uvicorn (``partnercart serve``) and by granian (the factory that
  ``serve --workers`` uses, on the same data dir): its fixed-body route, GET cart and PUT cart,
  with every header and check;
- json-server (installed from the npm registry, as ``bench/run.py`` does) serving the same cart.

The table gives each one's median req/s and p99, and what the issue's "GET cart ≥ 10x
json-server" asks next to the fastest constant. Needs the ``bench`` extra (granian).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import shutil
import statistics
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import (
    BENCH,
    PYTHON,
    RESULTS,
    LoadResult,
    LoadSpec,
    Placement,
    Process,
    cart_body,
    drive,
    ensure_peers,
    free_port,
    have_wrk,
    headers,
    json_server_command,
    pinned,
    running,
    seed_over_api,
    start,
    start_partnercart,
    temp_dir,
    token,
    wait_http,
)

from partnercart.server.http.factory import SETTINGS_ENV
from partnercart.server.settings import Settings, settings_to_json

CART_LINES = 3
FACTORY = "partnercart.server.http.factory:app_from_environment"


@dataclass
class Target:
    """One server and one route on it."""

    server: str
    route: str
    spec: LoadSpec
    results: list[LoadResult] = field(default_factory=list)

    def median(self, value: Callable[[LoadResult], float]) -> float:
        return statistics.median(value(r) for r in self.results)


def granian(port: int, app: str, *, interface: str = "asgi", factory: bool = False) -> list[str]:
    command = [PYTHON, "-m", "granian", "--interface", interface, "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1", "--no-ws", "--log-level", "warning"]
    return [*command, *(["--factory"] if factory else []), app]


def uvicorn(port: int, app: str) -> list[str]:
    command = [PYTHON, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    return [*command, "--loop", "uvloop", "--http", "httptools", "--no-access-log"]


CONSTANTS: dict[str, Callable[[int], list[str]]] = {
    "raw ASGI on uvicorn": lambda port: uvicorn(port, "stack_apps:raw"),
    "raw ASGI on granian": lambda port: granian(port, "stack_apps:raw"),
    "RSGI on granian": lambda port: granian(port, "stack_apps:rsgi", interface="rsgi"),
    "Starlette on uvicorn": lambda port: uvicorn(port, "stack_apps:starlette"),
    "Starlette on granian": lambda port: granian(port, "stack_apps:starlette"),
}


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.placement = Placement.choose()
        self.work = temp_dir("partnercart-servers-")
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        self.out_dir = RESULTS / f"{stamp}-servers"
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.processes: list[Process] = []
        self.targets: list[Target] = []
        self.notes: list[str] = []

    def spec(
        self,
        port: int,
        paths: list[str],
        *,
        method: str = "GET",
        body: str | None = None,
        headers: dict[str, str] | None = None,
        request_ids: bool = True,
    ) -> LoadSpec:
        return LoadSpec(
            port=port,
            paths=paths,
            method=method,
            body=body,
            headers=headers or {},
            request_ids=request_ids,
            duration=self.args.duration,
            connections=self.args.connections,
        )

    def launch(
        self,
        name: str,
        command: list[str],
        ready: str,
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> Process:
        process = start(
            name.replace(" ", "-").lower(),
            pinned(command, self.placement.server),
            log_dir=self.out_dir,
            cwd=cwd,
            env=env,
        )
        self.processes.append(process)
        wait_http(process, ready, timeout=90)
        return process

    def constants(self) -> None:
        for name, command in CONSTANTS.items():
            port = free_port()
            self.launch(name, command(port), f"http://127.0.0.1:{port}/fixed", cwd=BENCH)
            spec = self.spec(port, ["/fixed"], request_ids=False)
            self.targets.append(Target(name, "constant", spec))

    def partnercart(self) -> None:
        data_dir = self.work / "data"
        port = free_port()
        self.processes.append(
            start_partnercart(
                port=port, data_dir=data_dir, placement=self.placement, log_dir=self.out_dir
            )
        )
        bearer = token(str(uuid.uuid4()), data_dir)
        seeded = seed_over_api(f"http://127.0.0.1:{port}", bearer, carts=32, lines=CART_LINES)
        # The second server opens the same data dir (migrated by the first): the same key
        # signs, so one token serves both; the rounds never load both at once.
        other = free_port()
        settings = Settings(data_dir=data_dir, port=other, migrate_on_start=False)
        env = {SETTINGS_ENV: settings_to_json(settings).decode()}
        self.launch(
            "partnercart on granian",
            granian(other, FACTORY, factory=True),
            f"http://127.0.0.1:{other}/_partnercart/ping",
            env=env,
        )
        get_headers = headers(bearer)
        del get_headers["Content-Type"]
        body = cart_body(CART_LINES).decode()
        for server, at in (("partnercart on uvicorn", port), ("partnercart on granian", other)):
            paths = seeded.cart_paths()
            self.targets += [
                Target(
                    server, "fixed body", self.spec(at, ["/_partnercart/ping"], request_ids=False)
                ),
                Target(server, "GET cart", self.spec(at, paths, headers=get_headers)),
                Target(
                    server,
                    "PUT cart",
                    self.spec(at, paths, method="PUT", body=body, headers=headers(bearer)),
                ),
            ]
        self.json_server(seeded.cart_documents, seeded.cart_paths(), get_headers)

    def json_server(
        self, documents: list[dict[str, Any]], paths: list[str], get_headers: dict[str, str]
    ) -> None:
        problem = ensure_peers()
        if problem:
            self.notes.append(f"json-server skipped: {problem}")
            return
        port = free_port()
        command = json_server_command(port, documents, self.work)
        self.launch("json-server", command, f"http://127.0.0.1:{port}{paths[0]}")
        self.targets.append(
            Target("json-server", "GET cart", self.spec(port, paths, headers=get_headers))
        )

    def measure(self) -> None:
        load_dir = self.work / "load"
        for round_no in range(self.args.rounds):
            turn = round_no % len(self.targets)
            for target in self.targets[turn:] + self.targets[:turn]:
                if round_no == 0:  # warm up: node compiles hot code, Python fills its caches
                    warm = dataclasses.replace(target.spec, duration=2.0)
                    drive(warm, placement=self.placement, generator="wrk", work_dir=load_dir)
                result = drive(
                    target.spec, placement=self.placement, generator="wrk", work_dir=load_dir
                )
                target.results.append(result)
                print(
                    f"round {round_no + 1} {target.server:<24} {target.route:<10} "
                    f"{result.rps:>9,.0f} req/s  p99 {result.p99_ms:7.2f} ms  "
                    f"errors {result.errors}"
                )

    def report(self) -> str:
        best = max((t for t in self.targets if t.route == "constant"), key=lambda t: t.median(rps))
        ceiling = best.median(rps)
        lines = [
            f"# Servers on one core ({dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)",
            "",
            f"{self.placement.describe()}; wrk -t1 -c{self.args.connections}, "
            f"{self.args.rounds} rounds of {self.args.duration:g} s, medians.",
            "",
            f"| server | route | req/s | p99 ms | vs {best.server} | errors |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for t in self.targets:
            lines.append(
                f"| {t.server} | {t.route} | {t.median(rps):,.0f} | {t.median(p99):.2f} "
                f"| {t.median(rps) / ceiling:.2f}x | {sum(r.errors for r in t.results)} |"
            )
        peers = [t for t in self.targets if t.server == "json-server"]
        if peers:
            wanted = 10 * peers[0].median(rps)
            lines += [
                "",
                f"10x json-server is {wanted:,.0f} req/s: {wanted / ceiling:.2f}x the fastest "
                f"constant answer ({best.server}, {ceiling:,.0f} req/s).",
            ]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def rps(result: LoadResult) -> float:
    return result.rps


def p99(result: LoadResult) -> float:
    return result.p99_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not have_wrk():
        raise SystemExit("bench/servers.py needs wrk (Debian: apt-get install -y wrk)")
    if shutil.which("taskset") is None:
        print("note: taskset missing, nothing is pinned")
    run = Run(args)
    with running(run.processes):
        run.constants()
        run.partnercart()
        run.measure()
    report = run.report()
    (run.out_dir / "report.md").write_text(report)
    print()
    print(report)
    print(f"written to {run.out_dir}")


if __name__ == "__main__":
    main()
