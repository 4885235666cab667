"""Pure pieces of the control plane: durations, per-partner id streams, the clock cache."""

from __future__ import annotations

import datetime as dt

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
