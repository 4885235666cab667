"""The catalog routes: partner catalog by country and the customer-scoped catalog."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

BUSINESS = ("CFQ7TTC0LFLZ", "0002", "CFQ7TTC0K4TS")


def ok(api: Api, path: str) -> Any:
    response = api.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def refused(api: Api, path: str, status: int, code: int) -> dict[str, Any]:
    response = api.get(path)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert set(body) == {"code", "description", "data", "source"}
    return body


def test_products_by_target_view_in_partner_center_shape(api: Api) -> None:
    body = ok(api, "/v1/products?country=US&targetView=OnlineServices")
    assert body["attributes"] == {"objectType": "Collection"}
    assert body["totalCount"] == len(body["items"]) > 0
    assert body["links"]["self"]["uri"] == "/products?targetView=OnlineServices&country=US"
    ids = {p["id"] for p in body["items"]}
    assert "CFQ7TTC0LFLZ" in ids and "DZH318Z0BQ36" not in ids
    product = next(p for p in body["items"] if p["id"] == "CFQ7TTC0LFLZ")
    assert product["productType"] == {"id": "OnlineServicesNCE", "displayName": "OnlineServicesNCE"}
    assert product["links"] == {
        "skus": {"uri": "/products/CFQ7TTC0LFLZ/skus?country=US", "method": "GET", "headers": []},
        "self": {"uri": "/products/CFQ7TTC0LFLZ?country=US", "method": "GET", "headers": []},
    }
    assert product["attributes"] == {"objectType": "Product"}
    assert product["isMicrosoftProduct"] is True


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("AzureReservationsVM", {"DZH318Z0BQ36"}),
        ("AzureReservationsSQL", {"DZH318Z0BQ4B"}),
        ("AzureReservations", {"DZH318Z0BQ36", "DZH318Z0BQ4B", "DZH318Z0BQ4Z"}),
        ("SoftwarePerpetual", {"DG7GMGF0DWTL", "DG7GMGF0DWM3"}),
        ("MarketplaceSaaS", {"DZH318Z0BXWC", "DZH318Z0C0WF"}),
        ("azure", {"DZH318Z0BQ36", "DZH318Z0BQ4B", "DZH318Z0BQ4Z", "CFQ7TTC0QZ04"}),
        ("SpecializedOffers", set()),
    ],
)
def test_target_views(api: Api, view: str, expected: set[str]) -> None:
    body = ok(api, f"/v1/products?country=gb&targetView={view}")
    assert {p["id"] for p in body["items"]} == expected


def test_target_segment_filters_products_skus_and_availabilities(api: Api) -> None:
    education = ok(api, "/v1/products?country=US&targetView=OnlineServices&targetSegment=education")
    assert [p["id"] for p in education["items"]] == ["CFQ7TTC0LFLZ"]
    availabilities = ok(
        api,
        "/v1/products/CFQ7TTC0LFLZ/skus/0002/availabilities?country=US&targetSegment=education",
    )
    assert [(a["id"], a["segment"]) for a in availabilities["items"]] == [
        ("CFQ7TTC0K4TT", "education")
    ]
    everything = ok(api, "/v1/products/CFQ7TTC0LFLZ/skus/0002/availabilities?country=US")
    assert {a["segment"] for a in everything["items"]} == {"commercial", "education"}
    # The education availability is not sold in Germany.
    german = ok(api, "/v1/products/CFQ7TTC0LFLZ/skus/0002/availabilities?country=DE")
    assert [a["id"] for a in german["items"]] == ["CFQ7TTC0K4TS"]


def test_a_filtered_list_links_to_itself_with_its_filter(api: Api) -> None:
    """The published availability list (get-a-list-of-availabilities-for-a-sku.md) keeps its
    segment in ``links.self``: ``…/availabilities?country=US&targetSegment=commercial``. The
    filter was dropped, so following the link listed every segment."""
    sku = "/products/CFQ7TTC0LFLZ/skus/0002"
    customer = api.new_customer("US")
    for path, expected in [
        (
            "/products?country=US&targetView=OnlineServices&TargetSegment=Education",
            "/products?targetView=OnlineServices&country=US&targetSegment=education",
        ),
        (
            "/products/CFQ7TTC0LFLZ/skus?country=us&targetSegment=education",
            "/products/CFQ7TTC0LFLZ/skus?country=US&targetSegment=education",
        ),
        (
            f"{sku}/availabilities?country=US&targetSegment=commercial",
            f"{sku}/availabilities?country=US&targetSegment=commercial",
        ),
        (f"{sku}/availabilities?country=US", f"{sku}/availabilities?country=US"),
        (
            f"/customers/{customer}{sku}/availabilities?targetSegment=education",
            f"/customers/{customer}{sku}/availabilities?targetSegment=education",
        ),
        (
            f"/customers/{customer}/products?targetView=OnlineServices&targetSegment=education",
            f"/customers/{customer}/products?targetView=OnlineServices&targetSegment=education",
        ),
    ]:
        body = ok(api, f"/v1{path}")
        assert body["links"]["self"]["uri"] == expected, path
        # Following the link gives the same list.
        assert ok(api, f"/v1{expected}")["items"] == body["items"], path


def test_product_sku_and_availability_by_id(api: Api) -> None:
    p, s, a = BUSINESS
    product = ok(api, f"/v1/products/{p}?country=US")
    assert product["id"] == p
    skus = ok(api, f"/v1/products/{p}/skus?country=US")
    assert skus["attributes"] == {"objectType": "Collection"}
    assert [x["id"] for x in skus["items"]] == [s]
    sku = ok(api, f"/v1/products/{p}/skus/{s}?country=US")
    assert sku == skus["items"][0]
    assert sku["productId"] == p
    assert (sku["minimumQuantity"], sku["maximumQuantity"]) == (1, 300)
    assert sku["supportedBillingCycles"] == ["monthly", "annual", "triennial"]
    assert sku["isTrial"] is False
    assert (
        sku["links"]["availabilities"]["uri"] == f"/products/{p}/skus/{s}/availabilities?country=US"
    )
    assert sku["attributes"] == {"objectType": "Sku"}
    availability = ok(api, f"/v1/products/{p}/skus/{s}/availabilities/{a}?country=US")
    assert availability["catalogItemId"] == f"{p}:{s}:{a}"
    assert availability["defaultCurrency"] == {"code": "USD", "symbol": "US$"}
    assert availability["country"] == "US"
    assert availability["isPurchasable"] is True
    plans = {(t["duration"], t["billingCycle"]) for t in availability["terms"]}
    assert plans == {
        ("P1M", "Monthly"),
        ("P1Y", "Annual"),
        ("P1Y", "Monthly"),
        ("P3Y", "Triennial"),
        ("P3Y", "Annual"),
        ("P3Y", "Monthly"),
    }
    term = availability["terms"][0]
    assert term["renewalOptions"] == [{"termDuration": "P1M", "description": "One-Month"}]
    assert term["cancellationPolicies"][0]["refundOptions"][0] == {
        "sequenceId": 1,
        "type": "Full",
        "expiresAfter": "P1D",
    }
    assert availability["attributes"] == {"objectType": "Availability"}
    # Prices and promotions stay inside the server: they are not catalog wire fields.
    assert "prices" not in availability and "promotions" not in availability


def test_ids_match_case_insensitively(api: Api) -> None:
    body = ok(api, "/v1/products/cfq7ttc0lflz/skus/0002/availabilities/cfq7ttc0k4ts?country=us")
    assert body["catalogItemId"] == "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS"


@pytest.mark.parametrize(
    ("country", "currency"), [("US", "USD"), ("GB", "GBP"), ("DE", "EUR"), ("FR", "EUR")]
)
def test_currency_follows_the_country(api: Api, country: str, currency: str) -> None:
    body = ok(api, f"/v1/products/DZH318Z0BQ36/skus/004G/availabilities?country={country}")
    assert [a["defaultCurrency"]["code"] for a in body["items"]] == [currency]


def test_reservation_trial_attestation_and_savings_plan_shapes(api: Api) -> None:
    ri = ok(api, "/v1/products/DZH318Z0BQ36/skus/004J?country=US")
    assert ri["supportedBillingCycles"] == ["one_time"]
    assert ri["provisioningVariables"] == ["Scope", "SubscriptionId"]
    assert "InventoryCheck" in ri["purchasePrerequisites"]
    trial = ok(api, "/v1/products/DZH318Z0C0WF/skus/0001?country=US")
    assert trial["isTrial"] is True and trial["supportedBillingCycles"] == ["none"]
    w365 = ok(api, "/v1/products/CFQ7TTC0HHS9/skus/0001?country=US")
    assert w365["attestationProperties"] == {
        "enforceAttestation": True,
        "attestationType": "Windows365",
    }
    addon = ok(api, "/v1/products/CFQ7TTC0LH0Z/skus/0001?country=US")
    assert addon["dynamicAttributes"]["isAddon"] is True
    assert addon["dynamicAttributes"]["prerequisiteSkus"] == ["CFQ7TTC0LH2H:0001"]
    plan = ok(api, "/v1/products/CFQ7TTC0QZ04/skus/0001?country=US")
    assert plan["minimumPurchaseCommitment"] == {"amount": 0.001, "grain": "hourly"}
    software = ok(api, "/v1/products/DG7GMGF0DWTL/skus/0001/availabilities?country=US")
    assert [a["terms"] for a in software["items"]] == [[], []]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/products?targetView=OnlineServices",
        "/v1/products?country=&targetView=OnlineServices",
        "/v1/products?country=USA&targetView=OnlineServices",
        "/v1/products?country=1A&targetView=OnlineServices",
        "/v1/products/CFQ7TTC0LFLZ",
        "/v1/products/CFQ7TTC0LFLZ/skus",
        "/v1/products/CFQ7TTC0LFLZ/skus/0002?country=U",
        "/v1/products/CFQ7TTC0LFLZ/skus/0002/availabilities",
        "/v1/products/CFQ7TTC0LFLZ/skus/0002/availabilities/CFQ7TTC0K4TS",
    ],
)
def test_missing_or_invalid_country_is_400(api: Api, path: str) -> None:
    body = refused(api, path, 400, 800002)
    assert body["data"] == ["country"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("country=US", "targetView"),
        ("country=US&targetView=Nope", "targetView"),
        ("country=US&targetView=OnlineServices&targetSegment=pirates", "targetSegment"),
    ],
)
def test_missing_or_unknown_target_view_or_segment_is_400(api: Api, query: str, field: str) -> None:
    assert refused(api, f"/v1/products?{query}", 400, 800002)["data"] == [field]


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/v1/products/NOPE?country=US", 400013),
        ("/v1/products/NOPE/skus?country=US", 400013),
        ("/v1/products/CFQ7TTC0LFLZ/skus/9999?country=US", 400018),
        ("/v1/products/CFQ7TTC0LFLZ/skus/9999/availabilities?country=US", 400018),
        ("/v1/products/CFQ7TTC0LFLZ/skus/0002/availabilities/NOPE?country=US", 400019),
        # Known ids, but not sold in Japan.
        ("/v1/products/CFQ7TTC0LFLZ?country=JP", 400013),
        # The education availability exists, but not in Germany.
        ("/v1/products/CFQ7TTC0LFLZ/skus/0002/availabilities/CFQ7TTC0K4TT?country=DE", 400019),
    ],
)
def test_unknown_product_sku_availability_is_404(api: Api, path: str, code: int) -> None:
    refused(api, path, 404, code)


def test_unserved_country_lists_nothing(api: Api) -> None:
    assert ok(api, "/v1/products?country=JP&targetView=OnlineServices")["items"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/v1/products?country=US&targetView=OnlineServices",
        "/v1/products/CFQ7TTC0LFLZ?country=US",
        "/v1/products/CFQ7TTC0LFLZ/skus/0002/availabilities?country=US",
        "/v1/customers/8f1b2a77-0000-4000-8000-000000000001/products/CFQ7TTC0LFLZ",
    ],
)
def test_catalog_needs_a_bearer_token(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 401
    assert response.json()["code"] == 800001
    response = api.client.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401


# The customer-scoped catalog: the country comes from the customer.


def test_customer_scoped_catalog_uses_the_customers_country(api: Api) -> None:
    customer = api.new_customer("DE")
    base = f"/v1/customers/{customer}"
    products = ok(api, f"{base}/products?targetView=OnlineServices")
    assert products["links"]["self"]["uri"] == (
        f"/customers/{customer}/products?targetView=OnlineServices"
    )
    assert "CFQ7TTC0LFLZ" in {p["id"] for p in products["items"]}
    p, s, a = BUSINESS
    product = ok(api, f"{base}/products/{p}")
    assert product["links"]["self"]["uri"] == f"/customers/{customer}/products/{p}"
    skus = ok(api, f"{base}/products/{p}/skus")
    assert [x["id"] for x in skus["items"]] == [s]
    assert ok(api, f"{base}/products/{p}/skus/{s}")["id"] == s
    availabilities = ok(api, f"{base}/products/{p}/skus/{s}/availabilities")
    # Germany: only the commercial availability, in euros; a country parameter is ignored.
    assert [(x["id"], x["country"]) for x in availabilities["items"]] == [(a, "DE")]
    availability = ok(api, f"{base}/products/{p}/skus/{s}/availabilities/{a}?country=US")
    assert availability["defaultCurrency"]["code"] == "EUR"
    assert availability["country"] == "DE"
    refused(api, f"{base}/products/{p}/skus/{s}/availabilities/CFQ7TTC0K4TT", 404, 400019)
    refused(api, f"{base}/products/NOPE", 404, 400013)
    refused(api, f"{base}/products/{p}/skus/0009", 404, 400018)
    refused(api, f"{base}/products", 400, 800002)  # targetView is still required


def test_customer_scoped_catalog_of_another_partners_customer(api: Api) -> None:
    customer = api.new_customer("US")
    other = api.as_partner("0f6b1a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b")
    response = other.get(f"/v1/customers/{customer}/products/CFQ7TTC0LFLZ")
    assert response.status_code == 403
    assert response.json()["code"] == 20002
    response = api.get("/v1/customers/not-a-guid/products/CFQ7TTC0LFLZ")
    assert response.status_code == 404
