"""Every catalog item id of the published samples is in the default catalog, with the terms and
billing cycles the samples use; legacy offer ids are in the legacy offer table."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from partnercart.schema import codec
from partnercart.schema.cart import CartLineItem
from partnercart.server.catalog import default_catalog
from partnercart.server.domain.validation import (
    BILLING_PLAN_NOT_SUPPORTED,
    CATALOG_ITEM_INVALID,
    PARTNER_ATTESTATION_MISSING,
    CartContext,
    Market,
    validate_lines,
)
from tests.catalog.test_line_validation import errors
from tests.conftest import START, Api
from tests.samples import all_samples

# Key and value of every id, in valid and malformed samples alike (any key casing).
_ID = re.compile(r'"(catalogItemId|offerId)"\s*:\s*"([^"]*)"', re.IGNORECASE)
_CYCLE = re.compile(r'"billingCycle"\s*:\s*"([^"]*)"', re.IGNORECASE)
_TERM = re.compile(r'"termDuration"\s*:\s*"([^"]*)"', re.IGNORECASE)
_RENEWS = re.compile(r'"renewsTo"\s*:\s*\{\s*"termDuration"\s*:\s*"([^"]*)"', re.IGNORECASE)
SAMPLE_COUNTRY = "US"  # every sample is a US customer's (links say ?country=US)


def sample_ids() -> list[tuple[str, str, str]]:
    """(sample id, key, catalog item id) for every id in every sample."""
    return [
        (s["id"], m.group(1), m.group(2)) for s in all_samples() for m in _ID.finditer(s["payload"])
    ]


def cart_lines() -> list[tuple[str, dict[str, Any]]]:
    """The plan of every cart line (``catalogItemId``) in every sample, found by regex.

    A line's own keys follow its catalogItemId and come before the next line's, so each line
    is read from its id up to the next id. Order lines (``offerId``) carry no billing cycle of
    their own and are left out.
    """
    found: list[tuple[str, dict[str, Any]]] = []
    for s in all_samples():
        payload = s["payload"]
        matches = list(_ID.finditer(payload))
        for n, m in enumerate(matches):
            if m.group(1).lower() != "catalogitemid":
                continue
            end = matches[n + 1].start() if n + 1 < len(matches) else len(payload)
            segment = payload[m.end() : end]
            line: dict[str, Any] = {"catalogItemId": m.group(2), "quantity": 1}
            for key, pattern in (("billingCycle", _CYCLE), ("termDuration", _TERM)):
                hit = pattern.search(segment)
                if hit:
                    line[key] = hit.group(1)
            renews = _RENEWS.search(segment)
            if renews:
                line["renewsTo"] = {"termDuration": renews.group(1)}
            found.append((s["id"], line))
    return found


IDS = sample_ids()
LINES = cart_lines()


def test_the_samples_name_many_ids() -> None:
    distinct = {item for _, _, item in IDS}
    assert len(distinct) >= 20
    assert any(key == "CatalogItemId" for _, key, _ in IDS)  # PascalCase ones are found too
    assert any(not s["valid_json"] and _ID.search(s["payload"]) for s in all_samples())
    assert len(LINES) >= 30


@pytest.mark.parametrize("item", sorted({item for _, _, item in IDS}))
def test_every_sample_id_is_in_the_default_catalog(item: str) -> None:
    catalog = default_catalog()
    if ":" in item:
        offer = catalog.offer(item)
        assert offer is not None, item
        assert offer.sold_in(SAMPLE_COUNTRY)
        assert offer.availability.segment == "commercial"
    else:
        assert catalog.legacy_offer(item) is not None, item


@pytest.mark.parametrize(
    ("sample_id", "line"), LINES, ids=[f"{s}-{n}" for n, (s, _) in enumerate(LINES)]
)
def test_every_sample_line_plan_is_offered(sample_id: str, line: dict[str, Any]) -> None:
    parsed = codec.convert(line, CartLineItem, drop_server_owned=True)
    context = CartContext(
        catalog=default_catalog(), market=Market(country=SAMPLE_COUNTRY, currency="USD"), now=START
    )
    validate_lines([parsed], context)
    code = parsed.error.error_code if parsed.error else None
    assert code not in (CATALOG_ITEM_INVALID, BILLING_PLAN_NOT_SUPPORTED), (line, parsed.error)


def _valid_cart_requests() -> list[dict[str, Any]]:
    found = []
    for s in all_samples():
        if s["kind"] != "request" or not s["valid_json"]:
            continue
        body = json.loads(s["payload"])
        keys = {k.lower(): v for k, v in body.items()}
        if "lineitems" in keys and '"catalogitemid"' in s["payload"].lower():
            found.append(s)
    return found


CART_REQUESTS = _valid_cart_requests()


def test_there_are_valid_cart_request_samples() -> None:
    assert len(CART_REQUESTS) >= 5


@pytest.mark.parametrize("item", CART_REQUESTS, ids=[s["id"] for s in CART_REQUESTS])
def test_every_valid_cart_request_sample_is_accepted_without_line_errors(
    api: Api, item: dict[str, Any]
) -> None:
    customer = api.new_customer(SAMPLE_COUNTRY)
    response = api.post(
        f"/v1/customers/{customer}/carts",
        content=item["payload"].encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    cart = response.json()
    nested = [a for line in cart["lineItems"] for a in line.get("addonItems") or []]
    # Samples from before February 2022 name resellers without the partner-of-record
    # attestation that purchases have needed since; those lines get 900206 and nothing else.
    attested = cart.get("partnerOnRecordAttestationAccepted") is True
    expected = [
        None if attested or not line.get("participants") else PARTNER_ATTESTATION_MISSING
        for line in cart["lineItems"]
    ]
    assert errors(cart) == expected, cart["lineItems"]
    assert errors({"lineItems": nested}) == [None] * len(nested)
