"""The Partner Center SDK: a typed, fluent client for partnercart and the real service.

from partnercart.client import PartnerCenter, PartnercartCredential

credential = PartnercartCredential("http://127.0.0.1:8400", tenant_id=partner_id)
with PartnerCenter("http://127.0.0.1:8400", credential) as pc:
    cart = pc.customers.by_id(customer_id).carts.create(cart)
"""

from partnercart.client._client import DEFAULT_BASE_URL, AsyncPartnerCenter, PartnerCenter
from partnercart.client._credentials import (
    SCOPE,
    AccessToken,
    PartnercartCredential,
    StaticTokenCredential,
    TokenCredential,
)
from partnercart.client._errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    InvalidResponseError,
    NotFoundError,
    PartnerCenterError,
    PreconditionFailedError,
    ServerError,
    TooManyRequestsError,
    TransportError,
    UnauthorizedError,
)
from partnercart.client._executors import AsyncPager, Pager
from partnercart.client._models_pending import (
    Availability,
    CartCheckoutResult,
    Order,
    OrderError,
    OrderLineItem,
    OrderLineItemProvisioningStatus,
    Product,
    Sku,
    Subscription,
)
from partnercart.client._operation import Operation, Page
from partnercart.client._pipeline import Attempt
from partnercart.client._retry import RetryPolicy
from partnercart.schema.cart import BillingCycle, Cart, CartLineItem, Participant, ParticipantType
from partnercart.schema.customer import Address, BillingProfile, CompanyProfile, Customer

__all__ = [
    "DEFAULT_BASE_URL",
    "SCOPE",
    "AccessToken",
    "Address",
    "AsyncPager",
    "AsyncPartnerCenter",
    "Attempt",
    "Availability",
    "BadRequestError",
    "BillingCycle",
    "BillingProfile",
    "Cart",
    "CartCheckoutResult",
    "CartLineItem",
    "CompanyProfile",
    "ConflictError",
    "Customer",
    "ForbiddenError",
    "InvalidResponseError",
    "NotFoundError",
    "Operation",
    "Order",
    "OrderError",
    "OrderLineItem",
    "OrderLineItemProvisioningStatus",
    "Page",
    "Pager",
    "Participant",
    "ParticipantType",
    "PartnerCenter",
    "PartnerCenterError",
    "PartnercartCredential",
    "PreconditionFailedError",
    "Product",
    "RetryPolicy",
    "ServerError",
    "Sku",
    "StaticTokenCredential",
    "Subscription",
    "TokenCredential",
    "TooManyRequestsError",
    "TransportError",
    "UnauthorizedError",
]
