"""Cart line validation through the HTTP API: one test (at least) per line error code."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

BUSINESS = "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS"  # license-based NCE, P1M/P1Y/P3Y
AAD_P1 = "CFQ7TTC0LFLS:0002:CFQ7TTC0KDLJ"
POWER_APPS = "CFQ7TTC0LH2H:0001:CFQ7TTC0KP0N"  # base of the AI Builder add-on
AI_BUILDER = "CFQ7TTC0LH0Z:0001:CFQ7TTC0K18P"  # add-on, prerequisite CFQ7TTC0LH2H:0001
TEAMS_PHONE = "CFQ7TTC0LH1P:0001:CFQ7TTC0KQ3D"  # add-on capped by the base seats
W365 = "CFQ7TTC0HHS9:0001:CFQ7TTC0J1DC"  # enforces attestation
TRIAL = "DZH318Z0C0WF:0001:DZH318Z0BP69"  # SaaS trial: none/P1M, renews to P1M or P1Y
RI_1Y = "DZH318Z0BQ36:004G:DZH318Z08C0S"
SOFTWARE = "DG7GMGF0DWM3:0002:DG7GMGF0DT1M"  # perpetual, one_time, no term
SOFTWARE_EDU = "DG7GMGF0DWM3:0002:DG7GMGF0DT1N"  # education segment
SAVINGS_PLAN = "CFQ7TTC0QZ04:0001:CFQ7TTC0QZ0B"
PROMOTION = "39NFJQT1PHSN:0008:39NFJQT1Q5J0"  # on BUSINESS, P1Y and P3Y terms
AZURE_SUB = "1C461A25-F729-4FA5-AADB-280947DD05E8"


def item(catalog_item_id: str, quantity: int = 1, **fields: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"catalogItemId": catalog_item_id, "quantity": quantity}
    line.update(fields)
    return line


def nce(catalog_item_id: str = BUSINESS, quantity: int = 1, **fields: Any) -> dict[str, Any]:
    fields.setdefault("billingCycle", "monthly")
    fields.setdefault("termDuration", "P1M")
    return item(catalog_item_id, quantity, **fields)


def ri(**context: str) -> dict[str, Any]:
    return item(RI_1Y, billingCycle="one_time", termDuration="P1Y", provisioningContext=context)


def savings(context: dict[str, str], **commitment: Any) -> dict[str, Any]:
    return item(
        SAVINGS_PLAN,
        billingCycle="one_time",
        termDuration="P1Y",
        provisioningContext=context,
        purchaseCommitment=commitment or {"amount": 0.05, "grain": "hourly", "currency": "usd"},
    )


def resellers(additional: int, direct: bool = True) -> list[dict[str, str]]:
    found = [{"key": "transaction_reseller", "value": "5357564"}] if direct else []
    found += [
        {"key": "additional_transaction_reseller", "value": str(517285 + n)}
        for n in range(additional)
    ]
    return found


def create(api: Api, customer: str, *lines: dict[str, Any], **cart: Any) -> dict[str, Any]:
    response = api.post(f"/v1/customers/{customer}/carts", json={"lineItems": list(lines), **cart})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def errors(cart: dict[str, Any]) -> list[int | None]:
    return [(line.get("error") or {}).get("errorCode") for line in cart["lineItems"]]


@pytest.fixture
def us(api: Api) -> str:
    return api.new_customer("US")


@pytest.fixture
def de(api: Api) -> str:
    return api.new_customer("DE")


# Valid lines: no error, prices from the catalog.


def test_valid_lines_of_every_kind_have_no_error(api: Api, us: str) -> None:
    cart = create(
        api,
        us,
        nce(BUSINESS, 2, billingCycle="monthly", termDuration="P1Y"),
        nce(BUSINESS, 1, billingCycle="triennial", termDuration="P3Y"),
        nce(POWER_APPS, 3),
        nce(AI_BUILDER, 1),
        nce(W365, 1, attestationAccepted=True),
        item(TRIAL, 10, billingCycle="none", termDuration="P1M", renewsTo={"termDuration": "P1Y"}),
        ri(subscriptionId=AZURE_SUB, scope="shared"),
        item(SOFTWARE, 2, billingCycle="one_time"),
        savings({"scope": "shared", "subscriptionId": AZURE_SUB}),
        item("MS-AZR-0145P", billingCycle="monthly", termDuration="P1Y"),
    )
    assert errors(cart) == [None] * 10, cart["lineItems"]
    assert {line["currencyCode"] for line in cart["lineItems"]} == {"USD"}


def test_pricing_p1y_monthly_is_twelve_monthly_prices(api: Api, us: str) -> None:
    cart = create(api, us, nce(BUSINESS, 1, termDuration="P1Y"), nce(BUSINESS, 3))
    first, second = (line["pricing"] for line in cart["lineItems"])
    # The 2023 sample: a P1Y/monthly line priced 30.4 a month extends to 364.8.
    assert first == {
        "listPrice": 30.4,
        "discountedPrice": 30.4,
        "proratedPrice": 30.4,
        "price": 30.4,
        "extendedPrice": 364.8,
    }
    assert second["price"] == 36.48
    assert second["extendedPrice"] == pytest.approx(3 * 36.48)


def test_pricing_follows_the_market_currency(api: Api, de: str) -> None:
    api_gb = api.new_customer("GB")
    de_line = create(api, de, nce(BUSINESS, 1, termDuration="P1Y"))["lineItems"][0]
    gb_line = create(api, api_gb, nce(BUSINESS, 1, termDuration="P1Y"))["lineItems"][0]
    assert (de_line["currencyCode"], gb_line["currencyCode"]) == ("EUR", "GBP")
    assert de_line["pricing"]["price"] != gb_line["pricing"]["price"]


def test_pricing_of_annual_triennial_one_time_and_savings_plan(api: Api, us: str) -> None:
    cart = create(
        api,
        us,
        nce(BUSINESS, 2, billingCycle="annual", termDuration="P3Y"),
        nce(BUSINESS, 1, billingCycle="triennial", termDuration="P3Y"),
        item(SOFTWARE, 2, billingCycle="one_time"),
        savings({"scope": "shared", "subscriptionId": AZURE_SUB}),
    )
    annual, triennial, software, plan = (line["pricing"] for line in cart["lineItems"])
    assert annual["price"] == 364.8 and annual["extendedPrice"] == pytest.approx(364.8 * 3 * 2)
    assert triennial["extendedPrice"] == triennial["price"]
    assert software["extendedPrice"] == pytest.approx(software["price"] * 2)
    assert plan["price"] == pytest.approx(0.05 * 730 * 12)


def test_a_line_with_an_error_has_no_pricing(api: Api, us: str) -> None:
    line = create(api, us, nce(BUSINESS, 0))["lineItems"][0]
    assert line["error"]["errorCode"] == 10010
    assert "pricing" not in line


# 10001: invalid catalog item.


@pytest.mark.parametrize(
    "catalog_item_id",
    [
        "NOTANITEM",  # neither P:S:A nor a known legacy offer
        "CFQ7TTC0LFLZ:0002",  # malformed
        "CFQ7TTC0LFLZ:0002:CFQ7TTC0XXXX",  # unknown availability
        "00000000-0000-0000-0000-000000000000",  # unknown legacy offer
    ],
)
def test_10001_unknown_or_malformed_catalog_item(api: Api, us: str, catalog_item_id: str) -> None:
    line = create(api, us, nce(catalog_item_id))["lineItems"][0]
    assert line["error"]["errorCode"] == 10001
    assert line["error"]["errorDescription"]


def test_10001_item_not_sold_in_the_customers_country(api: Api) -> None:
    japan = api.new_customer("JP")
    line = create(api, japan, nce(BUSINESS))["lineItems"][0]
    assert line["error"]["errorCode"] == 10001
    assert line["error"]["additionalInformation"] == {"country": "JP"}


def test_10001_availability_of_another_segment(api: Api, us: str) -> None:
    line = create(api, us, item(SOFTWARE_EDU, billingCycle="one_time"))["lineItems"][0]
    assert line["error"]["errorCode"] == 10001
    assert line["error"]["additionalInformation"] == {"segment": "education"}


def test_catalog_item_ids_match_case_insensitively(api: Api, us: str) -> None:
    assert errors(create(api, us, nce(BUSINESS.lower()))) == [None]


# 10013: term and billing cycle.


@pytest.mark.parametrize(
    ("catalog_item_id", "cycle", "term"),
    [
        (BUSINESS, "annual", "P1M"),  # billing cycle longer than the term
        (BUSINESS, "triennial", "P1Y"),
        (BUSINESS, "monthly", "P2Y"),
        (BUSINESS, None, "P1M"),  # billing cycle missing: unknown
        (POWER_APPS, "monthly", "P3Y"),  # this SKU has no three-year term
        (SOFTWARE, "one_time", "P1Y"),  # perpetual software has no term
        (SOFTWARE, "monthly", None),
        (RI_1Y, "one_time", "P3Y"),  # the one-year reservation SKU
        (TRIAL, "monthly", "P1M"),  # a trial bills none
    ],
)
def test_10013_term_and_billing_cycle_not_offered(
    api: Api, us: str, catalog_item_id: str, cycle: str | None, term: str | None
) -> None:
    line: dict[str, Any] = {"catalogItemId": catalog_item_id, "quantity": 1}
    if cycle:
        line["billingCycle"] = cycle
    if term:
        line["termDuration"] = term
    line["provisioningContext"] = {"scope": "shared", "subscriptionId": AZURE_SUB}
    found = create(api, us, line)["lineItems"][0]
    assert found["error"]["errorCode"] == 10013, found
    assert found["error"]["additionalInformation"]["supportedTerms"]


def test_10013_renews_to_a_term_the_trial_does_not_offer(api: Api, us: str) -> None:
    found = create(
        api,
        us,
        item(TRIAL, 10, billingCycle="none", termDuration="P1M", renewsTo={"termDuration": "P3Y"}),
    )["lineItems"][0]
    assert found["error"]["errorCode"] == 10013
    assert found["error"]["additionalInformation"] == {"renewalTermDurations": ["P1M", "P1Y"]}


def test_10013_legacy_offer_billing_cycle(api: Api, us: str) -> None:
    found = create(api, us, item("MS-AZR-0145P", billingCycle="annual"))["lineItems"][0]
    assert found["error"]["errorCode"] == 10013


# Quantity: 10010 (InvalidInput) outside the SKU's range; 10019 for an add-on below its minimum.


@pytest.mark.parametrize("quantity", [0, 301])
def test_10010_quantity_outside_the_sku_range(api: Api, us: str, quantity: int) -> None:
    found = create(api, us, nce(BUSINESS, quantity))["lineItems"][0]
    assert found["error"]["errorCode"] == 10010
    assert found["error"]["additionalInformation"] == {
        "minimumQuantity": 1,
        "maximumQuantity": 300,
        "requestedQuantity": quantity,
    }


def test_quantity_at_the_limits_is_valid(api: Api, us: str) -> None:
    assert errors(create(api, us, nce(BUSINESS, 1), nce(BUSINESS, 300))) == [None, None]


def test_10019_add_on_below_its_minimum_seats(api: Api, us: str) -> None:
    found = create(api, us, nce(POWER_APPS, 2), nce(AI_BUILDER, 0))["lineItems"]
    assert found[1]["error"]["errorCode"] == 10019
    assert found[0].get("error") is None


# 10012: attestation.


@pytest.mark.parametrize("accepted", [None, False])
def test_10012_attestation_required(api: Api, us: str, accepted: bool | None) -> None:
    line = nce(W365)
    if accepted is not None:
        line["attestationAccepted"] = accepted
    found = create(api, us, line)["lineItems"][0]
    assert found["error"]["errorCode"] == 10012
    assert found["error"]["additionalInformation"] == {"attestationType": "Windows365"}


# 10014: promotion.


def test_10014_unknown_promotion(api: Api, us: str) -> None:
    found = create(api, us, nce(BUSINESS, termDuration="P1Y", promotionId="NOPE:0001:NOPE"))
    assert errors(found) == [10014]


def test_10014_promotion_not_for_this_term(api: Api, us: str) -> None:
    found = create(api, us, nce(BUSINESS, termDuration="P1M", promotionId=PROMOTION))
    assert errors(found) == [10014]


def test_known_promotion_is_accepted(api: Api, us: str) -> None:
    found = create(api, us, nce(BUSINESS, termDuration="P1Y", promotionId=PROMOTION))
    assert errors(found) == [None]
    assert found["lineItems"][0]["promotionId"] == PROMOTION


# 10016 / 10017: customTermEndDate. The test clock starts 2026-03-01.


@pytest.mark.parametrize(
    "line",
    [
        item(SOFTWARE, billingCycle="one_time"),
        item(TRIAL, 10, billingCycle="none", termDuration="P1M"),
        ri(subscriptionId=AZURE_SUB, scope="shared"),
        item(
            "DZH318Z0BXWC:0002:DZH318Z0BMRV", billingCycle="monthly", termDuration="P1M"
        ),  # SaaS, not license-based NCE
    ],
)
def test_10016_custom_term_end_date_on_a_product_without_one(
    api: Api, us: str, line: dict[str, Any]
) -> None:
    line = {**line, "customTermEndDate": "2026-03-31T00:00:00Z"}
    assert errors(create(api, us, line)) == [10016]


@pytest.mark.parametrize(
    ("term", "end"),
    [
        ("P1M", "2026-03-15T00:00:00Z"),  # not a month end (and no subscription ends then)
        ("P1M", "2026-04-30T00:00:00Z"),  # after the first term (ends 2026-03-31)
        ("P1Y", "2026-02-28T00:00:00Z"),  # in the past
        ("P1Y", "2026-03-01T00:00:00Z"),  # today
        ("P1Y", "2027-03-31T00:00:00Z"),  # after the first term (ends 2027-02-28)
        # At the edges of the calendar, an offset puts the UTC day outside it (these were 500s).
        ("P1M", "9999-12-31T23:59:59-08:00"),
        ("P1Y", "0001-01-01T00:00:00+08:00"),
    ],
)
def test_10017_custom_term_end_date_rules(api: Api, us: str, term: str, end: str) -> None:
    found = create(api, us, nce(BUSINESS, termDuration=term, customTermEndDate=end))
    assert errors(found) == [10017], found["lineItems"][0]
    info = found["lineItems"][0]["error"]["additionalInformation"]
    assert info["termStartDate"] == "2026-03-01T00:00:00Z"


@pytest.mark.parametrize(
    ("term", "end"),
    [
        ("P1M", "2026-03-31T00:00:00Z"),
        ("P1Y", "2026-11-30T00:00:00Z"),
        ("P1Y", "2027-01-31T00:00:00"),
        # A date alone, or a time without seconds, as .NET's DateTime reads them (they were 400).
        ("P1M", "2026-03-31"),
        ("P1Y", "2027-01-31T00:00Z"),
        ("P1Y", "2027-01-31 00:00"),
    ],
)
def test_calendar_month_end_custom_term_end_date_is_valid(
    api: Api, us: str, term: str, end: str
) -> None:
    found = create(api, us, nce(BUSINESS, termDuration=term, customTermEndDate=end))
    assert errors(found) == [None], found["lineItems"][0]
    echoed = found["lineItems"][0]["customTermEndDate"]
    assert echoed.startswith(end[:10] + "T00:00:00"), echoed


# 10018: add-on and its base offer.


def test_10018_add_on_without_its_base_in_the_cart(api: Api, us: str) -> None:
    # The published cart pairs the AI Builder add-on with AAD P1, which is not its base.
    found = create(api, us, nce(AI_BUILDER), nce(AAD_P1, 2, termDuration="P1Y"))["lineItems"]
    assert found[0]["error"]["errorCode"] == 10018
    assert found[0]["error"]["additionalInformation"] == {
        "prerequisiteSkus": ["CFQ7TTC0LH2H:0001"],
        "availableQuantity": 0,
        "purchasedQuantity": 1,
    }
    assert "pricing" not in found[0]
    assert found[1].get("error") is None


def test_10018_seat_capped_add_on_above_the_base_seats(api: Api, us: str) -> None:
    found = create(api, us, nce(BUSINESS, 3), nce(TEAMS_PHONE, 4))["lineItems"]
    assert found[1]["error"]["errorCode"] == 10018
    assert found[1]["error"]["additionalInformation"]["availableQuantity"] == 3
    ok = create(
        api, us, nce(BUSINESS, 3), nce(BUSINESS, 1, termDuration="P1Y"), nce(TEAMS_PHONE, 4)
    )
    assert errors(ok) == [None, None, None]


def test_10018_counts_a_capped_add_on_over_all_its_lines_and_owned_subscriptions(
    api: Api, us: str
) -> None:
    """Two lines of 2 seats each on 2 base seats is 4 add-on seats: refused as one line of 4
    is, and so is a later cart that adds 2 more to the 2 the customer already owns."""
    split = create(api, us, nce(BUSINESS, 2), nce(TEAMS_PHONE, 2), nce(TEAMS_PHONE, 2))
    assert errors(split) == [None, 10018, 10018]
    info = split["lineItems"][1]["error"]["additionalInformation"]
    assert (info["availableQuantity"], info["addonQuantityInAll"]) == (2, 4)
    first = create(api, us, nce(BUSINESS, 2), nce(TEAMS_PHONE, 2))
    assert errors(first) == [None, None]
    done = api.post(f"/v1/customers/{us}/carts/{first['id']}/checkout")
    assert done.status_code == 201, done.text
    more = create(api, us, nce(TEAMS_PHONE, 2))
    assert errors(more) == [10018]
    assert errors(create(api, us, nce(BUSINESS, 2), nce(TEAMS_PHONE, 2))) == [None, None]


def test_capacity_add_on_is_not_capped_by_base_seats(api: Api, us: str) -> None:
    assert errors(create(api, us, nce(POWER_APPS, 1), nce(AI_BUILDER, 5))) == [None, None]


# Resellers: at most five additional resellers (10010), only in EU/EFTA (10004), and the
# cart-level partner-of-record attestation (900206).


def test_more_than_five_additional_resellers(api: Api, de: str) -> None:
    good = create(api, de, nce(participants=resellers(5)), partnerOnRecordAttestationAccepted=True)
    assert errors(good) == [None]
    bad = create(api, de, nce(participants=resellers(6)), partnerOnRecordAttestationAccepted=True)
    assert errors(bad) == [10010]
    assert bad["lineItems"][0]["error"]["additionalInformation"] == {
        "maximumAdditionalTransactionResellers": 5
    }


def test_additional_resellers_outside_eu_efta(api: Api, us: str) -> None:
    found = create(api, us, nce(participants=resellers(1)), partnerOnRecordAttestationAccepted=True)
    assert errors(found) == [10004]
    assert found["lineItems"][0]["error"]["additionalInformation"] == {"country": "US"}
    norway = api.new_customer("NO")
    found = create(
        api,
        norway,
        item("MS-AZR-0145P", billingCycle="monthly", participants=resellers(2)),
        partnerOnRecordAttestationAccepted=True,
    )
    assert errors(found) == [None]


def test_two_transaction_resellers(api: Api, us: str) -> None:
    two = [
        {"key": "transaction_reseller", "value": "1"},
        {"key": "transaction_reseller", "value": "2"},
    ]
    found = create(api, us, nce(participants=two), partnerOnRecordAttestationAccepted=True)
    assert errors(found) == [10010]


@pytest.mark.parametrize("attested", [None, False])
def test_partner_attestation_needed_when_resellers_are_named(
    api: Api, us: str, attested: bool | None
) -> None:
    extra = {} if attested is None else {"PartnerOnRecordAttestationAccepted": attested}
    found = create(api, us, nce(participants=resellers(0)), nce(), **extra)
    assert errors(found) == [900206, None]
    fixed = create(api, us, nce(participants=resellers(0)), PartnerOnRecordAttestationAccepted=True)
    assert errors(fixed) == [None]


# Provisioning context keys.


@pytest.mark.parametrize(
    ("context", "missing"),
    [
        ({}, ["Scope", "SubscriptionId"]),
        ({"scope": "shared"}, ["SubscriptionId"]),
        ({"SubscriptionId": AZURE_SUB, "Scope": ""}, ["Scope"]),
    ],
)
def test_reservation_needs_scope_and_subscription(
    api: Api, us: str, context: dict[str, str], missing: list[str]
) -> None:
    found = create(api, us, ri(**context))["lineItems"][0]
    assert found["error"]["errorCode"] == 10010
    assert found["error"]["additionalInformation"] == {"missingProvisioningContextKeys": missing}


def test_reservation_with_an_unknown_scope(api: Api, us: str) -> None:
    found = create(api, us, ri(subscriptionId=AZURE_SUB, scope="galaxy"))
    assert errors(found) == [900312]


def test_reservation_context_keys_any_case(api: Api, us: str) -> None:
    found = create(api, us, ri(SubscriptionId=AZURE_SUB, Scope="Single", Duration="1Year"))
    assert errors(found) == [None]


def test_savings_plan_scope_rules(api: Api, us: str) -> None:
    cart = create(
        api,
        us,
        savings({"scope": "shared"}),
        savings({"scope": "single"}),
        savings({"scope": "single", "subscriptionId": AZURE_SUB}),
        savings({"scope": "single", "entitlementId": AZURE_SUB}),
        savings({}),
    )
    assert errors(cart) == [900317, 900313, 900313, None, 10010]


def test_savings_plan_commitment(api: Api, us: str) -> None:
    context = {"scope": "shared", "subscriptionId": AZURE_SUB}
    line = savings(context)
    del line["purchaseCommitment"]
    cart = create(
        api,
        us,
        line,
        savings(context, amount=0.0001, grain="hourly"),
        savings(context, amount=0.05, grain="hourly", currency="eur"),
    )
    assert errors(cart) == [10010, 10010, 10000]


def test_savings_plan_commitment_too_large_to_price(api: Api, us: str) -> None:
    """A commitment past the maximum is 10010: at 1e308 an hour the price was infinite and went
    out as ``"price": null`` (and the order's total as 0.0)."""
    context = {"scope": "shared", "subscriptionId": AZURE_SUB}
    cart = create(
        api,
        us,
        savings(context, amount=1e308, grain="hourly"),
        savings(context, amount=1e9 + 1, grain="hourly"),
        savings(context, amount=1e9, grain="hourly"),
    )
    assert errors(cart) == [10010, 10010, None]
    too_large = cart["lineItems"][0]
    assert "pricing" not in too_large
    assert too_large["error"]["additionalInformation"] == {
        "maximumPurchaseCommitment": 1e9,
        "grain": "hourly",
    }
    assert cart["lineItems"][2]["pricing"]["extendedPrice"] == 1e9 * 730 * 12


# Legacy offers and nested add-ons.


def test_legacy_cart_with_nested_add_ons(api: Api, us: str) -> None:
    cart = create(
        api,
        us,
        item(
            "91FD106F-4B2C-4938-95AC-F54F74E9A239",
            3,
            billingCycle="monthly",
            addonItems=[
                item("C94271D8-B431-4A25-A3C5-A57737A1C909", 2, billingCycle="monthly"),
                item("91FD106F-4B2C-4938-95AC-F54F74E9A239", 1, billingCycle="monthly"),
            ],
        ),
    )
    line = cart["lineItems"][0]
    assert line.get("error") is None
    assert line["addonItems"][0].get("error") is None
    assert line["addonItems"][1]["error"]["errorCode"] == 10001  # not an add-on
    assert {line["orderGroup"], *(a["orderGroup"] for a in line["addonItems"])} == {"OMS-0"}


def test_legacy_add_on_alone_needs_a_parent_subscription(api: Api, us: str) -> None:
    addon = "C94271D8-B431-4A25-A3C5-A57737A1C909"
    cart = create(
        api,
        us,
        item(addon, billingCycle="annual"),
        item(addon, billingCycle="annual", provisioningContext={"ParentSubscriptionId": AZURE_SUB}),
    )
    assert errors(cart) == [10010, None]


def test_new_commerce_line_with_nested_add_ons(api: Api, us: str) -> None:
    found = create(api, us, nce(POWER_APPS, addonItems=[nce(AI_BUILDER)]))
    assert errors(found) == [10010]


# Update (PUT) validates the same way, and fixing a line clears its error.


def test_put_validates_and_clears_errors(api: Api, us: str) -> None:
    cart = create(api, us, nce(W365))
    assert errors(cart) == [10012]
    cart["lineItems"][0]["attestationAccepted"] = True
    response = api.put(f"/v1/customers/{us}/carts/{cart['id']}", json=cart)
    assert response.status_code == 201, response.text
    assert errors(response.json()) == [None]
    assert (
        response.json()["lineItems"][0]["pricing"]["price"] == 49.2
    )  # P1M: 1.2 x the annual-term monthly price
    cart = response.json()  # its etag is the current one
    cart["lineItems"][0]["quantity"] = 1000
    response = api.put(f"/v1/customers/{us}/carts/{cart['id']}", json=cart)
    assert response.status_code == 201, response.text
    assert errors(response.json()) == [10010]
    again = api.get(f"/v1/customers/{us}/carts/{cart['id']}").json()
    assert errors(again) == [10010]


def test_client_sent_errors_and_pricing_are_ignored(api: Api, us: str) -> None:
    sent = nce(BUSINESS)
    sent["error"] = {"errorCode": 10001, "errorDescription": "from the client"}
    sent["pricing"] = {"price": 0.01}
    line = create(api, us, sent)["lineItems"][0]
    assert line.get("error") is None
    assert line["pricing"]["price"] == 36.48


def test_validation_on_each_database(db_api: Api) -> None:
    customer = db_api.new_customer("GB")
    cart = create(db_api, customer, nce(W365), nce(BUSINESS, 2, termDuration="P1Y"))
    assert errors(cart) == [10012, None]
    assert cart["lineItems"][1]["currencyCode"] == "GBP"
    cart["lineItems"][0]["attestationAccepted"] = True
    response = db_api.put(f"/v1/customers/{customer}/carts/{cart['id']}", json=cart)
    assert errors(response.json()) == [None, None]
    stored = db_api.get(f"/v1/customers/{customer}/carts/{cart['id']}").json()
    assert stored["lineItems"] == response.json()["lineItems"]
