"""``make bench``: partnercart's cart routes against a fixed body and against two mocks.

One run, one machine: partnercart is started as a real process (``python -m partnercart
serve``) on a fresh data dir, pinned to one core; the load generator (wrk, or bench/pyload.py)
runs on the other core(s). Every figure is printed next to the trivial fixed-body route served
by the same process in the same run, and GET cart is compared with Prism and json-server
serving the same cart on the same core. Results go to bench/results/.

    python bench/run.py [--duration 5] [--rounds 3] [--connections 32]
                        [--database postgresql://...] [--workers N] [--no-peers]
                        [--compare-loadgen] [--results DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from harness import (
    PYTHON,
    WRK_INSTALL_HINT,
    LoadResult,
    LoadSpec,
    Placement,
    Process,
    add_results_option,
    cart_body,
    drive,
    ensure_peers,
    free_port,
    have_wrk,
    headers,
    interpreter,
    json_server_command,
    node_bin,
    pinned,
    seed_over_api,
    serve_supports_workers,
    start,
    start_partnercart,
    temp_dir,
    token,
    wait_http,
)

from partnercart.server.identity.keys import read_admin_key

BENCH = Path(__file__).resolve().parent
CART_LINES = 3  # lines in the carts read, replaced and created
CHECKOUT_LINES = 10
CHECKOUT_CONNECTIONS = 8
PEER_WARMUP_S = 5.0
TARGETS = {"GET cart": 0.5, "PUT cart": 0.3}


@dataclass
class Row:
    """One route: its result in each round and the trivial route measured just before it."""

    name: str
    results: list[LoadResult] = field(default_factory=list)
    trivials: list[LoadResult] = field(default_factory=list)
    note: str = ""

    @property
    def measured(self) -> bool:
        return bool(self.results)

    def median(self, value: Callable[[LoadResult], float]) -> float:
        return statistics.median(value(r) for r in self.results)

    def ratios(self, value: Callable[[LoadResult], float]) -> list[float]:
        return [value(r) / value(t) for r, t in zip(self.results, self.trivials, strict=True)]

    @property
    def rps(self) -> float:
        return self.median(lambda r: r.rps)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios(lambda r: r.rps))

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.results)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        self.out_dir = args.results / f"run-{self.stamp}"
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.work = temp_dir("partnercart-bench-")
        self.generator = "wrk" if have_wrk() else "pyload"
        self.notes: list[str] = []
        self.processes: list[Process] = []
        self.pg_ceiling: float | None = None
        #: the bare loop's reads/s after each GET round (PostgreSQL only)
        self.pg_loops: list[float | None] = []
        self.get_spec: LoadSpec | None = None
        self.rss_kib: int | None = None
        self.port = 0

    def note(self, text: str) -> None:
        print(f"note: {text}")
        self.notes.append(text)

    def load(
        self,
        spec: LoadSpec,
        *,
        generator: str | None = None,
        warmup: bool = True,
        warmup_s: float = 1.0,
    ) -> LoadResult:
        gen = generator or self.generator
        work = self.work / "load"
        if warmup:
            short = LoadSpec(**{**asdict(spec), "duration": warmup_s})
            drive(short, placement=self.placement, generator=gen, work_dir=work)
        return drive(spec, placement=self.placement, generator=gen, work_dir=work)

    def spec(self, port: int, paths: list[str], **kw: Any) -> LoadSpec:
        kw.setdefault("duration", self.args.duration)
        kw.setdefault("connections", self.args.connections)
        return LoadSpec(port=port, paths=paths, **kw)

    # --- partnercart ---------------------------------------------------------------------

    def start_server(self) -> int:
        workers = self.args.workers
        if workers > 1 and not serve_supports_workers():
            self.note(
                f"--workers {workers}: `partnercart serve --workers` does not exist yet "
                "(pending); measuring one server process."
            )
            workers = 1
        self.workers = workers
        self.placement = Placement.choose(workers)
        self.note(f"placement: {self.placement.describe()}")
        port = free_port()
        self.data_dir = self.work / "data"
        server = start_partnercart(
            port=port,
            data_dir=self.data_dir,
            placement=self.placement,
            log_dir=self.out_dir,
            database=self.args.database,
            workers=workers,
        )
        self.processes.append(server)
        self.server = server
        self.port = port
        return port

    def detect_checkout(self, base: str, bearer: str, customer_id: str) -> str | None:
        """The checkout body the server takes (``""`` or ``"success"``), or ``None`` when the
        route is not served."""
        with httpx.Client(base_url=base, timeout=30) as client:
            for body in ("", '"success"'):
                made = client.post(
                    f"/v1/customers/{customer_id}/carts",
                    content=cart_body(CHECKOUT_LINES),
                    headers=headers(bearer) | {"MS-RequestId": str(uuid.uuid4())},
                )
                made.raise_for_status()
                cart_id = made.json()["id"]
                answer = client.post(
                    f"/v1/customers/{customer_id}/carts/{cart_id}/checkout",
                    content=body.encode(),
                    headers=headers(bearer) | {"MS-RequestId": str(uuid.uuid4())},
                )
                if answer.status_code in (404, 405):
                    return None
                if answer.is_success:
                    return body
            self.note(f"checkout answered {answer.status_code}: {answer.text[:200]}")
            return None

    def measure_partnercart(self) -> tuple[list[Row], Any]:
        port = self.start_server()
        base = f"http://127.0.0.1:{port}"
        tenant = str(uuid.uuid4())
        bearer = token(tenant, self.data_dir)
        seeded = seed_over_api(base, bearer, carts=32, lines=CART_LINES)
        self.seeded = seeded
        get_headers = headers(bearer)
        del get_headers["Content-Type"]
        body = cart_body(CART_LINES).decode()
        carts_path = f"/v1/customers/{seeded.customer_id}/carts"

        print("measuring partnercart ...")
        trivial = self.spec(port, ["/_partnercart/ping"], request_ids=False)
        specs: list[tuple[str, LoadSpec | None, str]] = [
            ("GET cart", self.spec(port, seeded.cart_paths(), headers=get_headers), ""),
            (
                "PUT cart",
                self.spec(
                    port, seeded.cart_paths(), method="PUT", body=body, headers=headers(bearer)
                ),
                "",
            ),
            (
                "create cart (POST)",
                self.spec(port, [carts_path], method="POST", body=body, headers=headers(bearer)),
                "",
            ),
        ]
        checkout_body = self.detect_checkout(base, bearer, seeded.customer_id)
        name = f"create + checkout, {CHECKOUT_LINES}-line cart, {CHECKOUT_CONNECTIONS} clients"
        if checkout_body is None:
            specs.append((name, None, "n/a (route not served)"))
        else:
            spec = self.spec(
                port,
                [carts_path],
                method="POST",
                body=cart_body(CHECKOUT_LINES).decode(),
                headers=headers(bearer),
                mode="create_checkout",
                checkout_body=checkout_body,
                connections=CHECKOUT_CONNECTIONS,
            )
            specs.append((name, spec, "create and checkout requests mixed (p99 over both)"))
        rows = [Row(label, note=note) for label, _, note in specs]
        # Each measurement of a route is paired with the trivial route measured just before it,
        # so a busy neighbour slows both; the ratio is the median over the rounds.
        for round_no in range(self.args.rounds):
            for row, (_, spec, _) in zip(rows, specs, strict=True):
                if spec is None:
                    continue
                first = round_no == 0
                row.trivials.append(self.load(trivial, warmup=first and row is rows[0]))
                row.results.append(self.load(spec, warmup=first))
                if row is rows[0] and self.on_postgres():
                    # The ceiling of GET cart on PostgreSQL, measured right after each GET
                    # round, as the trivial route right before it: the ratio is per round.
                    self.pg_loops.append(self.measure_pg_ceiling())
        compare = None
        if self.args.compare_loadgen:
            compare = self.compare_generators(port, seeded.cart_paths(), get_headers)
        self.own_openapi = self.fetch_openapi(base)
        self.get_spec = specs[0][1]
        return rows, compare

    def finish_server(self) -> None:
        self.rss_kib = self.server.rss_kib()
        self.note_read_batches()
        self.server.stop()

    def note_read_batches(self) -> None:
        """On PostgreSQL, how many GET cart reads shared a statement (``/_partnercart/info``)."""
        key = read_admin_key(self.data_dir)
        if key is None:
            return
        try:
            answer = httpx.get(
                f"http://127.0.0.1:{self.port}/_partnercart/info",
                headers={"X-Partnercart-Admin-Key": key},
                timeout=30,
            )
            batches = answer.json().get("cartReadBatches")
        except (httpx.HTTPError, ValueError):
            return
        if batches and batches["statements"]:
            reads, statements = batches["reads"], batches["statements"]
            self.note(
                f"GET cart on PostgreSQL: {reads:,} reads in {statements:,} statements "
                f"({reads / statements:.1f} a statement on average, at most {batches['largest']})"
            )

    def compare_generators(
        self, port: int, paths: list[str], get_headers: dict[str, str]
    ) -> dict[str, dict[str, float]]:
        """The same two routes driven by wrk and by pyload: does pyload saturate the server?"""
        if not have_wrk():
            self.note("--compare-loadgen needs wrk; skipped")
            return {}
        print("comparing load generators ...")
        out: dict[str, dict[str, float]] = {}
        for label, spec in (
            ("trivial", self.spec(port, ["/_partnercart/ping"], request_ids=False)),
            ("GET cart", self.spec(port, paths, headers=get_headers)),
        ):
            out[label] = {gen: self.load(spec, generator=gen).rps for gen in ("wrk", "pyload")}
        return out

    def fetch_openapi(self, base: str) -> dict[str, Any] | None:
        """partnercart's own OpenAPI document, when this version serves one."""
        try:
            answer = httpx.get(f"{base}/openapi.json", timeout=10)
        except httpx.HTTPError:
            return None
        if answer.status_code != 200:
            return None
        document: dict[str, Any] = answer.json()
        return document

    # --- peers ---------------------------------------------------------------------------

    def prism_document(self) -> Path:
        """An OpenAPI document for Prism holding our carts."""
        seeded = self.seeded
        if self.own_openapi is not None:
            document = self.own_openapi
            self.note("Prism mocks partnercart's own /openapi.json")
        else:
            document = json.loads((BENCH / "openapi-cart.json").read_text())
            operation = document["paths"]["/v1/customers/{customer_id}/carts/{cart_id}"]["get"]
            content = operation["responses"]["200"]["content"]["application/json"]
            content["example"] = seeded.cart_documents[0]
            self.note(
                "the server serves no /openapi.json yet: Prism mocks bench/openapi-cart.json "
                "(GET cart only, a seeded cart as the example)"
            )
        served = self.work / "openapi.json"
        served.write_text(json.dumps(document))
        return served

    def measure_peers(self, bearer_headers: dict[str, str]) -> list[Row]:
        problem = ensure_peers()
        if problem:
            self.note(f"peers skipped: {problem}")
            return []
        served = self.prism_document()
        paths = self.seeded.cart_paths()
        rows: list[Row] = []
        commands = {
            "Prism (mock from OpenAPI)": lambda port: [
                str(node_bin("prism")), "mock", "-h", "127.0.0.1", "-p", str(port),
                "-v", "warn", str(served),
            ],
            "json-server": lambda port: json_server_command(
                port, self.seeded.cart_documents, self.work
            ),
        }  # fmt: skip
        for name, command in commands.items():
            port = free_port()
            slug = name.split()[0].lower()
            process = start(
                slug, pinned(command(port), self.placement.server), log_dir=self.out_dir
            )
            self.processes.append(process)
            try:
                wait_http(process, f"http://127.0.0.1:{port}{paths[0]}", timeout=90)
                print(f"measuring {name} ...")
                # Paired like the routes: partnercart's GET cart, then the peer, each round.
                row = Row(name)
                spec = self.spec(port, paths, headers=bearer_headers)
                for round_no in range(self.args.rounds):
                    assert self.get_spec is not None
                    row.trivials.append(self.load(self.get_spec, warmup=False))
                    # Node compiles hot code as it runs: the peers get a longer warm-up.
                    row.results.append(
                        self.load(spec, warmup=round_no == 0, warmup_s=PEER_WARMUP_S)
                    )
                rows.append(row)
            except RuntimeError as exc:
                self.note(f"{name} not measured: {exc}")
            finally:
                process.stop()
        return rows

    def on_postgres(self) -> bool:
        url = self.args.database
        return bool(url) and url.startswith(("postgresql://", "postgres://"))

    def measure_pg_ceiling(self) -> float | None:
        """Reads/s of a bare psycopg point-read loop on the server's core (the server idle)."""
        url = self.args.database
        ids = self.work / "cart-ids.txt"
        ids.write_text("\n".join(self.seeded.cart_ids) + "\n")
        command = [PYTHON, str(BENCH / "pgloop.py"), url, self.seeded.customer_id, str(ids)]
        command.append(str(self.args.duration))
        print("measuring a bare psycopg point-read loop ...")
        done = subprocess.run(
            pinned(command, self.placement.server),
            capture_output=True,
            text=True,
            check=False,
        )
        for line in done.stdout.splitlines():
            if line.startswith("BENCH_JSON "):
                data = json.loads(line[len("BENCH_JSON ") :])
                rate: float = data["requests"] / data["duration_s"]
                return rate
        self.note(f"the psycopg loop failed: {done.stderr.strip()[-300:]}")
        return None

    def close(self) -> None:
        for process in self.processes:
            process.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def render(bench: Bench, rows: list[Row], peers: list[Row], compare: Any) -> str:
    args = bench.args
    lines: list[str] = []
    add = lines.append
    db = args.database or "SQLite (embedded default, temp data dir)"
    add(f"partnercart bench, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    add(
        f"database: {db}; server processes: {bench.workers}; load: {bench.generator}, "
        f"{args.connections} connections; {args.rounds} round(s) of {args.duration:.0f}s per "
        "route, each right after a trivial-route measurement of the same length"
    )
    add(f"placement: {bench.placement.describe()}; servers on {interpreter()}")
    add("")
    add(
        "| route | req/s | p50 ms | p99 ms | req/s vs trivial (range) | p50 vs trivial "
        "| p99 vs trivial | errors |"
    )
    add("|---|---:|---:|---:|---:|---:|---:|---:|")
    trivials = [t for row in rows for t in row.trivials]
    add(
        f"| trivial fixed body (same process) | {statistics.median(t.rps for t in trivials):,.0f} "
        f"| {statistics.median(t.p50_ms for t in trivials):.2f} "
        f"| {statistics.median(t.p99_ms for t in trivials):.2f} | 1.00x | 1.00x | 1.00x "
        f"| {sum(t.errors for t in trivials)} |"
    )
    for row in rows:
        if not row.measured:
            add(f"| {row.name} | {row.note} | | | | | | |")
            continue
        ratios = row.ratios(lambda r: r.rps)
        spread = f" ({min(ratios):.2f}-{max(ratios):.2f})" if len(ratios) > 1 else ""
        p50 = statistics.median(row.ratios(lambda r: r.p50_ms))
        p99 = statistics.median(row.ratios(lambda r: r.p99_ms))
        add(
            f"| {row.name} | {row.rps:,.0f} | {row.median(lambda r: r.p50_ms):.2f} | "
            f"{row.median(lambda r: r.p99_ms):.2f} | {row.ratio:.2f}x{spread} | {p50:.1f}x | "
            f"{p99:.1f}x | {row.errors} |"
        )
    add("")
    add(
        "req/s, p50 and p99 are medians over the rounds; each ratio is taken against the "
        "trivial measurement just before it, then the median is shown; a latency ratio is the "
        "route's latency over the trivial route's."
    )
    for row in rows:
        if row.note and row.measured:
            add(f"{row.name}: {row.note}")
    get = next(row for row in rows if row.name == "GET cart")
    if peers:
        add("")
        add(
            "| GET cart served by | req/s | p50 ms | p99 ms | partnercart GET req/s, same rounds "
            "| partnercart ÷ this (range) | errors |"
        )
        add("|---|---:|---:|---:|---:|---:|---:|")
        for row in peers:
            ours = statistics.median(t.rps for t in row.trivials)
            ratios = [1 / x for x in row.ratios(lambda r: r.rps)]
            spread = f" ({min(ratios):.2f}-{max(ratios):.2f})" if len(ratios) > 1 else ""
            add(
                f"| {row.name} | {row.rps:,.0f} | {row.median(lambda r: r.p50_ms):.2f} | "
                f"{row.median(lambda r: r.p99_ms):.2f} | {ours:,.0f} | "
                f"{statistics.median(ratios):.2f}x{spread} | {row.errors} |"
            )
        add(
            "Each round measures partnercart's GET cart and then the peer, on the same core with "
            "the same load; the ratio is the median of the per-round ratios."
        )
    if bench.rss_kib:
        add("")
        add(f"partnercart resident memory after the run: {bench.rss_kib / 1024:.0f} MiB")
    if compare:
        add("")
        add("load generators on the same server (req/s): " + "; ".join(
            f"{label}: wrk {v['wrk']:,.0f}, pyload {v['pyload']:,.0f} "
            f"({v['pyload'] / v['wrk']:.2f}x)"
            for label, v in compare.items()
        ))  # fmt: skip
    add("")
    add("targets:")
    for row in rows:
        target = TARGETS.get(row.name)
        if target is not None and row.measured:
            verdict = "met" if row.ratio >= target else "MISSED"
            add(f"- {row.name} >= {target}x trivial: {row.ratio:.3f}x {verdict}")
    checkout = rows[-1]
    if checkout.measured:
        p99 = checkout.median(lambda r: r.p99_ms)
        verdict = "met" if p99 < 25 else "MISSED"
        add(f"- create + checkout p99 < 25 ms at 8 clients: {p99:.1f} ms {verdict}")
    else:
        add("- create + checkout p99 < 25 ms: not measured (checkout route not served)")
    for row, target in zip(peers, (3.0, 10.0), strict=False):
        ratio = statistics.median(1 / x for x in row.ratios(lambda r: r.rps))
        verdict = "met" if ratio >= target else "MISSED"
        add(f"- GET cart >= {target:.0f}x {row.name}: {ratio:.2f}x {verdict}")
    lines.extend(pg_target_lines(get, bench.pg_loops))
    if bench.rss_kib:
        verdict = "met" if bench.rss_kib < 300 * 1024 else "MISSED"
        add(f"- resident memory < 300 MB: {bench.rss_kib / 1024:.0f} MiB {verdict}")
    for text in bench.notes:
        add(f"note: {text}")
    return "\n".join(lines)


def pg_target_lines(get: Row, loops: Sequence[float | None]) -> list[str]:
    """The PostgreSQL target's verdict from GET cart's rounds and the bare loop's rate after
    each, and where 0.8x of the loop stands against the trivial route of the same rounds: where
    it is above 1x, no route of this process can reach it on this machine (every route does
    what the trivial route does, and more, on the same core)."""
    rounds = [
        (result.rps, trivial.rps, loop)
        for result, trivial, loop in zip(get.results, get.trivials, loops, strict=False)
        if loop
    ]
    if not rounds:
        return []
    paired = [rps / loop for rps, _, loop in rounds]
    reach = [0.8 * loop / trivial for _, trivial, loop in rounds]
    ratio, ceiling = statistics.median(paired), statistics.median(loop for *_, loop in rounds)
    verdict = "met" if ratio >= 0.8 else "MISSED"
    above = statistics.median(reach)
    why = (
        ": more than this process serves on its trivial route, so no route reaches it here"
        if above > 1
        else ""
    )
    return [
        f"- PostgreSQL: GET cart >= 0.8x a bare psycopg point-read loop "
        f"({ceiling:,.0f} reads/s on the server's core, measured after each GET "
        f"round): {ratio:.2f}x (rounds {min(paired):.2f}-{max(paired):.2f}) {verdict}",
        f"  0.8x of the loop is {above:.2f}x the trivial route of the same rounds{why}",
    ]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement (5)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="measurements per route, each paired with one of the trivial route (3)",
    )
    parser.add_argument("--connections", type=int, default=32, help="open connections (32)")
    parser.add_argument(
        "--database",
        default=None,
        help="a THROWAWAY PostgreSQL URL (the bench writes customers and carts there); "
        "default: SQLite in a temp data dir",
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes (1)")
    parser.add_argument("--no-peers", action="store_true", help="skip Prism and json-server")
    add_results_option(parser)
    parser.add_argument(
        "--compare-loadgen",
        action="store_true",
        help="also drive the trivial route and GET cart with bench/pyload.py and compare with wrk",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bench = Bench(args)
    if bench.generator != "wrk":
        print(WRK_INSTALL_HINT)
    try:
        rows, compare = bench.measure_partnercart()
        peers: list[Row] = []
        if not args.no_peers:
            peer_headers = headers(token(str(uuid.uuid4()), bench.data_dir))
            del peer_headers["Content-Type"]
            peers = bench.measure_peers(peer_headers)
        bench.finish_server()
        loops = [rate for rate in bench.pg_loops if rate]
        bench.pg_ceiling = statistics.median(loops) if loops else None
    finally:
        bench.close()
    report = render(bench, rows, peers, compare)
    print()
    print(report)
    (bench.out_dir / "report.md").write_text(report + "\n")
    raw = {
        "args": {**vars(args), "results": str(args.results)},
        "rows": {
            r.name: {
                "results": [asdict(x) for x in r.results],
                "trivials": [asdict(x) for x in r.trivials],
                "note": r.note,
            }
            for r in rows
        },
        "peers": {
            r.name: {
                "results": [asdict(x) for x in r.results],
                "partnercart_get": [asdict(x) for x in r.trivials],
            }
            for r in peers
        },
        "rss_kib": bench.rss_kib,
        "pg_point_read_loop_per_s": bench.pg_ceiling,
        "pg_point_read_loop_per_round": bench.pg_loops,
        "compare_loadgen": compare,
        "notes": bench.notes,
    }
    (bench.out_dir / "results.json").write_text(json.dumps(raw, indent=2) + "\n")
    print(f"\nsaved to {bench.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
