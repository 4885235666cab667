"""Conformance with the published samples: malformed ones are refused with a 400 that says
where they break; the update-a-cart request (mended) gets the published response shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Api
from tests.samples import malformed, sample

MALFORMED = malformed()


def test_the_reference_has_malformed_samples() -> None:
    assert len(MALFORMED) >= 10


@pytest.mark.parametrize("item", MALFORMED, ids=[s["id"] for s in MALFORMED])
def test_every_malformed_sample_is_a_400_that_says_where(api: Api, item: dict[str, Any]) -> None:
    customer = api.new_customer()
    created = api.post(
        f"/v1/customers/{customer}/carts",
        json={"lineItems": [{"catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS", "quantity": 1}]},
    ).json()
    # json.loads locates the break the same way: line N column M.
    where = item["error"].split(": line ", 1)[1].split(" (char")[0]
    line, column = where.split(" column ")
    for method, path in (
        ("POST", f"/v1/customers/{customer}/carts"),
        ("PUT", f"/v1/customers/{customer}/carts/{created['id']}"),
    ):
        response = api.request(
            method,
            path,
            content=item["payload"].encode(),
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400, (method, response.text)
        body = response.json()
        assert body["code"] == 800002
        assert f"at line {line}," in body["description"], body["description"]
        assert f"column {column}" in body["description"] or "line" in body["description"]
    # Nothing was changed by the refused PUT.
    assert api.get(f"/v1/customers/{customer}/carts/{created['id']}").json() == created


def mend_update_request(payload: str) -> dict[str, Any]:
    """The published PUT body wraps the cart in a second pair of braces and ends a list with a
    trailing comma; remove both."""
    text = payload.strip()
    assert text.startswith("{") and text.endswith("}")
    inner = text[1:-1].strip()
    inner = inner.replace("],\n    }", "]\n    }")
    return dict(json.loads(inner))


def mend_update_response(payload: str) -> dict[str, Any]:
    """The published response misses a comma after provisioningContext and PascalCases it."""
    text = payload.replace('"ProvisioningContext"', '"provisioningContext"')
    text = text.replace('}\n            "orderGroup"', '},\n            "orderGroup"')
    return dict(json.loads(text))


def test_update_a_cart_sample_gets_the_published_response(api: Api) -> None:
    request_body = mend_update_request(sample("25881294cd6d")["payload"])
    published = mend_update_response(sample("1c01edf4c278")["payload"])
    customer = api.new_customer("US")
    created = api.post(
        f"/v1/customers/{customer}/carts",
        json={"lineItems": [{"catalogItemId": "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS", "quantity": 1}]},
    ).json()
    response = api.put(f"/v1/customers/{customer}/carts/{created['id']}", json=request_body)
    assert response.status_code == 201  # as published
    ours = response.json()
    # Every property of the published response is there, with the same JSON type.
    for key, value in published.items():
        assert key in ours, key
        assert type(ours[key]) is type(value), key
    assert ours["id"] == created["id"]  # the server's id, not the one in the body
    assert ours["attributes"]["objectType"] == published["attributes"]["objectType"]
    assert ours["links"]["self"]["method"] == "GET"
    assert ours["links"]["self"]["headers"] == []
    # The line comes back as published: PascalCase in, camelCase out, context keys camel-cased.
    (line,) = ours["lineItems"]
    (expected,) = published["lineItems"]
    # The 2021 samples predate the line pricing the 2023 samples show; it comes last.
    pricing = line.pop("pricing")
    assert pricing["extendedPrice"] == pricing["price"] * line["quantity"]
    assert line == expected | {"provisioningContext": expected["provisioningContext"]}
    assert list(line) == list(expected)


def test_create_cart_sample_new_commerce(api: Api) -> None:
    request_body = json.loads(sample("a28506d8661e")["payload"])
    published = json.loads(sample("770add9a7b86")["payload"])
    customer = api.new_customer("US")
    response = api.post(f"/v1/customers/{customer}/carts", json=request_body)
    assert response.status_code == 201
    ours = response.json()
    assert list(ours) == list(published)
    # The 2021 sample predates the line pricing of the 2023 samples (36.48 for this P1M line).
    assert [line.pop("pricing")["price"] for line in ours["lineItems"]] == [36.48]
    assert ours["lineItems"] == published["lineItems"]
    assert ours["attributes"]["objectType"] == published["attributes"]["objectType"]


@pytest.mark.parametrize(
    ("request_id", "response_id"),
    [("cfa32be00c61", "027b2d59a448"), ("358355315211", "3ec09a076176")],
    ids=["base-with-nested-add-ons", "add-on-to-a-subscription"],
)
def test_legacy_cart_samples_get_the_published_lines(
    api: Api, request_id: str, response_id: str
) -> None:
    """Legacy lines come back as published: a line sent without a provisioning context has
    none (it had ``provisioningContext: {}``), one sent with it keeps it, camel-cased."""
    request_body = json.loads(sample(request_id)["payload"])
    published = json.loads(sample(response_id)["payload"])
    customer = api.new_customer("US")
    response = api.post(f"/v1/customers/{customer}/carts", json=request_body)
    assert response.status_code == 201, response.text
    assert response.json()["lineItems"] == published["lineItems"]
