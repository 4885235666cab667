"""Customer use cases."""

from __future__ import annotations

import msgspec

from partnercart.schema import codec
from partnercart.schema.common import Attributes, SelfLinks, link
from partnercart.schema.customer import Customer
from partnercart.server.domain.carts import Actor
from partnercart.server.domain.errors import BadRequest, domain_in_use
from partnercart.server.domain.records import CustomerRecord
from partnercart.server.services.context import Context, owned_customer


def create_customer(ctx: Context, *, actor: Actor, request: Customer) -> CustomerRecord:
    profile = request.billing_profile
    if profile is None:
        # Optional in the model only because Partner Center's answers may leave it out.
        raise BadRequest(
            "Invalid request body at $.billingProfile: Object missing required field "
            "`billingProfile`.",
            data=["$.billingProfile"],
        )
    # Domain names are case-insensitive; each of a partner's customers has its own.
    domain = request.company_profile.domain.lower()
    if ctx.uow.customers.domain_taken(actor.partner_id, domain):
        raise domain_in_use(request.company_profile.domain)
    customer_id = ctx.ids.uuid()
    uri = f"/customers/{customer_id}"
    company = msgspec.structs.replace(
        request.company_profile,
        tenant_id=customer_id,
        links=SelfLinks(self=link(f"{uri}/profiles/company")),
        attributes=Attributes(object_type="CustomerCompanyProfile"),
    )
    billing = msgspec.structs.replace(
        profile,
        id=ctx.ids.uuid(),
        default_address=msgspec.structs.replace(
            profile.default_address,
            country=profile.default_address.country.upper(),
        ),
        links=SelfLinks(self=link(f"{uri}/profiles/billing")),
        attributes=Attributes(object_type="CustomerBillingProfile"),
    )
    customer = Customer(
        id=customer_id,
        commerce_id=customer_id,
        company_profile=company,
        billing_profile=billing,
        relationship_to_partner="reseller",
        allow_delegated_access=request.allow_delegated_access,
        links=SelfLinks(self=link(uri)),
        attributes=Attributes(object_type="Customer"),
    )
    record = CustomerRecord(
        id=customer_id,
        partner_id=actor.partner_id,
        country=billing.default_address.country,
        created_at=ctx.clock.now(),
        body=codec.encode(customer),
        domain=domain,
    )
    ctx.uow.customers.add(record)
    return record


def get_customer(ctx: Context, *, actor: Actor, customer_id: str) -> CustomerRecord:
    return owned_customer(ctx.uow, actor.partner_id, customer_id)


def list_customers(ctx: Context, *, actor: Actor) -> list[CustomerRecord]:
    return ctx.uow.customers.list(actor.partner_id)
