"""Pure pieces of the control plane: durations, per-partner id streams, the clock cache."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from partnercart.server.control import clocks
from partnercart.server.control.durations import parse_duration
from partnercart.server.domain.clock import ManualClock
from partnercart.server.domain.errors import BadRequest
from partnercart.server.domain.ids import RandomIds, SeededIds, ids_for_partner

T0 = dt.datetime(2026, 1, 31, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P7D", dt.datetime(2026, 2, 7, 10, 0, tzinfo=dt.UTC)),
        ("PT1H30M", dt.datetime(2026, 1, 31, 11, 30, tzinfo=dt.UTC)),
        ("pt0.5s", dt.datetime(2026, 1, 31, 10, 0, 0, 500000, tzinfo=dt.UTC)),
        ("P1W", dt.datetime(2026, 2, 7, 10, 0, tzinfo=dt.UTC)),
        ("P1M", dt.datetime(2026, 2, 28, 10, 0, tzinfo=dt.UTC)),  # clamped to the month's end
        ("P1Y1M1DT1H", dt.datetime(2027, 3, 1, 11, 0, tzinfo=dt.UTC)),
        ("-P1D", dt.datetime(2026, 1, 30, 10, 0, tzinfo=dt.UTC)),
    ],
)
def test_durations(text: str, expected: dt.datetime) -> None:
    assert parse_duration(text).add_to(T0) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "7D", "P1H", "PT1D", "P1.5D", "P-1D", "P1DT"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_duration(text)


def test_partner_streams_do_not_disturb_each_other() -> None:
    a_then_b = SeededIds(5)
    first_a = [a_then_b.for_partner("a").uuid() for _ in range(3)]
    a_then_b.for_partner("b").uuid()
    b_first = SeededIds(5)
    b_first.for_partner("b").uuid()
    assert [b_first.for_partner("a").uuid() for _ in range(3)] == first_a
    assert SeededIds(6).for_partner("a").uuid() != first_a[0]
    assert a_then_b.for_partner("a") is a_then_b.for_partner("a")
    random_ids = RandomIds()
    assert ids_for_partner(random_ids, "a") is random_ids


def test_clock_state_transitions() -> None:
    base = ManualClock(T0)
    running = clocks.ClockState(frozen=False, stored=False)
    moved = clocks.advanced(running, parse_duration("P2D"), base)
    assert moved.now(base) == T0 + dt.timedelta(days=2)
    base.advance(dt.timedelta(hours=1))
    assert moved.now(base) == T0 + dt.timedelta(days=2, hours=1)
    frozen = clocks.frozen(moved, base)
    base.advance(dt.timedelta(hours=5))
    assert frozen.now(base) == T0 + dt.timedelta(days=2, hours=1)
    again = clocks.running(frozen, base)
    assert again.now(base) == frozen.now(base)
    base.advance(dt.timedelta(minutes=1))
    assert again.now(base) == T0 + dt.timedelta(days=2, hours=1, minutes=1)


def test_a_captured_row_unpacks_as_the_stored_request_and_is_redacted_when_written() -> None:
    """Capture.row packs a tuple in StoredRequest's layout; add_many redacts on the way in."""
    import time

    from partnercart.server.control import requestlog
    from partnercart.server.http.requestlog import Capture

    token = b"Bearer " + b"t" * 50
    scope: dict[str, Any] = {
        "method": "PUT",
        "path": "/v1/customers/c/carts/k",
        "query_string": b"a=1",
        "headers": [(b"authorization", token), (b"x-long", b"v" * 3000)],
        "state": {"request_id": "r-1", "correlation_id": "c-1", "partner_id": "p-1"},
    }
    capture = Capture(scope, T0, time.perf_counter())
    capture.request_body(b'{"lineItems":[]}')
    capture.status = 201
    capture.response_headers = [(b"etag", b'"e"'), (b"set-cookie", b"s=1")]
    capture.response_body(b'{"id":')
    capture.response_body(b'"k"}')
    capture.duration = 0.0012345
    partner, at, packed = capture.row(runtime=None)  # type: ignore[arg-type]
    assert (partner, at) == ("p-1", int(T0.timestamp() * 1_000_000))
    kept = msgspec_decode(packed)
    assert kept == requestlog.StoredRequest(
        method="PUT",
        path="/v1/customers/c/carts/k",
        route=None,
        query=b"a=1",
        status=201,
        duration_ms=1.234,
        request_id="r-1",
        correlation_id="c-1",
        request_headers=[(b"authorization", token), (b"x-long", b"v" * 3000)],
        request_body=b'{"lineItems":[]}',
        request_size=16,
        response_headers=[(b"etag", b'"e"'), (b"set-cookie", b"s=1")],
        response_body=b'{"id":"k"}',
        response_size=10,
    )
    written: list[Any] = []

    class Cursor:
        def executemany(self, _sql: str, rows: list[Any]) -> None:
            written.extend(rows)

    class Dialect:
        def sql(self, text: str) -> str:
            return text

    class Uow:
        cursor = Cursor()
        dialect = Dialect()

    requestlog.add_many(Uow(), [(partner, at, packed)])
    stored = msgspec_decode(written[0][2])
    assert stored.request_headers == [
        (b"authorization", b"<redacted>"),
        (b"x-long", b"v" * requestlog.HEADER_LIMIT),
    ]
    assert stored.response_headers == [(b"etag", b'"e"'), (b"set-cookie", b"<redacted>")]
    assert token not in written[0][2]


def msgspec_decode(packed: bytes) -> Any:
    import msgspec

    from partnercart.server.control.requestlog import StoredRequest

    return msgspec.msgpack.decode(packed, type=StoredRequest)
