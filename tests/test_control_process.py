"""The control plane over real server processes: dropped connections, state shared by several
processes, the CLI, and deterministic mode."""

from __future__ import annotations

import base64
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from partnercart.cli.main import main as cli
from partnercart.server.http.factory import HEAP_TOP_KEPT
from partnercart.server.identity.keys import read_admin_key
from tests.servers import Partner, ServerProcess, line, running

pytestmark = pytest.mark.slow


def admin_headers(data_dir: Path) -> dict[str, str]:
    key = read_admin_key(data_dir)
    assert key
    return {"X-Partnercart-Admin-Key": key}


#: A dropped connection: closed before any answer (FIN), or reset when the request body was
#: still unread (RST); either way the client gets no response.
NO_ANSWER = (httpx.RemoteProtocolError, httpx.ReadError)


def eventually(check: Callable[[], bool], *, within: float = 20) -> None:
    """Wait for another process to see a change (caches live about a second)."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "the change never became visible"
        time.sleep(0.2)


def version_of(cart: dict[str, Any]) -> int:
    return int(json.loads(base64.b64decode(cart["attributes"]["etag"]))["version"])


def test_apply_then_drop_changes_once_and_answers_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running(ServerProcess(data)) as (server,):
        partner = Partner(data)
        customer = partner.new_customer(server.url)
        cart = partner.new_cart(server.url, customer, [line(1)])
        assert version_of(cart) == 1
        rule = httpx.post(
            f"{server.url}/_partnercart/faults",
            json={"action": "apply_then_drop", "method": "PUT", "times": 1},
            headers=admin_headers(data),
        ).json()
        url = f"{server.url}/v1/customers/{customer}/carts/{cart['id']}"
        headers = {**partner.headers, "MS-RequestId": str(uuid.uuid4())}
        with pytest.raises(NO_ANSWER):
            httpx.put(url, json={"lineItems": [line(4)]}, headers=headers, timeout=30)
        stored = httpx.get(url, headers=partner.headers, timeout=30).json()
        assert version_of(stored) == 2  # the faulted call applied exactly one change
        assert stored["lineItems"][0]["quantity"] == 4
        log = httpx.get(
            f"{server.url}/_partnercart/requests",
            params={"partner": partner.tenant, "limit": 5},
            headers=admin_headers(data),
        ).json()["items"]
        put = next(i for i in log if i["method"] == "PUT")
        assert put["dropped"] is True and put["status"] is None and put["fault"] == rule["id"]
    assert "Traceback" not in server.output()
    assert "returned without starting response" not in server.output()


def test_drop_answers_nothing_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running(ServerProcess(data)) as (server,):
        partner = Partner(data)
        httpx.post(
            f"{server.url}/_partnercart/faults",
            json={"action": "drop", "method": "POST", "route": "/v1/customers", "times": 1},
            headers=admin_headers(data),
        ).raise_for_status()
        with pytest.raises(NO_ANSWER):
            partner.new_customer(server.url)
        listed = httpx.get(f"{server.url}/v1/customers", headers=partner.headers).json()
        assert listed["totalCount"] == 0
        partner.new_customer(server.url)  # the rule is spent


def test_retry_with_same_request_id_after_dropped_put_leaves_one_change(tmp_path: Path) -> None:
    """The write went through, the answer was lost; the SDK-style retry with the same
    MS-RequestId gets the stored answer, marked as a replay, and nothing changes twice."""
    data = tmp_path / "data"
    with running(ServerProcess(data)) as (server,):
        partner = Partner(data)
        customer = partner.new_customer(server.url)
        cart = partner.new_cart(server.url, customer, [line(1)])
        httpx.post(
            f"{server.url}/_partnercart/faults",
            json={"action": "apply_then_drop", "method": "PUT", "times": 1},
            headers=admin_headers(data),
        ).raise_for_status()
        url = f"{server.url}/v1/customers/{customer}/carts/{cart['id']}"
        headers = {**partner.headers, "MS-RequestId": str(uuid.uuid4())}
        with pytest.raises(NO_ANSWER):
            httpx.put(url, json={"lineItems": [line(4)]}, headers=headers, timeout=30)
        retry = httpx.put(url, json={"lineItems": [line(4)]}, headers=headers, timeout=30)
        assert retry.status_code == 201
        assert retry.headers["ms-idempotent-replay"] == "true"
        assert version_of(retry.json()) == 2
        assert version_of(httpx.get(url, headers=partner.headers).json()) == 2


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_processes_share_clock_faults_and_log(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    data = tmp_path / "data"
    database = request.getfixturevalue("pg_url") if engine == "postgres" else None
    a, b = ServerProcess(data, database=database), ServerProcess(data, database=database)
    with running(a, b):
        admin = admin_headers(data)
        partner = Partner(data)
        customer = partner.new_customer(a.url)
        cart = partner.new_cart(a.url, customer, [line(1)])
        cart_url = f"/v1/customers/{customer}/carts/{cart['id']}"
        assert httpx.get(b.url + cart_url, headers=partner.headers).status_code == 200
        moved = httpx.post(
            f"{a.url}/_partnercart/partners/{partner.tenant}/clock/advance",
            json={"duration": "P7D"},
            headers=admin,
        )
        assert moved.status_code == 200, moved.text
        eventually(lambda: httpx.get(b.url + cart_url, headers=partner.headers).status_code == 404)
        httpx.post(
            f"{a.url}/_partnercart/faults",
            json={"partner": partner.tenant, "status": 503, "code": 800003},
            headers=admin,
        ).raise_for_status()
        eventually(
            lambda: httpx.get(f"{b.url}/v1/customers", headers=partner.headers).status_code == 503
        )

        def faulted_in_log() -> bool:
            log = httpx.get(
                f"{a.url}/_partnercart/requests", params={"partner": partner.tenant}, headers=admin
            ).json()["items"]
            return any(i["status"] == 503 and i["fault"] for i in log)

        # Written by b (in its next batch, within a fraction of a second), read via a.
        eventually(faulted_in_log)


def test_cli_verbs_against_a_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seed_file = tmp_path / "seed.yaml"
    with running(ServerProcess(data)) as (server,):
        partner = str(uuid.uuid4())
        seed_file.write_text(
            "partners:\n"
            f"  - id: {partner}\n"
            "    customers:\n"
            "      - customer:\n"
            "          companyProfile: {domain: seeded.onmicrosoft.com}\n"
            "          billingProfile:\n"
            "            email: a@b.example\n"
            "            culture: en-US\n"
            "            language: en\n"
            "            companyName: Seeded\n"
            "            defaultAddress: {country: US, city: Redmond, state: WA,\n"
            "              addressLine1: One Way, postalCode: '98052', firstName: A,\n"
            "              lastName: B, phoneNumber: '4255550100'}\n"
            "        carts:\n"
            "          - lineItems: [{catalogItemId: 'CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS',\n"
            "              quantity: 1, termDuration: P1M, billingCycle: monthly}]\n"
        )
        base = ["control", "--url", server.url, "--data-dir", str(data)]
        runner = CliRunner()

        def run(*args: str) -> Any:
            result = runner.invoke(cli, [*base, *args])
            assert result.exit_code == 0, result.output
            return result.output

        created = json.loads(run("seed", str(seed_file)))
        assert len(created["partners"][0]["customers"][0]["carts"]) == 1
        assert json.loads(run("partners"))["items"][0]["id"] == partner
        run("clock", "set", partner, "2030-01-01T00:00:00Z", "--frozen")
        shown = json.loads(run("clock", "advance", partner, "P7D"))
        assert shown["now"] == "2030-01-08T00:00:00.0000000Z" and shown["frozen"] is True
        rule = json.loads(run("faults", "add", "--status", "429", "--retry-after", "3"))
        assert rule["status"] == 429 and rule["code"] == 429
        assert rule["id"] in run("faults", "list")
        run("faults", "delete", rule["id"])
        assert json.loads(run("faults", "list"))["items"] == []
        assert run("requests") == "no requests logged\n"  # a line, not JSON, nor nothing
        assert json.loads(run("reset", "--partner", partner))["deleted"]["customers"] == 1
        bad = runner.invoke(cli, [*base, "clock", "advance", partner, "seven days"])
        assert bad.exit_code != 0 and "400" in bad.output
        # Failures exit with the codes of the CLI's table, as the API commands do (1 is a bug).
        exits = {
            "bad input (400)": (bad, 6),
            "unknown rule (404)": (runner.invoke(cli, [*base, "faults", "delete", "no-rule"]), 4),
            "wrong admin key (401)": (
                runner.invoke(
                    cli, ["control", "--url", server.url, "--admin-key", "x", "partners"]
                ),
                3,
            ),
            "no admin key": (
                runner.invoke(
                    cli,
                    [
                        "control",
                        "--url",
                        server.url,
                        "--data-dir",
                        str(tmp_path / "no"),
                        "partners",
                    ],
                ),
                3,
            ),
            "unreachable": (
                runner.invoke(
                    cli, ["control", "--url", "http://127.0.0.1:9", "--admin-key", "x", "partners"]
                ),
                7,
            ),
        }
        for what, (result, code) in exits.items():
            assert result.exit_code == code, (what, result.output)
            assert "Error:" in result.output, what


SCRIPT_PARTNERS = ("6f9c7a52-3a0e-4d55-9a43-0b7c8f1d2e01", "0b1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")


def run_script(server: ServerProcess, data: Path) -> list[bytes]:
    """Create customer / create cart / put / get for two partners, interleaved."""
    from tests.conftest import customer_body

    partners = [Partner(data, tenant) for tenant in SCRIPT_PARTNERS]
    bodies: list[bytes] = []
    customers: dict[str, str] = {}
    carts: dict[str, str] = {}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for p in partners:
            body = customer_body("US", domain=f"{p.tenant[:8]}.onmicrosoft.com")
            response = client.post("/v1/customers", json=body, headers=p.headers)
            assert response.status_code == 201, response.text
            bodies.append(response.content)
            customers[p.tenant] = response.json()["id"]
        for p in partners:
            response = client.post(
                f"/v1/customers/{customers[p.tenant]}/carts",
                json={"lineItems": [line(1), line(2, "CFQ7TTC0LH18:0001:CFQ7TTC0KDLJ")]},
                headers=p.headers,
            )
            assert response.status_code == 201, response.text
            bodies.append(response.content)
            carts[p.tenant] = response.json()["id"]
        for p in partners:
            url = f"/v1/customers/{customers[p.tenant]}/carts/{carts[p.tenant]}"
            response = client.put(url, json={"lineItems": [line(3)]}, headers=p.headers)
            assert response.status_code == 201, response.text
            bodies.append(response.content)
            response = client.get(url, headers=p.headers)
            assert response.status_code == 200
            bodies.append(response.content)
            bodies.append(client.get("/v1/customers", headers=p.headers).content)
    return bodies


def test_deterministic_mode_gives_identical_bodies(tmp_path: Path) -> None:
    flags = ("--seed", "42", "--frozen-at", "2026-01-01T00:00:00Z")
    first = ServerProcess(tmp_path / "one", extra=flags)
    second = ServerProcess(tmp_path / "two", extra=flags)
    other_seed = ServerProcess(
        tmp_path / "three", extra=("--seed", "43", "--frozen-at", "2026-01-01T00:00:00Z")
    )
    with running(first, second, other_seed):
        one = run_script(first, first.data_dir)
        two = run_script(second, second.data_dir)
        three = run_script(other_seed, other_seed.data_dir)
    assert one == two
    assert b"2026-01-01T00:00:00.0000000Z" in one[2]  # the cart was made at the frozen instant
    assert one != three  # the ids do come from the seed
    assert len({json.loads(b)["id"] for b in one[:4]}) == 4


def test_deterministic_mode_refuses_a_database_with_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running(ServerProcess(data)) as (server,):
        Partner(data).new_customer(server.url)
    done = subprocess.run(
        [sys.executable, "-m", "partnercart", "serve", "--data-dir", str(data), "--seed", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "needs an empty database" in done.stderr


def _info(url: str, data_dir: Path) -> dict[str, Any]:
    """``GET /_partnercart/info`` of a running server, with its admin key."""
    answer = httpx.get(f"{url}/_partnercart/info", headers=admin_headers(data_dir), timeout=30)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.parametrize(
    ("option", "expected"), [((), "uvloop"), (("--loop", "asyncio"), "asyncio")]
)
def test_serve_runs_on_the_event_loop_asked_for(
    tmp_path: Path, option: tuple[str, ...], expected: str
) -> None:
    data_dir = tmp_path / "data"
    with running(ServerProcess(data_dir, extra=option)) as (server,):
        info = _info(server.url, data_dir)
        assert info["eventLoop"] == expected
        partner = Partner(data_dir)
        customers = httpx.get(f"{server.url}/v1/customers", headers=partner.headers, timeout=30)
        assert customers.status_code == 200


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, HEAP_TOP_KEPT), ({"MALLOC_ARENA_MAX": "2"}, None)],
)
def test_serve_keeps_the_heap_top_unless_an_allocator_setting_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: int | None
) -> None:
    if expected is not None and platform.libc_ver()[0] != "glibc":
        pytest.skip("the heap top is kept through glibc's mallopt")
    for name in [n for n in os.environ if n.startswith("MALLOC_")]:
        monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    with running(ServerProcess(data_dir, env=env)) as (server,):
        info = _info(server.url, data_dir)
        assert info["heapTopKept"] == expected


@pytest.mark.postgres
def test_serve_opens_the_postgresql_pool_with_the_size_asked_for(
    tmp_path: Path, pg_url: str
) -> None:
    data_dir = tmp_path / "data"
    with running(ServerProcess(data_dir, pg_url, extra=("--pool-size", "3"))) as (server,):
        assert _info(server.url, data_dir)["poolSize"] == 3
        assert Partner(data_dir).new_customer(server.url)  # work goes through its threads


def test_serve_refuses_a_pool_of_no_connections(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(cli, ["serve", "--data-dir", str(data_dir), "--pool-size", "0"])
    assert result.exit_code == 2 and "--pool-size" in result.output
    assert not data_dir.exists()  # refused before anything was made


def test_serve_opens_sqlite_with_the_sync_setting_asked_for(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    extra = ("--sqlite-sync", "off", "--sqlite-cache-mib", "16")
    with running(ServerProcess(data_dir, extra=extra)) as (server,):
        info = _info(server.url, data_dir)
        assert info["sqliteSync"] == "off"
        assert info["sqliteCacheMiB"] == 16
        assert info["sqliteGroupWrites"] is True  # one process owns the file
        assert info["cartReadBatches"] is None
        assert Partner(data_dir).new_customer(server.url)  # writes go through


def test_serve_with_workers_on_sqlite_commits_each_write_alone(tmp_path: Path) -> None:
    """Several processes on one SQLite file: a group would hold the write lock for a whole
    pass of one process's loop while the others poll for it."""
    data_dir = tmp_path / "data"
    with running(ServerProcess(data_dir, extra=("--workers", "2"))) as (server,):
        assert _info(server.url, data_dir)["sqliteGroupWrites"] is False
        partner = Partner(data_dir)
        customer = partner.new_customer(server.url)
        carts = [partner.new_cart(server.url, customer, [line(n)]) for n in range(1, 4)]
        assert len({cart["id"] for cart in carts}) == 3
