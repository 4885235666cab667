"""How long line validation takes: a cart of 1, 10 and 100 lines of mixed kinds, validated
against the default catalog (pure domain code, no I/O). Prints microseconds per cart.

    .venv/bin/python bench/catalog_validation.py
"""

from __future__ import annotations

import datetime as dt
import time

from partnercart.schema import codec
from partnercart.schema.cart import CartLineItem
from partnercart.server.catalog import default_catalog
from partnercart.server.domain.validation import CartContext, Market, validate_lines

LINES = [
    {
        "catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS",
        "quantity": 2,
        "billingCycle": "monthly",
        "termDuration": "P1Y",
    },
    {
        "catalogItemId": "CFQ7TTC0LH2H:0001:CFQ7TTC0KP0N",
        "quantity": 3,
        "billingCycle": "monthly",
        "termDuration": "P1M",
    },
    {
        "catalogItemId": "CFQ7TTC0LH0Z:0001:CFQ7TTC0K18P",
        "quantity": 1,
        "billingCycle": "monthly",
        "termDuration": "P1M",
    },
    {
        "catalogItemId": "DZH318Z0BQ36:004G:DZH318Z08C0S",
        "quantity": 1,
        "billingCycle": "one_time",
        "termDuration": "P1Y",
        "provisioningContext": {"scope": "shared", "subscriptionId": "x"},
    },
    {"catalogItemId": "DG7GMGF0DWM3:0002:DG7GMGF0DT1M", "quantity": 5, "billingCycle": "one_time"},
]


def main() -> None:
    catalog = default_catalog()
    context = CartContext(
        catalog=catalog,
        market=Market(country="US", currency="USD"),
        now=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    )
    for size in (1, 10, 100):
        documents = [LINES[n % len(LINES)] for n in range(size)]
        lines = [codec.convert(d, CartLineItem, drop_server_owned=True) for d in documents]
        rounds = max(20, 20000 // size)
        start = time.perf_counter()
        for _ in range(rounds):
            validate_lines(lines, context)
        took = (time.perf_counter() - start) / rounds
        assert all(line.error is None for line in lines)
        print(f"{size:>4} lines: {took * 1e6:9.1f} us per cart ({took * 1e6 / size:.1f} us/line)")


if __name__ == "__main__":
    main()
