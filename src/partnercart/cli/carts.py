"""``partnercart carts``: create, show, replace, check out and bulk-create carts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from partnercart.cli._common import (
    EXIT_USAGE,
    Connection,
    api_command,
    console,
    enum_text,
    fail,
    load_resource,
    print_fields,
    print_json,
    print_table,
)
from partnercart.client import CartCheckoutResult
from partnercart.schema.cart import BillingCycle, Cart, CartLineItem


@click.group()
def carts() -> None:
    """Carts: build a purchase, change it, check it out into orders.

    \b
    Examples:
      partnercart carts create CUSTOMER_ID --catalog-item CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS \\
          --quantity 5 --term P1M --billing monthly
      partnercart carts create CUSTOMER_ID --file cart.yaml
      partnercart carts get CUSTOMER_ID CART_ID --json > cart.json
      partnercart carts update CUSTOMER_ID CART_ID --file cart.json
      partnercart carts checkout CUSTOMER_ID CART_ID
      partnercart carts seed CUSTOMER_ID --count 100
    """


BILLING_CHOICES = [c.value for c in BillingCycle if c is not BillingCycle.UNKNOWN]


def show_cart(cart: Cart, as_json: bool) -> None:
    if as_json:
        print_json(cart)
        return
    print_fields(
        f"Cart {cart.id}",
        [
            ("id", cart.id),
            ("status", enum_text(cart.status)),
            ("created", cart.creation_timestamp),
            ("expires", cart.expiration_timestamp),
        ],
    )
    print_table(
        None,
        ["line", "catalog item", "qty", "term", "billing", "group", "error"],
        [
            (
                line.id,
                line.catalog_item_id,
                line.quantity,
                line.term_duration,
                enum_text(line.billing_cycle),
                line.order_group,
                f"{line.error.error_code} {line.error.error_description}" if line.error else "",
            )
            for line in cart.line_items
        ],
    )


def cart_from_options(
    path: Path | None,
    catalog_items: tuple[str, ...],
    quantity: int,
    term: str | None,
    billing: str | None,
) -> Cart:
    if path is not None:
        if catalog_items:
            raise click.UsageError("give either --file or --catalog-item, not both")
        return load_resource(path, Cart)
    if not catalog_items:
        raise click.UsageError("give --file CART.json|yaml or at least one --catalog-item")
    cycle = BillingCycle(billing) if billing else None
    return Cart(
        line_items=[
            CartLineItem(
                id=n,
                catalog_item_id=item,
                quantity=quantity,
                term_duration=term,
                billing_cycle=cycle,
            )
            for n, item in enumerate(catalog_items)
        ],
        partner_on_record_attestation_accepted=True,
    )


def _cart_options(func: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        [
            click.option(
                "--file",
                "path",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="The cart as JSON or YAML (any key casing; server-owned fields ignored).",
            ),
            click.option(
                "--catalog-item",
                "catalog_items",
                multiple=True,
                help="A catalog item id PRODUCT:SKU:AVAILABILITY; repeat for more lines.",
            ),
            click.option("--quantity", type=click.IntRange(1), default=1, show_default=True),
            click.option("--term", default="P1M", show_default=True, help="P1M, P1Y or P3Y."),
            click.option(
                "--billing",
                type=click.Choice(BILLING_CHOICES, case_sensitive=False),
                default="monthly",
                show_default=True,
            ),
        ]
    ):
        func = option(func)
    return func


@api_command(carts, "create")
@click.argument("customer_id")
@_cart_options
def create(
    conn: Connection,
    customer_id: str,
    path: Path | None,
    catalog_items: tuple[str, ...],
    quantity: int,
    term: str,
    billing: str,
) -> None:
    """Create a cart for CUSTOMER_ID from a file or from --catalog-item flags."""
    cart = cart_from_options(path, catalog_items, quantity, term, billing)
    with conn.client() as pc:
        show_cart(pc.customers.by_id(customer_id).carts.create(cart), conn.as_json)


@api_command(carts, "get")
@click.argument("customer_id")
@click.argument("cart_id")
def get(conn: Connection, customer_id: str, cart_id: str) -> None:
    """Show a cart."""
    with conn.client() as pc:
        show_cart(pc.customers.by_id(customer_id).carts.by_id(cart_id).get(), conn.as_json)


@api_command(carts, "update")
@click.argument("customer_id")
@click.argument("cart_id")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The whole new cart as JSON or YAML (PUT replaces every line).",
)
def update(conn: Connection, customer_id: str, cart_id: str, path: Path) -> None:
    """Replace a cart's lines with the cart in --file (tip: start from `carts get --json`)."""
    cart = load_resource(path, Cart)
    with conn.client() as pc:
        show_cart(pc.customers.by_id(customer_id).carts.by_id(cart_id).put(cart), conn.as_json)


def show_checkout(result: CartCheckoutResult, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    print_table(
        f"{len(result.orders)} order(s)",
        ["order", "status", "billing", "currency", "lines"],
        [
            (
                o.id,
                o.status,
                enum_text(o.billing_cycle),
                o.currency_code,
                len(o.line_items or ()),
            )
            for o in result.orders
        ],
    )
    if result.order_errors:
        print_table(
            "order errors",
            ["group", "code", "description"],
            [(e.order_group_id, e.code, e.description) for e in result.order_errors],
        )


@api_command(carts, "checkout")
@click.argument("customer_id")
@click.argument("cart_id")
@click.option("--upn", default=None, help="Customer user UPN for license assignment.")
def checkout(conn: Connection, customer_id: str, cart_id: str, upn: str | None) -> None:
    """Check out a cart: one order per order group."""
    with conn.client() as pc:
        cart = pc.customers.by_id(customer_id).carts.by_id(cart_id)
        show_checkout(cart.checkout(customer_user_upn=upn), conn.as_json)


@api_command(carts, "seed")
@click.argument("customer_id")
@click.option("--count", type=click.IntRange(1, 100_000), required=True, help="How many carts.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Requests in flight at once.",
)
@_cart_options
def seed(
    conn: Connection,
    customer_id: str,
    count: int,
    concurrency: int,
    path: Path | None,
    catalog_items: tuple[str, ...],
    quantity: int,
    term: str,
    billing: str,
) -> None:
    """Create --count copies of a cart for CUSTOMER_ID, with a progress bar (on stderr).

    Prints the new cart ids (a table, or a JSON list with --json). Without --file or
    --catalog-item each cart has one Microsoft 365 Business Basic line.
    """
    if path is None and not catalog_items:
        catalog_items = ("CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS",)
    try:
        cart = cart_from_options(path, catalog_items, quantity, term, billing)
    except click.UsageError as exc:
        fail(exc.message, EXIT_USAGE)
    ids, errors = asyncio.run(_seed(conn, customer_id, cart, count, concurrency))
    # The carts that were made are printed even when others failed: a script needs their ids
    # to use them or clean them up.
    if conn.as_json:
        print_json(ids)
    else:
        print_table(f"{len(ids)} cart(s) created", ["cart"], [(i,) for i in ids])
    if errors:
        click.echo(f"{len(ids)} of {count} carts created; {len(errors)} failed", err=True)
        raise errors[0]


async def _seed(
    conn: Connection, customer_id: str, cart: Cart, count: int, concurrency: int
) -> tuple[list[str], list[BaseException]]:
    """The ids of the carts made, in request order, and the failures (the other requests
    carry on after one fails)."""
    gate = asyncio.Semaphore(concurrency)
    ids: list[str | None] = [None] * count
    progress = Progress(
        TextColumn("creating carts"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=False,
    )
    async with conn.async_client() as pc:
        carts_of = pc.customers.by_id(customer_id).carts
        with progress:
            task = progress.add_task("carts", total=count)

            async def one(n: int) -> None:
                async with gate:
                    created = await carts_of.create(cart)
                ids[n] = created.id
                progress.advance(task)

            results = await asyncio.gather(*(one(n) for n in range(count)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    return [i for i in ids if i is not None], errors
