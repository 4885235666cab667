"""One JSON line per request on the partnercart.access logger."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from partnercart.server.domain.clock import ManualClock
from partnercart.server.http.accesslog import ACCESS_LOGGER, AccessLog, LineHandler
from partnercart.server.http.app import create_app
from partnercart.server.http.faults import ConnectionDropped
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import Settings
from tests.conftest import Api
from tests.control_helpers import Admin
from tests.servers import Partner, ServerProcess, running

FIELDS = {
    "time",
    "method",
    "route",
    "status",
    "duration_ms",
    "partner",
    "ms_request_id",
    "ms_correlation_id",
    "replay",
}


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]


def test_one_line_per_request(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    customer = api.new_customer()
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    request_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    headers = {"MS-RequestId": request_id, "MS-CorrelationId": correlation_id}
    body = {"lineItems": [{"catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS", "quantity": 1}]}
    first = api.post(f"/v1/customers/{customer}/carts/", json=body, headers=headers)
    again = api.post(f"/v1/customers/{customer}/carts", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    fetched = api.get(f"/v1.0/customers/{customer}")
    api.client.get("/v1/customers")
    api.get("/v1/no/such/thing")
    got = lines(caplog)
    assert len(got) == 5
    for line in got:
        assert set(line) - {"path"} == FIELDS
        assert line["duration_ms"] >= 0
        assert dt.datetime.fromisoformat(line["time"]).tzinfo == dt.UTC
    post, replay, read, anonymous, missing = got
    assert post["method"] == "POST"
    assert post["route"] == "/v1/customers/{customer_id}/carts"
    assert post["status"] == 201
    assert post["partner"] == api.partner_id
    assert post["ms_request_id"] == request_id
    assert post["ms_correlation_id"] == correlation_id
    assert post["replay"] is False
    assert "path" not in post
    assert replay["replay"] is True
    assert replay["ms_request_id"] == request_id
    assert read["route"] == "/v1/customers/{customer_id}"
    assert read["status"] == 200
    assert read["ms_request_id"] == fetched.headers["MS-RequestId"]  # the made-up one
    assert read["ms_correlation_id"] == fetched.headers["MS-CorrelationId"]
    assert anonymous["status"] == 401
    assert anonymous["partner"] is None
    assert missing["route"] is None
    assert missing["path"] == "/v1/no/such/thing"
    assert missing["status"] == 404


def test_faulted_requests_carry_their_route_and_partner(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """A fault answers before routing, so no handler checks the token: the line still names
    the route template the rules were matched against, and the partner when the token is valid
    (whether or not a rule needed the partner), as the control plane's request log does."""
    admin = Admin(api)
    other = api.as_partner(str(uuid.uuid4()))
    admin.ok("POST", "/faults", 201, json={"route": "/v1/customers", "status": 503})
    admin.ok("POST", "/faults", 201, json={"partner": other.partner_id, "status": 502})
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    assert api.get("/v1/customers").status_code == 503
    assert other.get("/v1/customers/some-customer").status_code == 502
    bad = {"Authorization": "Bearer not-a-token"}
    assert api.client.get("/v1/customers", headers=bad).status_code == 503
    assert api.client.get("/v1/customers").status_code == 503
    assert api.get("/v1/no/such/thing").status_code == 404
    plain, scoped, forged, anonymous, missing = lines(caplog)
    assert (plain["route"], plain["partner"], plain["status"]) == (
        "/v1/customers",
        api.partner_id,
        503,
    )
    assert "path" not in plain
    assert (scoped["route"], scoped["partner"], scoped["status"]) == (
        "/v1/customers/{customer_id}",
        other.partner_id,
        502,
    )
    assert (forged["route"], forged["partner"]) == ("/v1/customers", None)
    assert (anonymous["route"], anonymous["partner"]) == ("/v1/customers", None)
    assert missing["route"] is None and missing["path"] == "/v1/no/such/thing"
    assert missing["partner"] is None  # no rule fired: no handler, no partner
    # the control plane's request log names the same partners
    logged = admin.ok("GET", f"/requests?partner={api.partner_id}")["items"]
    assert {entry["status"] for entry in logged} == {503, 404}


def test_a_dropped_connection_has_no_status(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing was answered, so no status is logged (it had said 500), as the control plane's
    request log records it; an answer that a rule replaced keeps its status."""
    admin = Admin(api)
    admin.ok("POST", "/faults", 201, json={"route": "/v1/customers", "action": "drop", "times": 1})
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    with pytest.raises(ConnectionDropped):
        api.get("/v1/customers")
    assert api.get("/v1/customers").status_code == 200
    dropped, answered = lines(caplog)
    assert (dropped["status"], dropped["dropped"], dropped["route"]) == (
        None,
        True,
        "/v1/customers",
    )
    assert answered["status"] == 200 and "dropped" not in answered


def test_silent_below_info(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=ACCESS_LOGGER)
    api.get("/v1/customers")
    assert lines(caplog) == []


@pytest.fixture
def unlogged(tmp_path: Path, clock: ManualClock) -> Iterator[TestClient]:
    runtime = build_runtime(Settings(data_dir=tmp_path / "data", access_log=False), clock=clock)
    try:
        with TestClient(create_app(runtime)) as client:
            yield client
    finally:
        runtime.close()


def test_can_be_turned_off(unlogged: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    assert unlogged.get("/_partnercart/ping").status_code == 200
    assert lines(caplog) == []


def _scope(request_id: str) -> dict[str, Any]:
    return {"method": "GET", "path": "/x", "state": {"request_id": request_id}}


def test_line_handler_batches_lines_and_writes_them_soon() -> None:
    """The direct path (no LogRecord) while the handler is alone; lines reach the stream in
    order, within FLUSH_AFTER, and at once outside an event loop."""
    logger = logging.getLogger(f"test.access.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    stream = io.StringIO()
    handler = LineHandler(stream)
    logger.addHandler(handler)
    access = AccessLog(logger)

    async def serve_three() -> str:
        for n in range(3):
            access.write(_scope(f"r{n}"), 200, 0.001)
        written_at_once = stream.getvalue()
        await asyncio.sleep(LineHandler.FLUSH_AFTER * 3)
        return written_at_once

    assert asyncio.run(serve_three()) == ""
    ids = [json.loads(line)["ms_request_id"] for line in stream.getvalue().splitlines()]
    assert ids == ["r0", "r1", "r2"]

    access.write(_scope("r3"), 201, 0.001)  # no running loop: written at once
    assert json.loads(stream.getvalue().splitlines()[-1])["status"] == 201

    # A filter on the logger takes the record path, and the filter is honoured.
    logger.addFilter(lambda record: "r5" not in record.getMessage())
    access.write(_scope("r4"), 200, 0.001)
    access.write(_scope("r5"), 200, 0.001)
    ids = [json.loads(line)["ms_request_id"] for line in stream.getvalue().splitlines()]
    assert ids == ["r0", "r1", "r2", "r3", "r4"]


def test_serve_writes_one_line_per_request_to_stderr(tmp_path: Path) -> None:
    with running(ServerProcess(tmp_path / "data")) as (server,):
        partner = Partner(tmp_path / "data")
        request_id = str(uuid.uuid4())
        answered = httpx.get(
            f"{server.url}/v1/customers",
            headers=partner.headers | {"MS-RequestId": request_id},
            timeout=30,
        )
        assert answered.status_code == 200
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = [
                json.loads(line)
                for line in server.output().splitlines()
                if line.startswith("{") and request_id in line
            ]
            if found:
                break
            time.sleep(0.05)
    assert len(found) == 1
    assert found[0]["route"] == "/v1/customers"
    assert found[0]["partner"] == partner.tenant
