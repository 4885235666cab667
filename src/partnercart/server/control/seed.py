"""Seed customers and carts from a document, through the same use cases the API runs, so every
seeded resource is one the API could have made.

The document (JSON or YAML)::

    partners:
      - id: 3d7e3f0e-1b1c-4a4f-9f57-6c2b0c1f6a10
        customers:
          - customer: {companyProfile: {...}, billingProfile: {...}}   # a Customer body
            carts:
              - lineItems: [{catalogItemId: ..., quantity: 1, ...}]    # Cart bodies

A single partner may be given at the top level as ``partner: <id>`` with ``customers``.
"""

from __future__ import annotations

from typing import Any

from partnercart.schema import codec
from partnercart.schema.cart import Cart
from partnercart.schema.codec import CodecError
from partnercart.schema.customer import NewCustomer
from partnercart.server.control.clocks import ClockSource, PartnerClock
from partnercart.server.domain.carts import Actor
from partnercart.server.domain.errors import BadRequest, Conflict
from partnercart.server.domain.ids import ids_for_partner, is_guid
from partnercart.server.services import carts, customers
from partnercart.server.services.context import Services
from partnercart.server.storage.ports import UnitOfWork

#: The user recorded on seeded carts.
SEED_USER = "partnercart-seed"
MAX_ITEMS = 10_000


def _partners(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        raise BadRequest("The seed document must be an object with 'partners'.", data=["$"])
    if "partner" in document:
        return [{"id": document["partner"], "customers": document.get("customers", [])}]
    partners = document.get("partners")
    if not isinstance(partners, list):
        raise BadRequest("The seed document needs a 'partners' list.", data=["$.partners"])
    return partners


def _list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(f"{path} must be a list.", data=[path])
    return value


def _convert(value: Any, type_: type[Any], path: str) -> Any:
    try:
        return codec.convert(value, type_, drop_server_owned=True)
    except CodecError as exc:
        where = path + (exc.path or "$")[1:]
        raise BadRequest(f"{path}: {exc.message}", data=[where]) from None


def _within(error: BadRequest | Conflict, path: str) -> BadRequest | Conflict:
    """A use case's 400 about a body (``$.billingProfile``) as a 400 about that body's place in
    the seed document (``$.partners[0].customers[1].customer.billingProfile``); a 409 (a domain
    the partner's customers already have) likewise."""
    data = [
        path + str(item)[1:] if isinstance(item, str) and item.startswith("$") else item
        for item in error.data
    ] or [path]
    return type(error)(f"{path}: {error.description}", code=error.code, data=data)


def seed(
    uow: UnitOfWork, document: Any, *, clocks: ClockSource, services: Services
) -> dict[str, Any]:
    """Create everything in ``document`` in the open unit of work; the created ids."""
    out: list[dict[str, Any]] = []
    count = 0
    for p, partner in enumerate(_partners(document)):
        path = f"$.partners[{p}]"
        if not isinstance(partner, dict) or not is_guid(str(partner.get("id", ""))):
            raise BadRequest(f"{path}.id must be a partner tenant id (a GUID).", data=[path])
        partner_id = str(partner["id"]).lower()
        actor = Actor(partner_id=partner_id, user_id=SEED_USER)
        clock = PartnerClock(clocks.state(uow, partner_id), clocks.base)
        ctx = services.context(uow, clock=clock, ids=ids_for_partner(services.ids, partner_id))
        made: list[dict[str, Any]] = []
        for c, item in enumerate(_list(partner.get("customers"), f"{path}.customers")):
            cpath = f"{path}.customers[{c}]"
            if not isinstance(item, dict) or "customer" not in item:
                raise BadRequest(f"{cpath} needs a 'customer' body.", data=[cpath])
            count += 1
            body = _convert(item["customer"], NewCustomer, f"{cpath}.customer")
            try:
                customer = customers.create_customer(ctx, actor=actor, request=body)
            except (BadRequest, Conflict) as exc:
                raise _within(exc, f"{cpath}.customer") from None
            cart_ids = []
            for k, cart_doc in enumerate(_list(item.get("carts"), f"{cpath}.carts")):
                count += 1
                cart = _convert(cart_doc, Cart, f"{cpath}.carts[{k}]")
                try:
                    record = carts.create_cart(
                        ctx, actor=actor, customer_id=customer.id, request=cart
                    )
                except BadRequest as exc:
                    raise _within(exc, f"{cpath}.carts[{k}]") from None
                cart_ids.append(record.id)
            if count > MAX_ITEMS:
                raise BadRequest(f"A seed document may create at most {MAX_ITEMS} resources.")
            made.append({"id": customer.id, "carts": cart_ids})
        out.append({"id": partner_id, "customers": made})
    return {"partners": out}


def parse_document(data: bytes, content_type: str) -> Any:
    """A seed document from JSON, or YAML when the content type says so."""
    if "yaml" in content_type:
        import yaml

        try:
            return yaml.safe_load(data.decode("utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise BadRequest(f"The seed document is not valid YAML: {exc}") from None
    try:
        return codec.parse_json(data)
    except CodecError as exc:
        raise BadRequest(exc.message) from None


__all__ = ["parse_document", "seed"]
