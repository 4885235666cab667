"""``partnercart customers``: create, list and show customers."""

from __future__ import annotations

import uuid
from pathlib import Path

import click

from partnercart.cli._common import (
    Connection,
    api_command,
    load_resource,
    print_fields,
    print_json,
    print_table,
)
from partnercart.schema.customer import Address, BillingProfile, CompanyProfile, Customer


@click.group()
def customers() -> None:
    """Customers of your partner tenant (every cart belongs to one).

    \b
    Examples:
      partnercart customers create --company Contoso --country US
      partnercart customers list
      partnercart customers get CUSTOMER_ID --json
    """


def show_customer(customer: Customer, as_json: bool) -> None:
    if as_json:
        print_json(customer)
        return
    billing = customer.billing_profile
    print_fields(
        f"Customer {customer.id}",
        [
            ("id", customer.id),
            ("domain", customer.company_profile.domain),
            ("company", _company(customer)),
            ("email", billing.email if billing else None),
            ("country", billing.default_address.country if billing else None),
            ("relationship", customer.relationship_to_partner),
        ],
    )


def _company(customer: Customer) -> str | None:
    """The billing profile's company name, else the company profile's (Partner Center's list
    of customers carries no billing profile)."""
    if customer.billing_profile is not None:
        return customer.billing_profile.company_name
    return customer.company_profile.company_name


@api_command(customers, "create")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A customer as JSON or YAML; the other options are ignored when given.",
)
@click.option("--domain", default=None, help="The *.onmicrosoft.com domain (default: random).")
@click.option("--company", default="Contoso", show_default=True, help="Company name.")
@click.option("--email", default="admin@contoso.example", show_default=True)
@click.option("--country", default="US", show_default=True, help="Two-letter country code.")
@click.option("--culture", default="en-US", show_default=True)
@click.option("--language", default="en", show_default=True)
def create(
    conn: Connection,
    path: Path | None,
    domain: str | None,
    company: str,
    email: str,
    country: str,
    culture: str,
    language: str,
) -> None:
    """Create a customer and print it."""
    if path is not None:
        customer = load_resource(path, Customer)
    else:
        customer = Customer(
            company_profile=CompanyProfile(
                domain=domain or f"c{uuid.uuid4().hex[:12]}.onmicrosoft.com",
                company_name=company,
            ),
            billing_profile=BillingProfile(
                email=email,
                culture=culture,
                language=language,
                company_name=company,
                default_address=Address(country=country),
            ),
        )
    with conn.client() as pc:
        show_customer(pc.customers.create(customer), conn.as_json)


@api_command(customers, "list")
def list_customers(conn: Connection) -> None:
    """List your customers."""
    with conn.client() as pc:
        items = pc.customers.list().to_list()
    if conn.as_json:
        print_json(items)
        return
    print_table(
        f"{len(items)} customer(s)",
        ["id", "domain", "company", "country"],
        [
            (
                c.id,
                c.company_profile.domain,
                _company(c),
                c.billing_profile.default_address.country if c.billing_profile else None,
            )
            for c in items
        ],
    )


@api_command(customers, "get")
@click.argument("customer_id")
def get(conn: Connection, customer_id: str) -> None:
    """Show one customer."""
    with conn.client() as pc:
        show_customer(pc.customers.by_id(customer_id).get(), conn.as_json)
