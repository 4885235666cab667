"""The benchmark scripts in ``bench/``: their arithmetic, and short real runs of each.

The runs are far too short to say anything about speed (no test here times anything); they
check that every request the bench sends is answered without an error, on SQLite and on
PostgreSQL, and that the report says what the raw figures say. A bench whose requests had
drifted from the API would otherwise report the speed of error answers.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.append(str(BENCH))  # after the project's own modules: nothing is shadowed

from ab import paired_ratio  # noqa: E402
from harness import LoadResult, _parse, interpreter  # noqa: E402
from run import Row, pg_target_lines  # noqa: E402

ROUTES = (
    "GET cart",
    "PUT cart",
    "create cart (POST)",
    "create + checkout, 10-line cart, 8 clients",
)


def _result(requests: int, *, errors: int = 0) -> LoadResult:
    return LoadResult(
        requests=requests,
        duration_s=1.0,
        p50_ms=1.0,
        p90_ms=2.0,
        p99_ms=3.0,
        max_ms=4.0,
        mean_ms=1.5,
        errors_status=errors,
        errors_socket=0,
    )


def test_a_route_ratio_is_the_median_of_its_paired_rounds() -> None:
    row = Row("GET cart")
    row.results = [_result(100), _result(300), _result(200)]
    row.trivials = [_result(1000), _result(1000), _result(500)]
    assert row.ratios(lambda r: r.rps) == [0.1, 0.3, 0.4]
    # the median of the per-round ratios, not the ratio of the medians (200 / 1000)
    assert row.ratio == pytest.approx(0.3)
    assert row.rps == 200


def test_the_postgresql_verdict_pairs_each_get_round_with_the_loop_after_it() -> None:
    row = Row("GET cart")
    row.results = [_result(800), _result(600), _result(900)]
    row.trivials = [_result(2000), _result(1000), _result(1500)]
    verdict, reach = pg_target_lines(row, [1000.0, None, 1000.0])
    # the round without a loop figure is left out: 0.8 and 0.9, median 0.85
    assert verdict.endswith("0.85x (rounds 0.80-0.90) met")
    # 0.8x of the loop against each round's trivial route: 0.40 and 0.53
    assert reach == "  0.8x of the loop is 0.47x the trivial route of the same rounds"
    row.trivials = [_result(700), _result(700), _result(700)]
    verdict, reach = pg_target_lines(row, [1000.0, 1000.0, 2000.0])
    assert verdict.endswith("0.60x (rounds 0.45-0.80) MISSED")
    assert reach.startswith("  0.8x of the loop is 1.14x the trivial route of the same rounds:")
    assert reach.endswith("so no route reaches it here")
    assert pg_target_lines(row, [None, None, None]) == []


def test_a_side_by_side_ratio_is_the_median_round_with_the_rounds_range() -> None:
    a = [_result(1000), _result(1000), _result(800)]
    b = [_result(1076), _result(886), _result(744)]
    ratio, low, high = paired_ratio(a, b)
    assert (round(ratio, 3), round(low, 3), round(high, 3)) == (0.93, 0.886, 1.076)
    with pytest.raises(ValueError):  # the rounds are paired: a missing one is an error
        paired_ratio(a, b[:2])


def test_a_load_generator_that_prints_no_result_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="printed no result"):
        _parse("Running 1s test @ http://127.0.0.1:1\n", "wrk")
    line = (
        'BENCH_JSON {"requests":10,"duration_s":2.0,"p50_ms":1,"p90_ms":2,"p99_ms":3,'
        '"max_ms":4,"mean_ms":1.5,"errors_status":1,"errors_socket":2}'
    )
    parsed = _parse(f"noise\n{line}\n", "wrk")
    assert (parsed.rps, parsed.errors) == (5.0, 3)


def _script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``bench/name args``, which must exit 0 (its output is shown when it does not)."""
    done = subprocess.run(
        [sys.executable, str(BENCH / name), *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _bench(script: str, *args: str, results: Path) -> tuple[str, Path]:
    """A bench run's report and folder, its results written under ``results``."""
    _script(script, *args, "--results", str(results))
    (folder,) = results.iterdir()
    return (folder / "report.md").read_text(), folder


def _row_line(report: str, name: str) -> str:
    (line,) = [line for line in report.splitlines() if line.startswith(f"| {name} |")]
    return line


def _check_run(report: str, raw: dict[str, Any]) -> None:
    rows = raw["rows"]
    assert set(rows) == set(ROUTES)
    for name in ROUTES:
        row = rows[name]
        (result,) = row["results"]
        (trivial,) = row["trivials"]
        assert result["requests"] > 0 and trivial["requests"] > 0, name
        errors = result["errors_status"] + result["errors_socket"]
        assert errors == 0, f"{name}: {errors} error answers"
        ratio = (result["requests"] / result["duration_s"]) / (
            trivial["requests"] / trivial["duration_s"]
        )
        cells = [cell.strip() for cell in _row_line(report, name).split("|")]
        assert cells[5] == f"{ratio:.2f}x", (name, cells)
        assert cells[-2] == "0"  # the errors column
    assert raw["rss_kib"] > 0
    assert re.search(r"resident memory after the run: \d+ MiB", report)
    assert f"servers on {interpreter()}" in report


_SHORT = ("--no-peers", "--duration", "1", "--rounds", "1", "--connections", "4")


@pytest.mark.slow
def test_the_bench_runs_every_route_without_an_error_on_sqlite(tmp_path: Path) -> None:
    report, folder = _bench("run.py", *_SHORT, results=tmp_path)
    raw = json.loads((folder / "results.json").read_text())
    _check_run(report, raw)
    assert "database: SQLite" in report
    assert raw["pg_point_read_loop_per_s"] is None
    _check_request_ids(folder / "partnercart.log")


def _check_request_ids(log: Path) -> None:
    """Every write carried its own MS-RequestId, a random version 4 GUID as the SDKs send, and
    none was answered as a replay (a bench sending ids twice would measure stored answers)."""
    ids: list[str] = []
    for line in log.read_text().splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry["method"] in ("POST", "PUT") and entry["route"].startswith("/v1/"):
            ids.append(entry["ms_request_id"])
            assert entry["replay"] is False, entry
    assert len(ids) > 100
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(text).version for text in ids} == {4}
    # random, not counted up: about half of the ids are above the one sent before them
    rising = sum(1 for before, after in itertools.pairwise(ids) if after > before)
    assert 0.3 < rising / (len(ids) - 1) < 0.7


@pytest.mark.slow
@pytest.mark.postgres
def test_the_bench_runs_every_route_and_the_read_loop_on_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    report, folder = _bench("run.py", *_SHORT, "--database", pg_url, results=tmp_path)
    raw = json.loads((folder / "results.json").read_text())
    _check_run(report, raw)
    (loop,) = raw["pg_point_read_loop_per_round"]
    assert loop > 0
    assert "PostgreSQL: GET cart >= 0.8x a bare psycopg point-read loop" in report
    (trivial,) = raw["rows"]["GET cart"]["trivials"]
    reach = 0.8 * loop / (trivial["requests"] / trivial["duration_s"])
    assert f"0.8x of the loop is {reach:.2f}x the trivial route of the same rounds" in report
    assert re.search(r"GET cart on PostgreSQL: [\d,]+ reads in [\d,]+ statements", report)


@pytest.mark.slow
def test_the_scale_bench_seeds_both_sizes_and_reads_them_without_an_error(
    tmp_path: Path,
) -> None:
    report, folder = _bench(
        "scale.py",
        *("--sizes", "200,2000", "--rounds", "1", "--duration", "1"),
        *("--sample", "100", "--connections", "4", "--sqlite-cache-mib", "4"),
        results=tmp_path,
    )
    raw = json.loads((folder / "results.json").read_text())
    assert [entry["size"] for entry in raw] == [200, 2000]
    assert f"servers on {interpreter()}" in report
    for entry in raw:
        (gets,) = entry["gets"]
        assert gets["requests"] > 0
        assert gets["errors_status"] + gets["errors_socket"] == 0
        assert entry["sampled_ids"] == 100
        assert entry["rss_end_kib"] > 0
    p99 = raw[1]["gets"][0]["p99_ms"] / raw[0]["gets"][0]["p99_ms"]
    assert f"p99 ratio 2,000 / 200: {p99:.2f}x" in report
    assert "`serve --sqlite-cache-mib 4`" in report


@pytest.mark.slow
def test_instruction_counts_repeat_and_leave_the_start_up_out() -> None:
    """bench/instructions.py, one build against itself: the counts repeat to within a
    percent (the start-up, which varies by more than the requests cost, is not counted), and
    GET cart costs more than the fixed body. 200 requests a route: what timers do (the Date
    header once a second, the logs' ticks) lands in one window and not the other, and over 40
    requests that alone once moved the fixed body's count by 1.2%."""
    root = BENCH.parent
    done = _script(
        "instructions.py",
        *("--a", str(root), "--b", str(root), "--route", "trivial", "get", "--requests", "200"),
    )
    counts: dict[str, tuple[float, float, float]] = {}
    for line in done.stdout.splitlines():
        cells = line.split()
        if cells and cells[0] in ("trivial", "get"):
            a, b, ratio = (float(cell.replace(",", "")) for cell in cells[1:])
            counts[cells[0]] = (a, b, ratio)
    assert set(counts) == {"trivial", "get"}, done.stdout
    for a, b, ratio in counts.values():
        assert 0.99 < ratio < 1.01 and ratio == pytest.approx(b / a, abs=0.001)
    # a request of the fixed body is some hundred thousand instructions, not the start-up's
    # billions divided by 200
    assert 20_000 < counts["trivial"][0] < 5_000_000
    assert counts["get"][0] > 1.3 * counts["trivial"][0]


# --- bench/without.py: builds with parts of a write left out ---------------------------------

_PROBE = """
import datetime as dt, json, sys, tempfile, uuid
from pathlib import Path

sys.path.append(sys.argv[1])
from harness import customer_body, line_items
from starlette.testclient import TestClient

from partnercart.server.http.app import create_app
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import Settings

with tempfile.TemporaryDirectory() as tmp:
    runtime = build_runtime(Settings(data_dir=Path(tmp)))
    app = create_app(runtime, owns_runtime=True)
    token = runtime.issuer.issue(
        tenant_id=str(uuid.uuid4()), client_id=str(uuid.uuid4()), now=dt.datetime.now(dt.UTC)
    )
    auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with TestClient(app) as client:
        customer = client.post("/v1/customers", json=customer_body(), headers=auth).json()["id"]
        carts = f"/v1/customers/{customer}/carts"
        again = auth | {"MS-RequestId": str(uuid.uuid4())}
        first = client.post(carts, json={"lineItems": line_items(1)}, headers=again)
        second = client.post(carts, json={"lineItems": line_items(1)}, headers=again)
        unknown = {"catalogItemId": "NOPE:0001:0001", "quantity": 1, "billingCycle": "monthly"}
        checked = client.post(carts, json={"lineItems": [unknown]}, headers=auth)
        pascal = client.post(carts, json={"LineItems": line_items(1)}, headers=auth)
    print(json.dumps({
        "statuses": [first.status_code, second.status_code, checked.status_code],
        "stored-answers": first.json()["id"] == second.json()["id"],
        "validation": checked.json()["lineItems"][0].get("error") is not None,
        "casing": pascal.status_code == 201 and len(pascal.json()["lineItems"]) == 1,
    }))
"""


def _probe(src: Path) -> dict[str, Any]:
    """What the source at ``src`` does with a repeated ``MS-RequestId``, an unknown catalog
    item and a PascalCase body."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(BENCH)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(src)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return found


@pytest.mark.slow
def test_each_part_without_py_leaves_out_is_that_part_and_no_other(tmp_path: Path) -> None:
    """Every edit of bench/without.py still matches the source exactly once, and a copy
    with one part left out loses that behaviour and keeps the others (the source itself has
    all three)."""
    import without

    edited = [name for name, part in without.PARTS.items() if part.edits]
    assert set(edited) == {"stored-answers", "validation", "casing"}
    whole = _probe(BENCH.parent / "src")
    assert whole == {
        "statuses": [201, 201, 201],
        "stored-answers": True,
        "validation": True,
        "casing": True,
    }
    for name in edited:
        copy = tmp_path / name
        shutil.copytree(BENCH.parent / "src", copy, ignore=shutil.ignore_patterns("__pycache__"))
        without.apply_edits(copy, without.PARTS[name].edits)
        assert _probe(copy) == whole | {name: False}, name


def test_an_edit_that_no_longer_matches_the_source_stops_the_run(tmp_path: Path) -> None:
    import without

    (tmp_path / "module.py").write_text("x = 1\nx = 1\n")
    for old in ("x = 1\n", "y = 2\n"):  # found twice, not found
        with pytest.raises(SystemExit, match=r"found [02] times"):
            without.apply_edits(tmp_path, [without.Edit("module.py", old, "z = 3\n")])
    assert (tmp_path / "module.py").read_text() == "x = 1\nx = 1\n"


@pytest.mark.slow
def test_the_without_bench_loads_each_build_without_an_error() -> None:
    done = _script(
        "without.py",
        *("--remove", "stored-answers", "--rounds", "1", "--duration", "1", "--connections", "4"),
    )
    rows = {
        line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
        for line in done.stdout.splitlines()
        if line.startswith("| everything on") or line.startswith("| without")
    }
    assert set(rows) == {"everything on", "without stored-answers"}
    for cells in rows.values():
        trivial, get, put, create = (float(cells[i].replace(",", "")) for i in (0, 1, 3, 5))
        assert min(trivial, get, put, create) > 0
        for rps, cell in ((get, cells[2]), (put, cells[4]), (create, cells[6])):
            # One round: the ratio is that round's own. The report divides the exact rates
            # and shows them rounded to whole requests, so the ratio taken from the shown
            # rates may differ from the shown one by its rounding and theirs.
            ratio, slack = rps / trivial, 0.005 + rps / trivial * (0.5 / rps + 0.5 / trivial)
            assert abs(float(cell.split("x")[0]) - ratio) <= slack, cells
        assert cells[7] == "0"
