"""What the parts of a request cost over the wire: GET, PUT and create cart with parts left out.

    python bench/without.py [--remove stored-answers validation casing request-log]
                            [--rounds 3] [--duration 5] [--connections 32]

A profile of PUT cart shows no leaf above a few percent, so it cannot say whether a ratio
target is out of reach or a few fixes away. This answers it by measurement: it copies this
checkout's ``src`` once per build, leaves parts out of each copy (each part alone, then all of
them), serves every build at once (one process each, all pinned to the server's core, each on
its own data dir) and loads them in turn, round by round, with the same requests as
``bench/run.py``: the trivial fixed-body route, GET cart, PUT cart and create cart, each ratio
taken against the same build's trivial route in the same round (GET is the control: only the
request log is on its path). The parts:

- ``stored-answers``: the ``MS-RequestId`` answer kept for replays (its row, its fingerprint,
  its lookup), as if no request carried the header;
- ``validation``: the lines' check against the catalog, and their prices;
- ``casing``: reading bodies in any casing and enum spelling (the lenient walk before the
  typed conversion; the bench's bodies are canonical already);
- ``request-log``: the control plane's request log (``serve --no-request-log``).

A build without a part is not partnercart: the copies live in a temporary folder and are
deleted when the run ends. Every edit must match the source exactly once, or the run stops
before it measures anything.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ab import Build as Server
from ab import run, start_build
from harness import ROOT, LoadResult, Placement, have_wrk, interpreter, temp_dir

MEASURED = ("trivial", "get", "put", "create")


@dataclass(frozen=True)
class Edit:
    """Replace ``old`` (found exactly once) by ``new`` in ``path`` under ``src``."""

    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Part:
    edits: tuple[Edit, ...] = ()
    serve_args: tuple[str, ...] = ()


PARTS: dict[str, Part] = {
    "stored-answers": Part(
        edits=(
            Edit(
                "partnercart/server/http/calls.py",
                '    state = request.scope.get("state") or {}\n'
                "    if request.method not in IDEMPOTENT_METHODS",
                "    return None  # left out by bench/without.py\n"
                '    state = request.scope.get("state") or {}\n'
                "    if request.method not in IDEMPOTENT_METHODS",
            ),
        )
    ),
    "validation": Part(
        edits=(
            Edit(
                "partnercart/server/domain/carts.py",
                "    validate_lines(lines, check)\n",
                "    del check  # validation left out by bench/without.py\n",
            ),
        )
    ),
    "casing": Part(
        edits=(
            Edit(
                "partnercart/schema/codec.py",
                "    normal = plan_for(type_, drop_server_owned=drop_server_owned)(document)",
                "    normal = document  # left out by bench/without.py",
            ),
        )
    ),
    "request-log": Part(serve_args=("--no-request-log",)),
}


def apply_edits(src: Path, edits: Sequence[Edit]) -> None:
    """Make each edit in the copy at ``src``; an edit whose text is not found exactly once
    stops the run (the source moved on, and the build would measure something else)."""
    for edit in edits:
        target = src / edit.path
        text = target.read_text()
        found = text.count(edit.old)
        if found != 1:
            raise SystemExit(
                f"bench/without.py: {edit.path}: the text to replace is found {found} times, "
                "not once; update PARTS to the current source"
            )
        target.write_text(text.replace(edit.old, edit.new))


@dataclass
class Build:
    """One copy of the source as ``bench/ab.py`` serves it (its specs and results), and what
    it leaves out."""

    label: str
    server: Server

    def ratios(self, route: str) -> list[float]:
        """The route's req/s over the trivial route's, round by round."""
        results = self.server.results
        pairs = zip(results["trivial"], results[route], strict=True)
        return [result.rps / trivial.rps for trivial, result in pairs]

    def errors(self) -> int:
        return sum(r.errors for results in self.server.results.values() for r in results)


def make_build(index: int, removed: tuple[str, ...], work: Path) -> Build:
    label = "everything on" if not removed else "without " + " + ".join(removed)
    if not removed:
        return Build(label, Server(str(index), ROOT, []))
    root = work / f"build-{index}"
    shutil.copytree(ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    serve_args: list[str] = []
    for name in removed:
        apply_edits(root / "src", PARTS[name].edits)
        serve_args += PARTS[name].serve_args
    return Build(label, Server(str(index), root, serve_args))


def measure(
    removals: Sequence[tuple[str, ...]],
    *,
    rounds: int,
    duration: float,
    connections: int,
) -> list[Build]:
    """Serve every build at once and load them in turn: per round, each build's trivial
    route, GET, PUT and create back to back, the builds' order turned round each round. Each
    build is served, seeded (one customer, 32 carts of three lines) and given its requests as
    ``bench/ab.py`` does."""
    work = temp_dir("partnercart-without-")
    placement = Placement.choose(1)
    generator = "wrk" if have_wrk() else "pyload"
    builds = [make_build(index, removed, work) for index, removed in enumerate(removals)]
    try:
        for build in builds:
            start_build(build.server, work, placement)

        def load(build: Build, route: str, seconds: float) -> LoadResult:
            server = build.server
            return run(server, route, seconds, placement, work, connections, generator=generator)

        for build in builds:  # warm each up once
            for route in MEASURED:
                load(build, route, 1.0)
        for round_no in range(rounds):
            turn = round_no % len(builds)
            for build in builds[turn:] + builds[:turn]:
                for route in MEASURED:
                    result = load(build, route, duration)
                    build.server.results.setdefault(route, []).append(result)
                    print(
                        f"round {round_no + 1} {build.label:40} {route:8}"
                        f" {result.rps:9,.0f} req/s  errors {result.errors}",
                        flush=True,
                    )
    finally:
        for build in builds:
            if build.server.process is not None:
                build.server.process.stop()
        shutil.rmtree(work, ignore_errors=True)
    return builds


def _ratio_cell(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"


def report(builds: Sequence[Build]) -> str:
    def median_rps(build: Build, route: str) -> float:
        return statistics.median(r.rps for r in build.server.results[route])

    lines = [
        "| build | trivial req/s | GET req/s | GET vs trivial (range) | PUT req/s "
        "| PUT vs trivial (range) | create req/s | create vs trivial (range) | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for build in builds:
        cells = [build.label, f"{median_rps(build, 'trivial'):,.0f}"]
        for route in MEASURED[1:]:
            cells += [f"{median_rps(build, route):,.0f}", _ratio_cell(build.ratios(route))]
        lines.append("| " + " | ".join([*cells, str(build.errors())]) + " |")
    return "\n".join(lines)


def removal_sets(names: Sequence[str]) -> list[tuple[str, ...]]:
    """Everything on, each part left out alone, and (for more than one) all of them out."""
    sets: list[tuple[str, ...]] = [(), *((name,) for name in names)]
    if len(names) > 1:
        sets.append(tuple(names))
    return sets


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--remove", nargs="+", choices=list(PARTS), default=list(PARTS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds a measurement")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    builds = measure(
        removal_sets(args.remove),
        rounds=args.rounds,
        duration=args.duration,
        connections=args.connections,
    )
    print()
    print(f"servers on {interpreter()}, {args.rounds} round(s) of {args.duration:g} s")
    print(report(builds))
    return 0 if all(build.errors() == 0 for build in builds) else 1


if __name__ == "__main__":
    sys.exit(main())
