"""GET cart latency with 10 thousand and with 1 million carts stored, and the server's memory.

For each size a fresh data dir is filled by ``partnercart db seed`` (progress bar) and a server
is started on it (all pinned to the same core; only the one under load is busy). Then, round
after round, the sizes take turns: wrk GETs carts picked at random (per request, in Lua) from a
sample of existing ids. Resident memory (VmRSS) is read from /proc after the rounds. Results go
to bench/results/. Both servers run with ``--sqlite-cache-mib 128`` unless told otherwise: on
virtual machines that hand the kernel's page cache back within a minute, SQLite's own 2 MiB left
the million-cart GETs reading the disk (docs/decisions.md).

    python bench/scale.py [--sizes 10000,1000000] [--rounds 3] [--duration 5] [--connections 32]
                          [--sqlite-cache-mib 128] [--keep-data] [--results DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness import (
    PYTHON,
    WRK_INSTALL_HINT,
    LoadResult,
    LoadSpec,
    Placement,
    Process,
    add_results_option,
    child_env,
    drive,
    free_port,
    have_wrk,
    headers,
    interpreter,
    start_partnercart,
    temp_dir,
    token,
)


@dataclass
class DataSet:
    size: int
    data_dir: Path
    partner: str
    seed_seconds: float
    db_mib: float
    paths: list[str]


@dataclass
class ScaleResult:
    size: int
    seed_seconds: float
    db_mib: float
    sampled_ids: int
    gets: list[LoadResult]
    trivial: LoadResult | None
    rss_start_kib: int | None
    rss_end_kib: int | None

    def median(self, value: Callable[[LoadResult], float]) -> float:
        return statistics.median(value(r) for r in self.gets)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def sample_paths(db_file: Path, count: int) -> list[str]:
    with sqlite3.connect(db_file) as conn:
        rows = conn.execute(
            "SELECT customer_id, id FROM carts ORDER BY random() LIMIT ?", (count,)
        ).fetchall()
    return [f"/v1/customers/{customer}/carts/{cart}" for customer, cart in rows]


def make_data_set(size: int, sample: int) -> DataSet:
    data_dir = temp_dir(f"partnercart-scale-{size}-")
    partner = str(uuid.uuid4())
    print(f"\nseeding {size:,} carts into {data_dir} ...", flush=True)
    started = time.monotonic()
    subprocess.run(
        [
            *(PYTHON, "-m", "partnercart", "db", "seed", "--carts", str(size)),
            *("--customers", str(max(1, size // 100)), "--partner", partner),
            *("--data-dir", str(data_dir)),
        ],
        env=child_env(),
        check=True,
    )
    seed_seconds = time.monotonic() - started
    db_file = data_dir / "partnercart.db"
    return DataSet(
        size=size,
        data_dir=data_dir,
        partner=partner,
        seed_seconds=seed_seconds,
        db_mib=db_file.stat().st_size / 2**20,
        paths=sample_paths(db_file, sample),
    )


def measure(
    data_sets: list[DataSet],
    args: argparse.Namespace,
    placement: Placement,
    out_dir: Path,
    generator: str,
) -> list[ScaleResult]:
    """One server per data set (only the one under load uses the core); the sizes take turns,
    round after round, so a busy neighbour slows them alike."""
    servers: list[Process] = []
    specs: list[LoadSpec] = []
    try:
        for data in data_sets:
            port = free_port()
            servers.append(
                start_partnercart(
                    port=port,
                    data_dir=data.data_dir,
                    placement=placement,
                    log_dir=out_dir,
                    name=f"partnercart-{data.size}",
                    extra=("--sqlite-cache-mib", str(args.sqlite_cache_mib)),
                )
            )
            get_headers = headers(token(data.partner, data.data_dir))
            del get_headers["Content-Type"]
            specs.append(
                LoadSpec(
                    port=port,
                    paths=data.paths,
                    headers=get_headers,
                    mode="random",
                    duration=args.duration,
                    connections=args.connections,
                )
            )
        rss_start = [server.rss_kib() for server in servers]
        work = out_dir / "load"
        for spec in specs:
            warm = LoadSpec(**{**asdict(spec), "duration": 2.0})
            drive(warm, placement=placement, generator=generator, work_dir=work)
        gets: list[list[LoadResult]] = [[] for _ in data_sets]
        for round_no in range(args.rounds):
            for index, (data, spec) in enumerate(zip(data_sets, specs, strict=True)):
                print(
                    f"round {round_no + 1}/{args.rounds}: GET cart over {len(data.paths):,} "
                    f"random ids of {data.size:,} ...",
                    flush=True,
                )
                gets[index].append(
                    drive(spec, placement=placement, generator=generator, work_dir=work)
                )
        rss_end = [server.rss_kib() for server in servers]
        trivial = drive(
            LoadSpec(
                port=specs[0].port,
                paths=["/_partnercart/ping"],
                duration=args.duration,
                connections=args.connections,
                request_ids=False,
            ),
            placement=placement,
            generator=generator,
            work_dir=work,
        )
    finally:
        for server in servers:
            server.stop()
    return [
        ScaleResult(
            size=data.size,
            seed_seconds=data.seed_seconds,
            db_mib=data.db_mib,
            sampled_ids=len(data.paths),
            gets=gets[index],
            trivial=trivial if index == 0 else None,
            rss_start_kib=rss_start[index],
            rss_end_kib=rss_end[index],
        )
        for index, data in enumerate(data_sets)
    ]


def render(results: list[ScaleResult], args: argparse.Namespace, placement: Placement) -> str:
    lines = [
        f"partnercart scale bench, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"SQLite (embedded default, `serve --sqlite-cache-mib {args.sqlite_cache_mib}`); "
        f"GET cart over random ids from a sample of {args.sample:,}; "
        f"{args.connections} connections; {args.rounds} rounds of {args.duration:.0f}s per "
        f"size, the sizes taking turns; {placement.describe()}; servers on {interpreter()}",
        "",
        "| carts stored | db file MiB | seed s | GET req/s | p50 ms | p99 ms | p99 per round ms "
        "| RSS after MiB | errors |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in results:
        rounds = ", ".join(f"{r.p99_ms:.1f}" for r in entry.gets)
        lines.append(
            f"| {entry.size:,} | {entry.db_mib:,.0f} | {entry.seed_seconds:.0f} | "
            f"{entry.median(lambda r: r.rps):,.0f} | {entry.median(lambda r: r.p50_ms):.2f} | "
            f"{entry.median(lambda r: r.p99_ms):.2f} | {rounds} | "
            f"{(entry.rss_end_kib or 0) / 1024:.0f} | {sum(r.errors for r in entry.gets)} |"
        )
    lines.append("")
    lines.append("req/s, p50 and p99 are medians over the rounds.")
    trivial = results[0].trivial
    if trivial is not None:
        lines.append(
            f"trivial route on the {results[0].size:,}-cart server after the rounds: "
            f"{trivial.rps:,.0f} req/s"
        )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        p99_ratio = large.median(lambda r: r.p99_ms) / small.median(lambda r: r.p99_ms)
        p50_ratio = large.median(lambda r: r.p50_ms) / small.median(lambda r: r.p50_ms)
        pairs = [b.p99_ms / a.p99_ms for a, b in zip(small.gets, large.gets, strict=True)]
        verdict = "met" if p99_ratio <= 1.2 else "MISSED"
        lines += [
            "",
            f"p99 ratio {large.size:,} / {small.size:,}: {p99_ratio:.2f}x "
            f"(target <= 1.2x: {verdict}); per round "
            + ", ".join(f"{x:.2f}x" for x in pairs)
            + f" (median {statistics.median(pairs):.2f}x, the rounds being paired as in run.py)"
            + f"; p50 ratio {p50_ratio:.2f}x",
        ]
        rss = (large.rss_end_kib or 0) / 1024
        verdict = "met" if rss < 300 else "MISSED"
        lines.append(
            f"resident memory with {large.size:,} carts: {rss:.0f} MiB (< 300 MB: {verdict})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,1000000", help="comma-separated cart counts")
    parser.add_argument(
        "--duration", type=float, default=5.0, help="seconds per size and round (5)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds, the sizes taking turns")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sample", type=int, default=10000, help="cart ids the load picks from")
    parser.add_argument("--keep-data", action="store_true", help="keep the seeded data dirs")
    add_results_option(parser)
    parser.add_argument(
        "--sqlite-cache-mib",
        type=int,
        default=128,
        help="`serve --sqlite-cache-mib` for both servers (128: the sampled carts' pages fit; "
        "`serve` itself defaults to 2, SQLite's own)",
    )
    args = parser.parse_args(argv)
    generator = "wrk" if have_wrk() else "pyload"
    if generator != "wrk":
        print(WRK_INSTALL_HINT)
    placement = Placement.choose(1)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    out_dir = args.results / f"scale-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    data_sets = [make_data_set(size, args.sample) for size in sizes]
    try:
        results = measure(data_sets, args, placement, out_dir, generator)
    finally:
        if not args.keep_data:
            for data in data_sets:
                shutil.rmtree(data.data_dir, ignore_errors=True)
    report = render(results, args, placement)
    print()
    print(report)
    (out_dir / "report.md").write_text(report + "\n")
    (out_dir / "results.json").write_text(
        json.dumps([r.to_json() for r in results], indent=2) + "\n"
    )
    print(f"\nsaved to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
