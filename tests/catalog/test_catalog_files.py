"""User catalog files: on top of the default catalog or instead of it, and refused when wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from partnercart.cli.main import main
from partnercart.server.catalog import CatalogError, default_catalog, load_catalog
from partnercart.server.domain.clock import ManualClock
from partnercart.server.http.app import create_app
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import Settings
from tests.conftest import Api

BUSINESS = "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS"


def widget_product(product_id: str = "WIDGET000001", **sku: Any) -> dict[str, Any]:
    """A small license-based product sold in the US only, P1M monthly at 5.00."""
    return {
        "id": product_id,
        "title": "Contoso Widgets",
        "productType": {"id": "OnlineServicesNCE", "displayName": "OnlineServicesNCE"},
        "targetViews": ["OnlineServices"],
        "skus": [
            {
                "id": "0001",
                "title": "Widgets",
                "minimumQuantity": 2,
                "maximumQuantity": 10,
                "supportedBillingCycles": ["monthly"],
                "availabilities": [
                    {
                        "id": "AVAIL0001",
                        "countries": ["us"],
                        "terms": [{"duration": "P1M", "billingCycle": "Monthly"}],
                        "prices": [
                            {
                                "termDuration": "P1M",
                                "billingCycle": "monthly",
                                "listPrice": {"USD": 5.0},
                            }
                        ],
                    }
                ],
                **sku,
            }
        ],
    }


def write(tmp_path: Path, document: Any, name: str = "mine.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def test_a_file_extends_the_default(tmp_path: Path) -> None:
    catalog = load_catalog([write(tmp_path, {"products": [widget_product()]})])
    assert catalog.offer("WIDGET000001:0001:AVAIL0001") is not None
    assert catalog.offer(BUSINESS) is not None
    assert len(catalog.products) == len(default_catalog().products) + 1


def test_a_file_replaces_the_default(tmp_path: Path) -> None:
    catalog = load_catalog([write(tmp_path, {"products": [widget_product()]})], replace=True)
    assert list(catalog.products) == ["WIDGET000001"]
    assert catalog.offer(BUSINESS) is None
    assert catalog.legacy_offer("MS-AZR-0145P") is None


def test_a_later_product_replaces_one_with_the_same_id(tmp_path: Path) -> None:
    first = write(tmp_path, {"products": [widget_product()]}, "first.json")
    second = write(tmp_path, {"products": [widget_product(maximumQuantity=99)]}, "second.json")
    catalog = load_catalog([first, second])
    offer = catalog.offer("WIDGET000001:0001:AVAIL0001")
    assert offer is not None and offer.sku.maximum_quantity == 99
    # Replacing a default product by id takes the whole product, SKUs and availabilities.
    business = widget_product("CFQ7TTC0LFLZ")
    catalog = load_catalog([write(tmp_path, {"products": [business]}, "third.json")])
    assert catalog.offer(BUSINESS) is None
    assert catalog.offer("CFQ7TTC0LFLZ:0001:AVAIL0001") is not None


def test_legacy_offers_can_be_added(tmp_path: Path) -> None:
    legacy = {"id": "MS-AZR-0017P", "name": "Azure EA", "billingCycles": ["monthly"]}
    catalog = load_catalog([write(tmp_path, {"legacyOffers": [legacy]})])
    assert catalog.legacy_offer("ms-azr-0017p") is not None
    assert catalog.legacy_offer("MS-AZR-0145P") is not None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "mine.json"),
        ({"products": [widget_product(colour="blue")]}, "unknown field `colour`"),
        ({"products": [widget_product(), widget_product()]}, "appears twice"),
        ({"products": [widget_product("BAD:ID")]}, "without ':'"),
        ({"products": [widget_product(minimumQuantity=20)]}, "minimumQuantity"),
        ({"products": [widget_product(supportedBillingCycles=["annual"])]}, "supportedBilling"),
        ({"products": [widget_product(supportedBillingCycles=["weekly"])]}, "weekly"),
        ({"legacyOffers": [{"id": "A:B", "name": "x", "billingCycles": []}]}, "':'"),
        ({"products": [{"id": "X"}]}, "missing required field"),
    ],
)
def test_a_wrong_file_is_refused_with_a_message(
    tmp_path: Path, document: Any, message: str
) -> None:
    with pytest.raises(CatalogError, match=message) as caught:
        load_catalog([write(tmp_path, document)])
    assert "mine.json" in str(caught.value)


def test_bad_country_and_term_in_a_file(tmp_path: Path) -> None:
    product = widget_product()
    product["skus"][0]["availabilities"][0]["countries"] = ["USA"]
    with pytest.raises(CatalogError, match="two-letter"):
        load_catalog([write(tmp_path, {"products": [product]})])
    product = widget_product()
    product["skus"][0]["availabilities"][0]["terms"][0]["duration"] = "one month"
    with pytest.raises(CatalogError, match="duration"):
        load_catalog([write(tmp_path, {"products": [product]})])


def test_missing_file_and_replace_without_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog([tmp_path / "absent.json"])
    with pytest.raises(CatalogError, match="at least one"):
        load_catalog([], replace=True)


@pytest.fixture
def widget_api(tmp_path: Path, clock: ManualClock) -> Iterator[Api]:
    settings = Settings(
        data_dir=tmp_path / "data",
        catalog_files=(write(tmp_path, {"products": [widget_product()]}),),
        catalog_replace=True,
    )
    runtime = build_runtime(settings, clock=clock)
    try:
        with TestClient(create_app(runtime)) as client:
            yield Api(client, runtime, "5a0f0e4b-8c1d-4e2f-9a3b-4c5d6e7f8a9b")
    finally:
        runtime.close()


def test_a_server_with_its_own_catalog(widget_api: Api) -> None:
    body = widget_api.get("/v1/products?country=US&targetView=OnlineServices").json()
    assert [p["id"] for p in body["items"]] == ["WIDGET000001"]
    customer = widget_api.new_customer("US")
    cart = widget_api.post(
        f"/v1/customers/{customer}/carts",
        json={
            "lineItems": [
                {
                    "catalogItemId": "WIDGET000001:0001:AVAIL0001",
                    "quantity": 3,
                    "billingCycle": "monthly",
                    "termDuration": "P1M",
                },
                {
                    "catalogItemId": "WIDGET000001:0001:AVAIL0001",
                    "quantity": 1,
                    "billingCycle": "monthly",
                    "termDuration": "P1M",
                },
                {
                    "catalogItemId": BUSINESS,
                    "quantity": 1,
                    "billingCycle": "monthly",
                    "termDuration": "P1M",
                },
            ]
        },
    ).json()
    first, second, third = cart["lineItems"]
    assert first.get("error") is None and first["pricing"]["extendedPrice"] == 15.0
    assert second["error"]["errorCode"] == 10010  # the file's minimum is 2
    assert third["error"]["errorCode"] == 10001  # the default catalog is not served


def test_cli_serve_refuses_a_bad_catalog_file(tmp_path: Path) -> None:
    bad = write(tmp_path, {"products": [{"id": "X"}]})
    result = CliRunner().invoke(
        main,
        [
            "serve",
            "--no-access-log",  # serve would otherwise configure this process's access logger
            "--data-dir",
            str(tmp_path / "d"),
            "--catalog",
            str(bad),
            "--catalog-replace",
        ],
    )
    assert result.exit_code != 0
    assert "cannot start" in result.output and "mine.json" in result.output
    assert not (tmp_path / "d").exists()  # refused before anything was created


def test_cli_serve_help_lists_the_catalog_options() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert "--catalog " in result.output and "--catalog-replace" in result.output


def test_public_surface_of_the_catalog_package() -> None:
    import partnercart.server.catalog as package

    assert sorted(package.__all__) == [
        "Catalog",
        "CatalogError",
        "Offer",
        "default_catalog",
        "load_catalog",
    ]


def test_a_keyed_write_validates_against_the_servers_catalog(widget_api: Api) -> None:
    customer = widget_api.new_customer("US")
    line = {
        "catalogItemId": "WIDGET000001:0001:AVAIL0001",
        "quantity": 3,
        "billingCycle": "monthly",
        "termDuration": "P1M",
    }
    response = widget_api.post(
        f"/v1/customers/{customer}/carts",
        json={"lineItems": [line]},
        headers={"MS-RequestId": "6f1d2c3b-4a59-4e8f-9a0b-1c2d3e4f5a6b"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["lineItems"][0].get("error") is None


def test_catalog_settings_reach_worker_processes(tmp_path: Path) -> None:
    from partnercart.server.settings import settings_from_json, settings_to_json

    settings = Settings(
        catalog_files=(tmp_path / "a.json", tmp_path / "b.json"), catalog_replace=True
    )
    again = settings_from_json(settings_to_json(settings))
    assert again.catalog_files == settings.catalog_files
    assert again.catalog_replace is True
