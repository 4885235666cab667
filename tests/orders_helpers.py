"""Helpers shared by the checkout and order tests."""

from __future__ import annotations

from typing import Any

import msgspec

from partnercart.schema import codec
from partnercart.schema.cart import CartError, Pricing
from partnercart.schema.common import Attributes
from partnercart.server.domain.carts import make_etag
from partnercart.server.domain.records import CartRecord
from partnercart.server.runtime import Runtime

# The lines of the published new-commerce cart (create-a-cart.md), the friendly names being the
# product titles the published checkout answer shows. ``customTermEndDate`` is left out: it
# names a 2022 date that the catalog's line validation would reject on today's clock.
PUBLISHED_LINES: list[dict[str, Any]] = [
    {
        "id": 0,
        "catalogItemId": "CFQ7TTC0LH0Z:0001:CFQ7TTC0K18P",
        "friendlyName": "AI Builder Capacity add-on",
        "quantity": 1,
        "billingCycle": "monthly",
        "termDuration": "P1M",
        "renewsTo": None,
        "provisioningContext": {},
    },
    {
        "id": 1,
        "catalogItemId": "CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ",
        "friendlyName": "Azure Active Directory Premium P1",
        "quantity": 2,
        "billingCycle": "monthly",
        "termDuration": "P1Y",
        "participants": [
            {"key": "transaction_reseller", "value": "5357564"},
            {"key": "additional_transaction_reseller", "value": "517285"},
            {"key": "additional_transaction_reseller", "value": "5357563"},
        ],
    },
]


def line(
    catalog_item_id: str,
    billing_cycle: str,
    term: str | None = "P1Y",
    quantity: int = 1,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "catalogItemId": catalog_item_id,
        "quantity": quantity,
        "billingCycle": billing_cycle,
    }
    if term:
        body["termDuration"] = term
    body.update(extra)
    return body


MONTHLY = line("CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS", "monthly", "P1M", 3)
ANNUAL = line("CFQ7TTC0LH2H:0001:CFQ7TTC0KP0N", "annual", "P1Y", 5)
# The base offer the AI Builder add-on of the published cart builds on (Power Apps Premium).
ADDON_BASE = line("CFQ7TTC0LH2H:0001:CFQ7TTC0KP0N", "monthly", "P1M", 1)
ONE_TIME = line(
    "DZH318Z0BQ36:004G:DZH318Z08C0S",
    "one_time",
    "P1Y",
    1,
    provisioningContext={
        "subscriptionId": "3d5eced6-1151-44c7-aee6-70a4bb725666",
        "scope": "shared",
    },
)
SOFTWARE = line("DG7GMGF0DWM3:0002:DG7GMGF0DT1M", "one_time", None, 1)


def new_cart(api: Any, customer_id: str, lines: list[dict[str, Any]]) -> str:
    response = api.post(
        f"/v1/customers/{customer_id}/carts",
        json={"PartnerOnRecordAttestationAccepted": True, "lineItems": lines},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def checkout(api: Any, customer_id: str, cart_id: str, **kwargs: Any) -> Any:
    return api.post(f"/v1/customers/{customer_id}/carts/{cart_id}/checkout", **kwargs)


def rewrite_cart_lines(
    runtime: Runtime,
    customer_id: str,
    cart_id: str,
    *,
    errors: dict[int, CartError] | None = None,
    pricing: dict[int, Pricing] | None = None,
) -> None:
    """Write server-owned line fields (an error, pricing) into the stored cart, as the line
    validation and the catalog will."""
    with runtime.services.store.unit_of_work(write=True) as uow:
        record = uow.carts.get(customer_id, cart_id, for_update=True)
        assert record is not None
        cart = record.document()
        lines = list(cart.line_items)
        for index, error in (errors or {}).items():
            lines[index] = msgspec.structs.replace(lines[index], error=error)
        for index, price in (pricing or {}).items():
            lines[index] = msgspec.structs.replace(lines[index], pricing=price)
        cart = msgspec.structs.replace(
            cart,
            line_items=lines,
            attributes=Attributes(
                object_type="Cart", etag=make_etag(record.id, record.version + 1)
            ),
        )
        updated = CartRecord(
            id=record.id,
            partner_id=record.partner_id,
            customer_id=record.customer_id,
            created_at=record.created_at,
            expires_at=record.expires_at,
            status=record.status,
            version=record.version + 1,
            body=codec.encode(cart),
        )
        assert uow.carts.update(updated, expected_version=record.version)
