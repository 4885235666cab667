"""Stored instants: microseconds since the epoch, exact both ways."""

from __future__ import annotations

import datetime as dt

from partnercart.server.storage.sql import from_micros, to_micros


def test_micros_round_trip_exactly() -> None:
    moments = [
        dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 21, 12, 0, 0, 123_456, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    ]
    for moment in moments:
        back = from_micros(to_micros(moment))
        assert back == moment
        assert back.tzinfo is dt.UTC
    assert to_micros(dt.datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=dt.UTC)) == 1_000_005
    assert from_micros(-1) == dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC)
