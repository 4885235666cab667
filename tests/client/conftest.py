"""The SDK tests use the partnercart pytest plugin's fixtures (imported here so the tests work
from a source checkout, where the ``pytest11`` entry point is not installed)."""

from __future__ import annotations

from partnercart.testing.plugin import (  # noqa: F401
    partner_center,
    partner_tenant,
    partnercart_server,
)
