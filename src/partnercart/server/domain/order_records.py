"""What the stores keep for orders: the order as created, one subscription per order line, and
the result of a cart's checkout (replayed on every later checkout of that cart)."""

from __future__ import annotations

import datetime as dt

import msgspec

from partnercart.schema import codec
from partnercart.schema.order import Order, Subscription


class OrderRecord(msgspec.Struct, frozen=True, gc=False):
    id: str
    partner_id: str
    customer_id: str
    cart_id: str | None
    created_at: dt.datetime
    #: the stored status: ``pending`` until the order is cancelled (``cancelled``); whether a
    #: pending order is already ``completed`` is decided at read time from ``provision_at``.
    status: str
    provision_at: dt.datetime
    billing_cycle: str
    version: int
    body: bytes  # the Order as created, as JSON on the wire

    def document(self) -> Order:
        return codec.decode_stored(self.body, Order)


class SubscriptionRecord(msgspec.Struct, frozen=True, gc=False):
    """The subscription an order line turns into. Its id is chosen at checkout, so it is
    repeatable under seeded ids; it becomes visible at ``provision_at``."""

    id: str
    partner_id: str
    customer_id: str
    order_id: str
    line_item_number: int
    provision_at: dt.datetime
    cancelled_at: dt.datetime | None
    body: bytes  # the Subscription without its status, as JSON on the wire

    def document(self) -> Subscription:
        return codec.decode_stored(self.body, Subscription)


class CheckoutRecord(msgspec.Struct, frozen=True, gc=False):
    cart_id: str
    partner_id: str
    customer_id: str
    created_at: dt.datetime
    body: bytes  # the CartCheckoutResult exactly as first answered
