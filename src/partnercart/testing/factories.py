"""Small valid request bodies for tests and examples."""

from __future__ import annotations

import uuid

from partnercart.schema.cart import BillingCycle, Cart, CartLineItem
from partnercart.schema.customer import Address, BillingProfile, CompanyProfile, Customer

__all__ = ["DEFAULT_CATALOG_ITEM", "sample_cart", "sample_customer"]

#: Microsoft 365 Business Basic, 1-month term (a catalog item id from the published samples).
DEFAULT_CATALOG_ITEM = "CFQ7TTC0LH18:0001:CFQ7TTC0K59J"


def sample_customer(*, country: str = "US", domain: str | None = None) -> Customer:
    """A customer with a unique ``*.onmicrosoft.com`` domain."""
    return Customer(
        company_profile=CompanyProfile(
            domain=domain or f"c{uuid.uuid4().hex[:12]}.onmicrosoft.com"
        ),
        billing_profile=BillingProfile(
            email="admin@contoso.example",
            culture="en-US",
            language="en",
            company_name="Contoso",
            default_address=Address(
                country=country,
                city="Redmond",
                state="WA",
                address_line1="One Microsoft Way",
                postal_code="98052",
                first_name="Ada",
                last_name="Lovelace",
                phone_number="4255550100",
            ),
        ),
    )


def sample_cart(
    *,
    catalog_item_id: str = DEFAULT_CATALOG_ITEM,
    quantity: int = 1,
    term_duration: str = "P1M",
    billing_cycle: BillingCycle = BillingCycle.MONTHLY,
) -> Cart:
    """A one-line cart."""
    return Cart(
        line_items=[
            CartLineItem(
                id=0,
                catalog_item_id=catalog_item_id,
                quantity=quantity,
                term_duration=term_duration,
                billing_cycle=billing_cycle,
            )
        ],
        partner_on_record_attestation_accepted=True,
    )
