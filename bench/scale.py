"""GET cart latency with 10 thousand and with 1 million carts stored, and the server's memory.

For each size: a fresh data dir is filled by ``partnercart db seed`` (progress bar), the server
is started on it (pinned to one core), and wrk GETs carts picked at random from a sample of
existing ids (the Lua script picks per request). Resident memory (VmRSS) is read from /proc
after the run. Results go to bench/results/.

    python bench/scale.py [--sizes 10000,1000000] [--duration 15] [--connections 32]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness import (
    PYTHON,
    RESULTS,
    WRK_INSTALL_HINT,
    LoadResult,
    LoadSpec,
    Placement,
    child_env,
    drive,
    free_port,
    have_wrk,
    headers,
    start_partnercart,
    temp_dir,
    token,
)


@dataclass
class ScaleResult:
    size: int
    seed_seconds: float
    db_mib: float
    sampled_ids: int
    get: LoadResult
    trivial: LoadResult
    rss_start_kib: int | None
    rss_end_kib: int | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["get"]["rps"] = self.get.rps
        data["trivial"]["rps"] = self.trivial.rps
        return data


def sample_paths(db_file: Path, count: int) -> list[str]:
    with sqlite3.connect(db_file) as conn:
        rows = conn.execute(
            "SELECT customer_id, id FROM carts ORDER BY random() LIMIT ?", (count,)
        ).fetchall()
    return [f"/v1/customers/{customer}/carts/{cart}" for customer, cart in rows]


def measure(
    size: int, args: argparse.Namespace, placement: Placement, out_dir: Path, generator: str
) -> ScaleResult:
    data_dir = temp_dir(f"partnercart-scale-{size}-")
    try:
        partner = str(uuid.uuid4())
        print(f"\nseeding {size:,} carts into {data_dir} ...", flush=True)
        started = dt.datetime.now(dt.UTC)
        subprocess.run(
            [
                *(PYTHON, "-m", "partnercart", "db", "seed", "--carts", str(size)),
                *("--customers", str(max(1, size // 100)), "--partner", partner),
                *("--data-dir", str(data_dir)),
            ],
            env=child_env(),
            check=True,
        )
        seed_seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
        db_file = data_dir / "partnercart.db"
        db_mib = db_file.stat().st_size / 2**20
        paths = sample_paths(db_file, args.sample)
        port = free_port()
        server = start_partnercart(
            port=port,
            data_dir=data_dir,
            placement=placement,
            log_dir=out_dir,
            name=f"partnercart-{size}",
        )
        try:
            bearer = token(partner, data_dir)
            get_headers = headers(bearer)
            del get_headers["Content-Type"]
            rss_start = server.rss_kib()
            spec = LoadSpec(
                port=port,
                paths=paths,
                headers=get_headers,
                mode="random",
                duration=args.duration,
                connections=args.connections,
            )
            work = data_dir / "load"
            warm = LoadSpec(**{**asdict(spec), "duration": 2.0})
            drive(warm, placement=placement, generator=generator, work_dir=work)
            print(f"measuring GET cart over {len(paths):,} random ids of {size:,} ...", flush=True)
            result = drive(spec, placement=placement, generator=generator, work_dir=work)
            trivial = drive(
                LoadSpec(
                    port=port,
                    paths=["/_partnercart/ping"],
                    duration=min(5.0, args.duration),
                    connections=args.connections,
                    request_ids=False,
                ),
                placement=placement,
                generator=generator,
                work_dir=work,
            )
            rss_end = server.rss_kib()
        finally:
            server.stop()
        return ScaleResult(
            size=size,
            seed_seconds=seed_seconds,
            db_mib=db_mib,
            sampled_ids=len(paths),
            get=result,
            trivial=trivial,
            rss_start_kib=rss_start,
            rss_end_kib=rss_end,
        )
    finally:
        if not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)


def render(results: list[ScaleResult], args: argparse.Namespace, placement: Placement) -> str:
    lines = [
        f"partnercart scale bench, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"SQLite (embedded default); GET cart over random ids from a sample of {args.sample:,}; "
        f"{args.connections} connections, {args.duration:.0f}s; {placement.describe()}",
        "",
        "| carts stored | db file MiB | seed s | GET req/s | p50 ms | p99 ms | trivial req/s "
        "| RSS after MiB | errors |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for entry in results:
        get = entry.get
        lines.append(
            f"| {entry.size:,} | {entry.db_mib:,.0f} | {entry.seed_seconds:.0f} | "
            f"{get.rps:,.0f} | {get.p50_ms:.2f} | {get.p99_ms:.2f} | {entry.trivial.rps:,.0f} | "
            f"{(entry.rss_end_kib or 0) / 1024:.0f} | {get.errors} |"
        )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        p99_ratio = large.get.p99_ms / small.get.p99_ms
        p50_ratio = large.get.p50_ms / small.get.p50_ms
        verdict = "met" if p99_ratio <= 1.2 else "MISSED"
        lines += [
            "",
            f"p99 ratio {large.size:,} / {small.size:,}: {p99_ratio:.2f}x "
            f"(target <= 1.2x: {verdict}); p50 ratio {p50_ratio:.2f}x",
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
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per size (15)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sample", type=int, default=10000, help="cart ids the load picks from")
    parser.add_argument("--keep-data", action="store_true", help="keep the seeded data dirs")
    args = parser.parse_args(argv)
    generator = "wrk" if have_wrk() else "pyload"
    if generator != "wrk":
        print(WRK_INSTALL_HINT)
    placement = Placement.choose(1)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    out_dir = RESULTS / f"scale-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results = [measure(size, args, placement, out_dir, generator) for size in sizes]
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
