"""The SDK's public surface is pinned, and a client-only install never needs the server."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import partnercart.client

ROOT = Path(__file__).resolve().parents[2]


def test_the_public_names_are_pinned() -> None:
    assert partnercart.client.__all__ == [
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
    for name in partnercart.client.__all__:
        assert hasattr(partnercart.client, name), name


def test_every_error_is_a_partner_center_error() -> None:
    from partnercart.client import PartnerCenterError

    for name in partnercart.client.__all__:
        value = getattr(partnercart.client, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, PartnerCenterError), name
    # OrderError is the wire model of a failed order group, not an exception.
    assert not issubclass(partnercart.client.OrderError, Exception)


def test_the_client_and_cli_do_not_import_the_server() -> None:
    code = (
        "import sys\n"
        "import partnercart.client, partnercart.cli.carts, partnercart.cli.customers\n"
        "import partnercart.cli.orders, partnercart.cli.catalog, partnercart.testing.plugin\n"
        "bad = sorted(m for m in sys.modules if m.startswith('partnercart.server')\n"
        "             or m.split('.')[0] in ('starlette', 'uvicorn', 'sqlalchemy', 'psycopg',\n"
        "                                     'alembic', 'jwt'))\n"
        "print(bad)\n"
        "raise SystemExit(1 if bad else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_pytest_plugin_is_registered_by_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"partnercart": "partnercart.testing.plugin"}
