"""Instructions a request costs, counted under valgrind's callgrind: two builds compared on a
machine whose speed moves.

    python bench/instructions.py --a /path/to/old/checkout [--b .] [--route trivial get put]
                                 [--requests 300] [--a-python PY] [--b-python PY]

Over the wire (``bench/ab.py``) two builds of one afternoon differ by up to 15% round to round
when nothing but the machine changed, so a change worth 3-5% cannot be told from the noise there.
callgrind counts the instructions a process runs, not the time they take: the same program with
the same input counts the same whatever else the machine does. This runs ``bench/inprocess.py
--count ROUTE`` (the app called directly, the access and request logs on, as ``serve`` runs
them) under callgrind once per build and route and counts from the first of ``--requests``
requests to the last (a two-line C shim, built here with ``cc``, turns callgrind's counting on
and off around them), so the start-up (imports, the catalog, the database) and the warm-up are
left out. Every build is driven by this checkout's ``bench/inprocess.py``, so only the app
differs; ``--a-python``/``--b-python`` set each build's interpreter.

Python runs with its own allocator, as ``serve`` does. Work that comes once per so many seconds
rather than per request (the fault rules' and clocks' cache checks, the request log's tick)
would come round some fifty times as often per request under valgrind's slowdown, so the driver
holds it off for the counted window (``inprocess.hold_timed_work``); the Date header, formatted
once a second, is left in.

Instructions are not time: a system call, a cache miss or a page the allocator hands back cost
time without many instructions, which only the wire shows. Use it to weigh a change to the code a
request runs; confirm a change in how the process waits or allocates with ``bench/ab.py``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from harness import ROUTES

BENCH = Path(__file__).resolve().parent
_COLLECTED = re.compile(r"Collected : (\d+)")


@dataclass(frozen=True)
class Build:
    name: str
    root: Path
    python: str


#: valgrind's documented client request, so the driver counts its requests and nothing else.
SHIM_SOURCE = """#include <valgrind/callgrind.h>
void cg_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
"""


def build_shim(work: Path) -> Path:
    """The toggle as a shared library, built with the C compiler (valgrind ships the header)."""
    source = work / "toggle.c"
    source.write_text(SHIM_SOURCE)
    library = work / "toggle.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    return library


def count(build: Build, route: str, requests: int, shim: Path) -> int:
    """Instructions of ``requests`` calls of ``route`` in one ``inprocess.py --count`` run
    (its start-up and warm-up not counted)."""
    env = dict(os.environ)
    env["PARTNERCART_CALLGRIND_SHIM"] = str(shim)
    env["PYTHONPATH"] = os.pathsep.join([str(build.root / "src"), str(BENCH)])
    env["PYTHONHASHSEED"] = "0"  # the same dict layouts in every run
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--collect-atstart=no",
                f"--callgrind-out-file={tmp}/out",
                build.python,
                str(BENCH / "inprocess.py"),
                "--count",
                route,
                "--requests",
                str(requests),
                "--rounds",
                "1",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{build.name} {route}: callgrind failed\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--a", type=Path, required=True, help="checkout of build A")
    parser.add_argument("--b", type=Path, default=BENCH.parent)
    parser.add_argument("--a-python", default=sys.executable)
    parser.add_argument("--b-python", default=sys.executable)
    parser.add_argument("--route", nargs="+", choices=ROUTES, default=["trivial", "get", "put"])
    parser.add_argument("--requests", type=int, default=300, help="requests counted a route")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("bench/instructions.py needs valgrind (apt-get install valgrind)")
    builds = [
        Build("A", args.a.resolve(), args.a_python),
        Build("B", args.b.resolve(), args.b_python),
    ]
    jobs = [(build, route) for route in args.route for build in builds]
    with (
        tempfile.TemporaryDirectory(prefix="partnercart-instructions-") as work,
        ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool,
    ):
        shim = build_shim(Path(work))
        counted = list(pool.map(lambda job: count(*job, args.requests, shim), jobs))
    per_request = {job: total / args.requests for job, total in zip(jobs, counted, strict=True)}
    for build in builds:
        print(f"{build.name} = {build.root} {build.python}")
    print(f"{'route':10} {'A instr/req':>12} {'B instr/req':>12} {'B/A':>7}")
    a_build, b_build = builds
    for route in args.route:
        a, b = per_request[(a_build, route)], per_request[(b_build, route)]
        print(f"{route:10} {a:12,.0f} {b:12,.0f} {b / a:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
