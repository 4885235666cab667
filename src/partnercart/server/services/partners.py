"""Partner tenants, as the control plane sees them."""

from __future__ import annotations

from partnercart.server.services.context import Context


def list_partners(ctx: Context) -> list[tuple[str, int]]:
    """Every partner that owns customers, with its number of customers."""
    return ctx.uow.customers.partners()
