"""Per-partner rate limits: 429 with the {statusCode, message} body and Retry-After."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from partnercart.cli.main import main
from partnercart.server.domain.clock import ManualClock
from partnercart.server.domain.errors import TooManyRequests
from partnercart.server.http.app import create_app
from partnercart.server.http.throttle import Throttle
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import RATE_LIMIT_PRESETS, Settings, parse_rate_limit
from tests.conftest import Api


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window() -> None:
    time = FakeTime()
    throttle = Throttle(3, 10.0, now=time)
    for step in (0.0, 2.0, 4.0):
        time.now += step
        throttle.check("a")
    with pytest.raises(TooManyRequests) as refused:
        throttle.check("a")
    # The oldest of the three left at 1000, so the window frees up at 1010: 4 s from 1006.
    assert refused.value.retry_after == 4
    assert refused.value.description == "Rate limit is exceeded. Try again in 4 seconds."
    throttle.check("b")  # another partner has its own window
    time.now = 1009.9
    with pytest.raises(TooManyRequests) as again:
        throttle.check("a")
    assert again.value.retry_after == 1
    time.now = 1010.0
    throttle.check("a")  # the first request left the window; refusals were not counted
    with pytest.raises(TooManyRequests):
        throttle.check("a")


def test_idle_partners_are_forgotten() -> None:
    time = FakeTime()
    throttle = Throttle(1, 1.0, now=time)
    throttle.PRUNE_AT = 3  # type: ignore[misc]
    for name in "abc":
        throttle.check(name)
    time.now += 5
    throttle.check("d")
    assert set(throttle._hits) == {"d"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("500", (500, 60.0)), ("10/1", (10, 1.0)), ("3/0.5", (3, 0.5)), (" 7/30 ", (7, 30.0))],
)
def test_parse_rate_limit(text: str, expected: tuple[int, float]) -> None:
    assert parse_rate_limit(text) == expected


@pytest.mark.parametrize("text", ["", "x", "0", "-1/5", "5/0", "5/-1", "5/x", "5/nan"])
def test_parse_rate_limit_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rate_limit(text)


def test_orders_preset_is_the_documented_limit() -> None:
    assert RATE_LIMIT_PRESETS["orders"] == (500, 60.0)


def test_serve_refuses_a_bad_limit_before_starting(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(main, ["serve", "--data-dir", str(tmp_path), "--rate-limit", "lots"])
    assert bad.exit_code == 2
    assert "--rate-limit" in bad.output
    both = runner.invoke(
        main,
        [
            "serve",
            "--data-dir",
            str(tmp_path),
            "--rate-limit",
            "5",
            "--rate-limit-preset",
            "orders",
        ],
    )
    assert both.exit_code == 2
    assert "not both" in both.output


@pytest.fixture
def limited(tmp_path: Path, clock: ManualClock) -> Iterator[Api]:
    runtime = build_runtime(
        Settings(data_dir=tmp_path / "data", rate_limit=3, rate_window=60.0), clock=clock
    )
    try:
        with TestClient(create_app(runtime)) as client:
            yield Api(client, runtime, str(uuid.uuid4()))
    finally:
        runtime.close()


def test_the_limit_answers_429(limited: Api) -> None:
    customer = limited.new_customer()
    assert limited.get(f"/v1/customers/{customer}").status_code == 200
    assert limited.get("/v1/customers").status_code == 200
    refused = limited.get("/v1/customers", headers={"MS-RequestId": "r-1"})
    assert refused.status_code == 429
    body = refused.json()
    assert set(body) == {"statusCode", "message"}
    assert body["statusCode"] == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert body["message"] == f"Rate limit is exceeded. Try again in {retry_after} seconds."
    assert refused.headers["MS-RequestId"] == "r-1"
    # A write is refused before it runs.
    assert limited.post("/v1/customers", json={}).status_code == 429
    # Another partner is not affected; unauthenticated calls are not counted for anyone.
    other = limited.as_partner(str(uuid.uuid4()))
    assert other.get("/v1/customers").status_code == 200
    assert limited.client.get("/v1/customers").status_code == 401
    assert limited.client.get("/_partnercart/ping").status_code == 200


def test_no_limit_by_default(api: Api) -> None:
    for _ in range(20):
        assert api.get("/v1/customers").status_code == 200
