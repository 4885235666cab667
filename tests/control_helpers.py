"""Helpers shared by the control-plane tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api


def line(quantity: int = 1, catalog: str = "CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS") -> dict[str, Any]:
    return {
        "catalogItemId": catalog,
        "quantity": quantity,
        "termDuration": "P1M",
        "billingCycle": "monthly",
    }


class Admin:
    """Calls the control routes of the app behind ``api`` with the admin key."""

    def __init__(self, api: Api) -> None:
        self.client = api.client
        self.key = api.runtime.admin_key

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"X-Partnercart-Admin-Key": self.key, **kwargs.pop("headers", {})}
        return self.client.request(method, f"/_partnercart{path}", headers=headers, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json() if response.content else None


def new_cart(api: Api, customer: str, quantity: int = 1) -> dict[str, Any]:
    response = api.post(f"/v1/customers/{customer}/carts", json={"lineItems": [line(quantity)]})
    assert response.status_code == 201, response.text
    return dict(response.json())
