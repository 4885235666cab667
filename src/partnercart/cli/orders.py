"""``partnercart orders``: the orders a checkout produced."""

from __future__ import annotations

import click

from partnercart.cli._common import (
    Connection,
    api_command,
    enum_text,
    print_fields,
    print_json,
    print_table,
)
from partnercart.client import Order
from partnercart.schema.cart import BillingCycle


@click.group()
def orders() -> None:
    """Orders of a customer: list, show, provisioning status, cancel.

    \b
    Examples:
      partnercart orders list CUSTOMER_ID --billing-type monthly
      partnercart orders get CUSTOMER_ID ORDER_ID --include-price
      partnercart orders status CUSTOMER_ID ORDER_ID
      partnercart orders cancel CUSTOMER_ID ORDER_ID
    """


def show_order(order: Order, as_json: bool) -> None:
    if as_json:
        print_json(order)
        return
    print_fields(
        f"Order {order.id}",
        [
            ("id", order.id),
            ("status", order.status),
            ("billing", enum_text(order.billing_cycle)),
            ("currency", order.currency_code),
            ("created", order.creation_date),
            ("total price", order.total_price),
        ],
    )
    print_table(
        None,
        ["line", "offer", "qty", "term", "subscription"],
        [
            (li.line_item_number, li.offer_id, li.quantity, li.term_duration, li.subscription_id)
            for li in order.line_items or ()
        ],
    )


@api_command(orders, "list")
@click.argument("customer_id")
@click.option(
    "--billing-type",
    type=click.Choice([c.value for c in BillingCycle], case_sensitive=False),
    default=None,
    help="Only orders with this billing cycle.",
)
@click.option("--include-price", is_flag=True, help="Ask for prices (needs the right role).")
def list_orders(
    conn: Connection, customer_id: str, billing_type: str | None, include_price: bool
) -> None:
    """List a customer's orders."""
    cycle = BillingCycle(billing_type.lower()) if billing_type else None
    with conn.client() as pc:
        found = (
            pc.customers.by_id(customer_id)
            .orders.list(billing_type=cycle, include_price=include_price or None)
            .to_list()
        )
    if conn.as_json:
        print_json(found)
        return
    print_table(
        f"{len(found)} order(s)",
        ["order", "status", "billing", "created", "lines"],
        [
            (o.id, o.status, enum_text(o.billing_cycle), o.creation_date, len(o.line_items or ()))
            for o in found
        ],
    )


@api_command(orders, "get")
@click.argument("customer_id")
@click.argument("order_id")
@click.option("--include-price", is_flag=True, help="Ask for prices (needs the right role).")
def get(conn: Connection, customer_id: str, order_id: str, include_price: bool) -> None:
    """Show one order."""
    with conn.client() as pc:
        order = pc.customers.by_id(customer_id).orders.by_id(order_id)
        show_order(order.get(include_price=include_price or None), conn.as_json)


@api_command(orders, "status")
@click.argument("customer_id")
@click.argument("order_id")
def status(conn: Connection, customer_id: str, order_id: str) -> None:
    """Show the provisioning status of each line of an order."""
    with conn.client() as pc:
        lines = (
            pc.customers.by_id(customer_id).orders.by_id(order_id).provisioning_status().to_list()
        )
    if conn.as_json:
        print_json(lines)
        return
    print_table(
        f"order {order_id}",
        ["line", "status", "quantities"],
        [
            (
                li.line_item_number,
                li.status,
                ", ".join(
                    f"{q.quantity} {q.status}" for q in li.quantity_provisioning_information or ()
                ),
            )
            for li in lines
        ],
    )


@api_command(orders, "cancel")
@click.argument("customer_id")
@click.argument("order_id")
def cancel(conn: Connection, customer_id: str, order_id: str) -> None:
    """Cancel a whole order (PATCH with status cancelled)."""
    with conn.client() as pc:
        show_order(pc.customers.by_id(customer_id).orders.by_id(order_id).cancel(), conn.as_json)
