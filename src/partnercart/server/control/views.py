"""What the dashboard reads: partners, their customers, carts (with line errors) and orders."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from partnercart.schema.cart import CartStatus
from partnercart.schema.timefmt import format_timestamp
from partnercart.server.control.store import from_micros, rows, table_exists
from partnercart.server.domain.orders import order_view
from partnercart.server.storage.ports import UnitOfWork

_PARTNER_SOURCES = ("customers", "control_clocks", "control_faults", "control_requests")


def _iso(moment: dt.datetime) -> str:
    return format_timestamp(moment)


def partners(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every partner tenant the emulator knows of, with counts."""
    seen: set[str] = set()
    for table in _PARTNER_SOURCES:
        for (partner_id,) in rows(
            uow, f"SELECT DISTINCT partner_id FROM {table} WHERE partner_id IS NOT NULL"
        ):
            seen.add(str(partner_id))
    counts: dict[str, dict[str, int]] = {p: {"customers": 0, "carts": 0} for p in seen}
    for table in ("customers", "carts"):
        for partner_id, n in rows(
            uow, f"SELECT partner_id, COUNT(*) FROM {table} GROUP BY partner_id"
        ):
            counts.setdefault(str(partner_id), {"customers": 0, "carts": 0})[table] = int(n)
    return [{"id": p, **counts[p]} for p in sorted(counts)]


def customers(uow: UnitOfWork, partner_id: str) -> list[dict[str, Any]]:
    out = []
    for record in uow.customers.list(partner_id):
        doc = record.document()
        out.append(
            {
                "id": record.id,
                "domain": doc.company_profile.domain,
                "companyName": (
                    doc.billing_profile.company_name
                    if doc.billing_profile is not None
                    else doc.company_profile.company_name
                ),
                "country": record.country,
                "createdAt": _iso(record.created_at),
            }
        )
    return out


def carts(uow: UnitOfWork, partner_id: str, *, now: dt.datetime) -> list[dict[str, Any]]:
    """The partner's carts with their state on the partner's clock and each line's error."""
    found = rows(
        uow,
        "SELECT id, customer_id, created_at, expires_at, status, version, body FROM carts "
        "WHERE partner_id = ? ORDER BY created_at, id",
        (partner_id,),
    )
    out = []
    for cart_id, customer_id, created, expires, status, version, body in found:
        expires_at = from_micros(int(expires))
        doc = json.loads(bytes(body))
        lines = []
        for line in doc.get("lineItems", []):
            error = line.get("error")
            lines.append(
                {
                    "id": line.get("id"),
                    "catalogItemId": line.get("catalogItemId"),
                    "quantity": line.get("quantity"),
                    "orderGroup": line.get("orderGroup"),
                    "error": (
                        {
                            "code": error.get("errorCode"),
                            "description": error.get("errorDescription"),
                        }
                        if isinstance(error, dict)
                        else None
                    ),
                }
            )
        out.append(
            {
                "id": cart_id,
                "customerId": customer_id,
                "status": status,
                "expired": status == CartStatus.ACTIVE.value and now >= expires_at,
                "createdAt": _iso(from_micros(int(created))),
                "expiresAt": _iso(expires_at),
                "version": int(version),
                "lineItems": lines,
            }
        )
    return out


def orders(uow: UnitOfWork, partner_id: str, *, now: dt.datetime) -> dict[str, Any]:
    """The partner's orders as ``GET .../orders`` shows them at ``now`` on the partner's clock
    (status and provisioning are computed when read, so the stored row's status column is
    only what the order was made with), newest first; ``available: false`` on a database
    without orders."""
    if not table_exists(uow, "orders"):
        return {"available": False, "items": []}
    items: list[dict[str, Any]] = []
    for customer in uow.customers.list(partner_id):
        by_order: dict[str, list[Any]] = {}
        for sub in uow.subscriptions.for_customer(customer.id):
            by_order.setdefault(sub.order_id, []).append(sub)
        for record in uow.orders.for_customer(customer.id):
            order = order_view(record, by_order.get(record.id, []), now=now, include_price=True)
            items.append(
                {
                    "id": order.id,
                    "customerId": customer.id,
                    "cartId": record.cart_id,
                    "status": order.status.value if order.status else None,
                    "billingCycle": order.billing_cycle.value if order.billing_cycle else None,
                    "createdAt": _iso(record.created_at),
                    "totalPrice": order.total_price,
                    "currency": order.currency_code,
                    "lineItems": [
                        {
                            "lineItemNumber": line.line_item_number,
                            "offerId": line.offer_id,
                            "quantity": line.quantity,
                            "subscriptionId": line.subscription_id,
                        }
                        for line in order.line_items or ()
                    ],
                }
            )
    items.sort(key=lambda item: str(item["createdAt"]), reverse=True)
    return {"available": True, "items": items}
