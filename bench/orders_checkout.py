"""What checkout and order reads cost in the service layer (no HTTP), and how long 20 racing
checkouts of one cart take to settle:

    python bench/orders_checkout.py [--carts 300] [--database postgresql://.../db]

Without --database it uses a temporary SQLite file. Every cart has three lines in three billing
cycles, so each checkout writes three orders, three subscriptions and the stored result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import threading
import time
import uuid
from pathlib import Path

from partnercart.schema.cart import BillingCycle, Cart, CartLineItem
from partnercart.schema.customer import Address, BillingProfile, CompanyProfile, Customer
from partnercart.server.domain.carts import Actor
from partnercart.server.domain.clock import ManualClock
from partnercart.server.runtime import Runtime, build_runtime
from partnercart.server.services import carts, checkout, customers, orders
from partnercart.server.services.context import Context
from partnercart.server.settings import Settings

LINES = [
    ("CFQ7TTC0LF8Q:0001:CFQ7TTC0KJ3M", BillingCycle.MONTHLY, "P1M"),
    ("CFQ7TTC0LH18:0001:CFQ7TTC0K6D6", BillingCycle.ANNUAL, "P1Y"),
    ("DG7GMGF0DWM3:0002:DG7GMGF0DT1M", BillingCycle.ONE_TIME, None),
]


def _cart() -> Cart:
    return Cart(
        line_items=[
            CartLineItem(id=i, catalog_item_id=c, quantity=2, billing_cycle=b, term_duration=t)
            for i, (c, b, t) in enumerate(LINES)
        ]
    )


def _run(runtime: Runtime, use_case: object, **kwargs: object) -> object:
    services = runtime.services
    with services.store.unit_of_work(write=True) as uow:
        ctx = Context(uow=uow, clock=services.clock, ids=services.ids, orders=services.orders)
        return use_case(ctx, **kwargs)  # type: ignore[operator]


def bench(runtime: Runtime, count: int) -> None:
    actor = Actor(partner_id=str(uuid.uuid4()), user_id=str(uuid.uuid4()))
    customer = Customer(
        company_profile=CompanyProfile(domain="bench.onmicrosoft.com"),
        billing_profile=BillingProfile(
            email="a@b.example",
            culture="en-US",
            language="en",
            company_name="Bench",
            default_address=Address(country="US"),
        ),
    )
    cid = _run(runtime, customers.create_customer, actor=actor, request=customer).id  # type: ignore[attr-defined]
    made = [
        _run(runtime, carts.create_cart, actor=actor, customer_id=cid, request=_cart()).id  # type: ignore[attr-defined]
        for _ in range(count + 1)
    ]
    race_cart, cart_ids = made[0], made[1:]

    def timed(label: str, calls: list[dict[str, object]], use_case: object) -> None:
        start = time.perf_counter()
        for kwargs in calls:
            _run(runtime, use_case, actor=actor, customer_id=cid, **kwargs)
        elapsed = time.perf_counter() - start
        print(f"  {label:<28} {len(calls) / elapsed:8.0f}/s  ({elapsed / len(calls) * 1e3:.2f} ms)")

    timed("checkout (3 orders)", [{"cart_id": k} for k in cart_ids], checkout.checkout_cart)
    timed("repeat checkout (replay)", [{"cart_id": k} for k in cart_ids], checkout.checkout_cart)
    some = orders.list_orders  # one order id per cart, from the list
    listed = _run(
        runtime, some, actor=actor, customer_id=cid, billing_cycle=None, include_price=False
    )
    ids = [o.id for o in listed.orders][:count]  # type: ignore[attr-defined]
    timed(
        "get order",
        [{"order_id": o, "include_price": True} for o in ids],
        orders.get_order,
    )

    barrier = threading.Barrier(20)

    def racer() -> None:
        barrier.wait()
        _run(runtime, checkout.checkout_cart, actor=actor, customer_id=cid, cart_id=race_cart)

    threads = [threading.Thread(target=racer) for _ in range(20)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"  20 racing checkouts settle in {(time.perf_counter() - start) * 1e3:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--carts", type=int, default=300)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
        settings = Settings(database=args.database, data_dir=Path(tmp), access_log=False)
        runtime = build_runtime(settings, clock=clock)
        try:
            engine = "PostgreSQL" if args.database else "SQLite"
            print(f"{engine}, {args.carts} carts:")
            bench(runtime, args.carts)
        finally:
            runtime.close()


if __name__ == "__main__":
    main()
