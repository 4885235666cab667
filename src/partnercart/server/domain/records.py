"""What the stores keep: a resource's canonical wire document plus the columns the rules query."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from partnercart.schema import codec
from partnercart.schema.cart import Cart
from partnercart.schema.customer import Customer


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    id: str
    partner_id: str
    country: str
    created_at: dt.datetime
    body: bytes  # the Customer as JSON on the wire

    def document(self) -> Customer:
        return codec.decode_stored(self.body, Customer)


@dataclass(frozen=True, slots=True)
class CartRecord:
    id: str
    partner_id: str
    customer_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    status: str
    version: int
    body: bytes  # the Cart as JSON on the wire

    def document(self) -> Cart:
        return codec.decode_stored(self.body, Cart)
