"""What every use case receives: one open unit of work, the clock and the id source.

The caller (the HTTP layer, a CLI command, a test) opens the unit of work, so cross-cutting
writes such as the stored response of an idempotent request commit in the same transaction as
the change itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from partnercart.server.catalog import Catalog, default_catalog
from partnercart.server.domain.clock import Clock
from partnercart.server.domain.errors import customer_not_found, no_relationship
from partnercart.server.domain.ids import IdSource, is_guid
from partnercart.server.domain.orders import OrderPolicy
from partnercart.server.domain.records import CustomerRecord
from partnercart.server.storage.ports import Store, UnitOfWork


@dataclass(frozen=True, slots=True)
class Services:
    """The long-lived parts: where data lives, what time it is, how ids are made, what is sold."""

    store: Store
    clock: Clock
    ids: IdSource
    catalog: Catalog = field(default_factory=default_catalog)
    orders: OrderPolicy = field(default_factory=OrderPolicy)

    def context(
        self, uow: UnitOfWork, *, clock: Clock | None = None, ids: IdSource | None = None
    ) -> Context:
        """A use case's context over ``uow`` (the one place a context is made); ``clock`` and
        ``ids`` replace the server's own (a partner's virtual clock and id stream)."""
        return Context(
            uow=uow,
            clock=clock or self.clock,
            ids=ids or self.ids,
            catalog=self.catalog,
            orders=self.orders,
        )


class Context(msgspec.Struct, frozen=True):
    """One use case's view: an open transaction, the time and ids to use, the catalog. A
    struct, not a frozen dataclass: one is made per request, and a struct is made in C."""

    uow: UnitOfWork
    clock: Clock
    ids: IdSource
    #: required, so a context can never silently fall back to the default catalog or policy.
    catalog: Catalog
    orders: OrderPolicy


def owned_customer(uow: UnitOfWork, partner_id: str, customer_id: str) -> CustomerRecord:
    """Load the customer once and check the caller's relationship with it.

    A customer id that cannot exist (not a GUID) is a 404. Any GUID the partner has no
    relationship with is a 403 (20002), whether or not another partner has that customer, so
    ids cannot be probed.
    """
    if not is_guid(customer_id):
        raise customer_not_found(customer_id)
    record = uow.customers.get(partner_id, customer_id.lower())
    if record is None:
        raise no_relationship(partner_id, customer_id)
    return record
