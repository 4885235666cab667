"""The one error tree. Every failure a caller can see is an :class:`ApiError` with the HTTP
status and the Partner Center error code; :mod:`partnercart.server.http.errors` renders it."""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    status: ClassVar[int] = 500
    default_code: ClassVar[int] = 800003

    def __init__(self, description: str, *, code: int | None = None, data: list[Any] | None = None):
        super().__init__(description)
        self.description = description
        self.code = self.default_code if code is None else code
        self.data: list[Any] = data or []


class BadRequest(ApiError):
    status = 400
    default_code = 800002  # "Invalid request input"


class Unauthorized(ApiError):
    status = 401
    default_code = 800001  # "Partner token missing in request context"
    #: the protection space named in ``WWW-Authenticate``
    realm: ClassVar[str] = "partnercart"


class Forbidden(ApiError):
    status = 403
    default_code = 2032  # "Access denied"


class NotFound(ApiError):
    status = 404
    default_code = 1000  # "Not found"


class MethodNotAllowed(ApiError):
    status = 405
    default_code = 1000


class NotAcceptable(ApiError):
    status = 406
    default_code = 800002


class Conflict(ApiError):
    status = 409
    default_code = 800060


class PreconditionFailed(ApiError):
    status = 412
    default_code = 800036  # "Pre-condition failed"


class PayloadTooLarge(ApiError):
    status = 413
    default_code = 800002


class UnsupportedMediaType(ApiError):
    status = 415
    default_code = 800002


class TooManyRequests(ApiError):
    status = 429
    default_code = 429

    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description)
        self.retry_after = retry_after


class ServiceUnavailable(ApiError):
    status = 503
    default_code = 800003


# Named errors of the cart and customer rules.


def no_relationship(partner_id: str, customer_id: str) -> Forbidden:
    return Forbidden(
        f"The partner ID {partner_id} has no commerce relationship with the customer ID "
        f"{customer_id}.",
        code=20002,
    )


def domain_in_use(domain: str) -> Conflict:
    """A customer whose domain another customer of the same partner has. Partner Center
    refuses it ("already used by another tenant"); the reference gives no code, so the code is
    the status, as for 429 (docs/decisions.md)."""
    return Conflict(
        f"The domain {domain} is already used by another customer of this partner.",
        code=409,
        data=["$.companyProfile.domain"],
    )


def cart_not_found(cart_id: str) -> NotFound:
    return NotFound(f"Unable to retrieve cart ID {cart_id}.", code=800008)


def customer_not_found(customer_id: str) -> NotFound:
    return NotFound(f"Customer {customer_id} was not found.", code=1000)


def product_not_found(product_id: str, country: str) -> NotFound:
    return NotFound(f"Product {product_id} was not found in country {country}.", code=400013)


def sku_not_found(product_id: str, sku_id: str, country: str) -> NotFound:
    return NotFound(
        f"SKU {sku_id} of product {product_id} was not found in country {country}.", code=400018
    )


def availability_not_found(availability_id: str, sku_id: str, country: str) -> NotFound:
    return NotFound(
        f"Availability {availability_id} of SKU {sku_id} was not found in country {country}.",
        code=400019,
    )
