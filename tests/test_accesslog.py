"""One JSON line per request on the partnercart.access logger."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from partnercart.server.domain.clock import ManualClock
from partnercart.server.http.accesslog import ACCESS_LOGGER
from partnercart.server.http.app import create_app
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import Settings
from tests.conftest import Api

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
    body = {"lineItems": [{"catalogItemId": "CFQ7TTC0LH18:0001:CFQ7TTC0K971", "quantity": 1}]}
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
