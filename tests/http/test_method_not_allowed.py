"""405 answers name every method the path serves (found by schemathesis: Starlette named only
the methods of the first route whose path matched)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/customers", "GET, HEAD, POST"),
        ("OPTIONS", "/v1/customers", "GET, HEAD, POST"),
        ("PATCH", "/v1/customers/{customer}/carts/{cart}", "GET, HEAD, PUT"),
        ("DELETE", "/v1/customers/{customer}", "GET, HEAD"),
    ],
)
def test_allow_lists_every_method_of_the_path(
    api: Any, method: str, path: str, allowed: str
) -> None:
    customer = api.new_customer()
    path = path.format(customer=customer, cart="00000000-0000-4000-8000-000000000000")
    response = api.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json()["description"].endswith(f"allowed: {allowed}.")
