"""Customer, with just the company and billing profiles a cart needs to belong somewhere."""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec

from partnercart.schema.common import Attributes, CollectionLinks, SelfLinks, Wire

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
OptionalText = Annotated[str, msgspec.Meta(max_length=256)]
CountryCode = Annotated[str, msgspec.Meta(pattern="^[A-Za-z]{2}$")]
Domain = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)*[A-Za-z0-9-]{1,63}$", max_length=253
    ),
]


class Address(Wire, kw_only=True):
    country: CountryCode
    region: OptionalText | None = None
    city: OptionalText | None = None
    state: OptionalText | None = None
    address_line1: OptionalText | None = None
    address_line2: OptionalText | None = None
    postal_code: OptionalText | None = None
    first_name: OptionalText | None = None
    last_name: OptionalText | None = None
    phone_number: OptionalText | None = None


class CompanyProfile(Wire, kw_only=True):
    server_owned: ClassVar[frozenset[str]] = frozenset({"tenantId", "links", "attributes"})

    tenant_id: str | None = None
    domain: Domain
    company_name: OptionalText | None = None
    links: SelfLinks | None = None
    attributes: Attributes | None = None


class BillingProfile(Wire, kw_only=True):
    server_owned: ClassVar[frozenset[str]] = frozenset({"id", "links", "attributes"})

    id: str | None = None
    first_name: OptionalText | None = None
    last_name: OptionalText | None = None
    email: Text
    culture: Text
    language: Text
    company_name: Text
    default_address: Address
    links: SelfLinks | None = None
    attributes: Attributes | None = None


class Customer(Wire, kw_only=True):
    server_owned: ClassVar[frozenset[str]] = frozenset(
        {"id", "commerceId", "relationshipToPartner", "links", "attributes"}
    )

    id: str | None = None
    commerce_id: str | None = None
    company_profile: CompanyProfile
    #: Required when a customer is created (the service says so); Partner Center's list of
    #: customers leaves it out of every item, so an answer may come without it.
    billing_profile: BillingProfile | None = None
    relationship_to_partner: str | None = None
    allow_delegated_access: bool | None = None
    links: SelfLinks | None = None
    attributes: Attributes | None = None


class NewCustomer(Customer, kw_only=True):
    """A customer as a create request sends it: the billing profile is required, so a body
    without one is "missing required field" and one with ``null`` is "got `null`"."""

    billing_profile: BillingProfile


class CustomerCollection(Wire, kw_only=True):
    total_count: int
    items: list[Customer]
    links: CollectionLinks | None = None
    attributes: Attributes | None = None
