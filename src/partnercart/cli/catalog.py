"""``partnercart catalog``: products, SKUs and availabilities for a country."""

from __future__ import annotations

import click

from partnercart.cli._common import Connection, api_command, enum_text, print_json, print_table

COUNTRY_OPTION = click.option(
    "--country", default="US", show_default=True, help="Two-letter country code of the catalog."
)
SEGMENT_OPTION = click.option(
    "--segment", default=None, help="Target segment: commercial, education, government, ..."
)


@click.group()
def catalog() -> None:
    """Browse the catalog to find the catalog item id (PRODUCT:SKU:AVAILABILITY) of a cart line.

    \b
    Examples:
      partnercart catalog products --target-view OnlineServices
      partnercart catalog skus CFQ7TTC0LH18
      partnercart catalog availabilities CFQ7TTC0LH18 0001
    """


@api_command(catalog, "products")
@COUNTRY_OPTION
@click.option(
    "--target-view",
    default="OnlineServices",
    show_default=True,
    help="Azure, AzureReservations, OnlineServices, Software, SoftwareSubscriptions, ...",
)
@SEGMENT_OPTION
def products(conn: Connection, country: str, target_view: str, segment: str | None) -> None:
    """List products."""
    with conn.client() as pc:
        items = (
            pc.products(country=country)
            .list(target_view=target_view, target_segment=segment)
            .to_list()
        )
    if conn.as_json:
        print_json(items)
        return
    print_table(
        f"{len(items)} product(s) in {country.upper()} ({target_view})",
        ["product", "title", "type"],
        [(p.id, p.title, p.product_type.id if p.product_type else "") for p in items],
    )


@api_command(catalog, "skus")
@click.argument("product_id")
@COUNTRY_OPTION
@SEGMENT_OPTION
def skus(conn: Connection, product_id: str, country: str, segment: str | None) -> None:
    """List the SKUs of a product."""
    with conn.client() as pc:
        items = (
            pc.products(country=country)
            .by_id(product_id)
            .skus.list(target_segment=segment)
            .to_list()
        )
    if conn.as_json:
        print_json(items)
        return
    print_table(
        f"{len(items)} SKU(s) of {product_id}",
        ["sku", "title", "min", "max", "billing cycles", "trial"],
        [
            (
                s.id,
                s.title,
                s.minimum_quantity,
                s.maximum_quantity,
                ", ".join(enum_text(c) for c in s.supported_billing_cycles or ()),
                s.is_trial,
            )
            for s in items
        ],
    )


@api_command(catalog, "availabilities")
@click.argument("product_id")
@click.argument("sku_id")
@COUNTRY_OPTION
@SEGMENT_OPTION
def availabilities(
    conn: Connection, product_id: str, sku_id: str, country: str, segment: str | None
) -> None:
    """List the availabilities of a SKU: their catalog item ids go into cart lines."""
    with conn.client() as pc:
        items = (
            pc.products(country=country)
            .by_id(product_id)
            .skus.by_id(sku_id)
            .availabilities.list(target_segment=segment)
            .to_list()
        )
    if conn.as_json:
        print_json(items)
        return
    print_table(
        f"{len(items)} availability(ies) of {product_id}:{sku_id}",
        ["catalog item id", "segment", "country", "terms"],
        [
            (
                a.catalog_item_id,
                a.segment,
                a.country,
                ", ".join(f"{t.duration}/{t.billing_cycle}" for t in a.terms or ()),
            )
            for a in items
        ],
    )
