"""Fill a database with many valid carts, fast: for scale benchmarks and demos.

The carts are made by the same use cases the API runs (``create_customer``, ``create_cart``),
from request bodies read by the same codec, and written through the same repositories; only
HTTP and one transaction per cart are skipped (a transaction holds ``batch`` carts).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from partnercart.schema import codec
from partnercart.schema.cart import Cart
from partnercart.schema.customer import NewCustomer
from partnercart.server.domain.carts import Actor
from partnercart.server.services.carts import create_cart
from partnercart.server.services.context import Services
from partnercart.server.services.customers import create_customer

#: Lines the default catalog accepts (id, billing cycle, term): a licence billed monthly for a
#: year, another billed yearly, a monthly licence, perpetual software, a legacy offer.
LINE_SHAPES: tuple[tuple[str, str, str | None], ...] = (
    ("CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS", "monthly", "P1Y"),
    ("CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ", "annual", "P1Y"),
    ("CFQ7TTC0LH2H:0001:CFQ7TTC0KP0N", "monthly", "P1M"),
    ("DG7GMGF0DWTL:0001:DG7GMGF0DSJB", "one_time", None),
)


def sample_line_items(count: int, *, offset: int = 0) -> list[dict[str, Any]]:
    """``count`` valid cart lines as a client sends them, cycling through :data:`LINE_SHAPES`."""
    items = []
    for i in range(count):
        catalog_item_id, billing_cycle, term = LINE_SHAPES[(offset + i) % len(LINE_SHAPES)]
        item: dict[str, Any] = {
            "catalogItemId": catalog_item_id,
            "quantity": 1 + (offset + i) % 7,
            "billingCycle": billing_cycle,
        }
        if term:
            item["termDuration"] = term
        items.append(item)
    return items


@dataclass(frozen=True, slots=True)
class SeedSummary:
    partner_id: str
    customers: int
    carts: int


def _cart_request(lines: int, variant: int) -> Cart:
    items = sample_line_items(lines, offset=variant)
    return codec.convert({"lineItems": items}, Cart, drop_server_owned=True)


def _customer_request(number: int, run: str) -> NewCustomer:
    # ``run`` tells the customers of one seeding from those of another for the same partner:
    # a partner's customers each need their own domain.
    document = {
        "companyProfile": {"domain": f"seed{run}{number:07d}.onmicrosoft.com"},
        "billingProfile": {
            "email": f"admin@seed{number:07d}.example",
            "culture": "en-US",
            "language": "en",
            "companyName": f"Seeded Customer {number}",
            "defaultAddress": {"country": "US", "city": "Redmond", "postalCode": "98052"},
        },
    }
    return codec.convert(document, NewCustomer, drop_server_owned=True)


def seed(
    services: Services,
    *,
    partner_id: str,
    carts: int,
    customers: int = 1,
    lines: int = 3,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> SeedSummary:
    """Create ``customers`` customers of ``partner_id`` and ``carts`` carts spread over them.

    ``progress(n)`` is called after each committed batch with the number of carts it held.
    """
    if carts < 0 or customers < 1 or lines < 1 or batch < 1:
        raise ValueError("carts >= 0, customers >= 1, lines >= 1 and batch >= 1 are needed")
    actor = Actor(partner_id=partner_id, user_id=partner_id)
    store = services.store
    run = services.ids.hex12()
    with store.unit_of_work(write=True) as uow:
        ctx = services.context(uow)
        customer_ids = [
            create_customer(ctx, actor=actor, request=_customer_request(n, run)).id
            for n in range(customers)
        ]
    requests = [_cart_request(lines, variant) for variant in range(len(LINE_SHAPES))]
    owners = itertools.cycle(customer_ids)
    shapes = itertools.cycle(requests)
    done = 0
    while done < carts:
        size = min(batch, carts - done)
        with store.unit_of_work(write=True) as uow:
            ctx = services.context(uow)
            for _ in range(size):
                create_cart(ctx, actor=actor, customer_id=next(owners), request=next(shapes))
        done += size
        if progress is not None:
            progress(size)
    return SeedSummary(partner_id=partner_id, customers=customers, carts=carts)
