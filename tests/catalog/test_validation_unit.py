"""The pure validator, for what the HTTP API cannot reach yet: coterminating with the end date of
an existing subscription (there are no subscriptions yet; the orders work supplies them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from partnercart.schema import codec
from partnercart.schema.cart import CartLineItem
from partnercart.server.catalog import default_catalog
from partnercart.server.domain.validation import CartContext, Market, validate_lines

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
BUSINESS = "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS"


def check(line: dict[str, Any], coterm: set[dt.date] | None = None) -> int | None:
    parsed = codec.convert(line, CartLineItem, drop_server_owned=True)
    context = CartContext(
        catalog=default_catalog(),
        market=Market(country="US", currency="USD"),
        now=NOW,
        coterm_end_dates=frozenset(coterm or ()),
    )
    validate_lines([parsed], context)
    return parsed.error.error_code if parsed.error else None


def line(term: str, end: str) -> dict[str, Any]:
    return {
        "catalogItemId": BUSINESS,
        "quantity": 1,
        "billingCycle": "monthly",
        "termDuration": term,
        "customTermEndDate": end,
    }


@pytest.mark.parametrize(
    ("term", "end", "coterm", "code"),
    [
        ("P1Y", "2026-09-14T00:00:00Z", set(), 10017),
        ("P1Y", "2026-09-14T00:00:00Z", {dt.date(2026, 9, 14)}, None),
        ("P1M", "2026-03-27T00:00:00Z", {dt.date(2026, 3, 27)}, None),
        # Monthly terms cannot end on the 28th-30th unless it is the month's last day.
        ("P1M", "2026-03-28T00:00:00Z", {dt.date(2026, 3, 28)}, 10017),
        ("P1M", "2026-03-30T00:00:00Z", {dt.date(2026, 3, 30)}, 10017),
        ("P1Y", "2026-04-30T00:00:00Z", {dt.date(2026, 4, 30)}, None),
        # A subscription end date outside the first term does not help.
        ("P1M", "2026-04-14T00:00:00Z", {dt.date(2026, 4, 14)}, 10017),
    ],
)
def test_coterminating_with_a_subscription(
    term: str, end: str, coterm: set[dt.date], code: int | None
) -> None:
    assert check(line(term, end), coterm) == code


def test_a_timestamp_with_an_offset_is_read_as_its_utc_day() -> None:
    # 2026-04-01T01:00+02:00 is 2026-03-31 23:00 UTC: the last day of March.
    assert check(line("P1M", "2026-04-01T01:00:00+02:00")) is None
    assert check(line("P1M", "2026-03-31T23:00:00-02:00")) == 10017  # 2026-04-01 UTC


def test_validating_again_starts_from_a_clean_line() -> None:
    first = codec.convert(line("P1M", "2026-03-15T00:00:00Z"), CartLineItem, drop_server_owned=True)
    context = CartContext(
        catalog=default_catalog(), market=Market(country="US", currency="USD"), now=NOW
    )
    validate_lines([first], context)
    assert first.error is not None
    first.custom_term_end_date = dt.datetime(2026, 3, 31, tzinfo=dt.UTC)
    validate_lines([first], context)
    assert first.error is None and first.pricing is not None
