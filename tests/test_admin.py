"""The admin credential that guards the control routes: the admin key, never a partner token."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from starlette.testclient import TestClient

from partnercart.server.http.app import create_app
from partnercart.server.identity import keys
from partnercart.server.identity.keys import load_or_create_admin_key
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import AuthSettings, Settings

if TYPE_CHECKING:
    from tests.conftest import Api

ROUTE = "/_partnercart/partners"


def assert_refused(response: Any, code: int, words: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["code"] == code
    assert words in body["description"]
    assert set(body) == {"code", "description", "data", "source"}
    assert response.headers["www-authenticate"].startswith('Bearer realm="partnercart-admin"')


def test_admin_key_is_made_on_first_start_with_mode_0600(api: Api) -> None:
    path = api.runtime.settings.data_dir / "admin-key"
    assert path.read_text().strip() == api.runtime.admin_key
    assert len(api.runtime.admin_key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_admin_key_is_kept_across_starts(tmp_path: Path) -> None:
    first = load_or_create_admin_key(tmp_path)
    assert load_or_create_admin_key(tmp_path) == first
    assert load_or_create_admin_key(tmp_path / "other") != first


def test_a_made_admin_key_never_starts_with_a_dash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pytest's own option parser read "--partnercart-admin-key -Abc..." as two options.
    made = iter(["-" + "a" * 42, "b" * 43])
    monkeypatch.setattr(keys.secrets, "token_urlsafe", lambda size: next(made))
    assert load_or_create_admin_key(tmp_path) == "b" * 43


def test_partners_lists_owners_of_customers_with_the_admin_key(api: Api) -> None:
    b = api.as_partner(str(uuid.uuid4()))
    api.new_customer()
    api.new_customer()
    b.new_customer()
    api.as_partner(str(uuid.uuid4()))  # a partner with a token but no customers: not listed
    response = api.client.get(ROUTE, headers={"Authorization": f"Bearer {api.runtime.admin_key}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["items"]) == 2
    assert {(p["id"], p["customers"]) for p in body["items"]} == {
        (api.partner_id, 2),
        (b.partner_id, 1),
    }
    assert [p["id"] for p in body["items"]] == sorted(p["id"] for p in body["items"])


def test_admin_key_header_works_too(api: Api) -> None:
    response = api.client.get(ROUTE, headers={"X-Partnercart-Admin-Key": api.runtime.admin_key})
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []


def test_valid_partner_token_is_refused(api: Api) -> None:
    api.new_customer()
    assert api.get("/v1/customers").status_code == 200  # the token is good for the API
    assert_refused(api.get(ROUTE), 400, "a partner token is not an admin credential")
    response = api.client.get(ROUTE, headers={"X-Partnercart-Admin-Key": api.token})
    assert_refused(response, 400, "a partner token is not an admin credential")


def test_missing_admin_key_is_refused(api: Api) -> None:
    assert_refused(api.client.get(ROUTE), 800001, "Admin key missing")


def test_wrong_admin_key_is_refused(api: Api) -> None:
    wrong = api.runtime.admin_key[:-1] + ("A" if api.runtime.admin_key[-1] != "A" else "B")
    response = api.client.get(ROUTE, headers={"Authorization": f"Bearer {wrong}"})
    assert_refused(response, 400, "the admin key is not valid")
    response = api.client.get(ROUTE, headers={"X-Partnercart-Admin-Key": "x"})
    assert_refused(response, 400, "the admin key is not valid")


def test_admin_key_in_another_scheme_is_refused(api: Api) -> None:
    response = api.client.get(ROUTE, headers={"Authorization": f"Basic {api.runtime.admin_key}"})
    assert_refused(response, 400, "control routes take the admin key")


def test_admin_key_is_not_a_partner_token(api: Api) -> None:
    response = api.client.get(
        "/v1/customers", headers={"Authorization": f"Bearer {api.runtime.admin_key}"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == 400


def test_admin_key_from_settings(tmp_path: Path) -> None:
    key = "configured-admin-key-0123456789"
    settings = Settings(data_dir=tmp_path / "data", auth=AuthSettings(admin_key=key))
    runtime = build_runtime(settings)
    try:
        assert not (tmp_path / "data" / "admin-key").exists()
        with TestClient(create_app(runtime)) as client:
            ok = client.get(ROUTE, headers={"X-Partnercart-Admin-Key": key})
            assert ok.status_code == 200, ok.text
            bad = client.get(ROUTE, headers={"X-Partnercart-Admin-Key": key + "x"})
            assert bad.status_code == 401
    finally:
        runtime.close()


def test_partners_on_both_databases(db_api: Api) -> None:
    db_api.new_customer()
    key = db_api.runtime.admin_key
    body = db_api.client.get(ROUTE, headers={"X-Partnercart-Admin-Key": key}).json()
    assert [(p["id"], p["customers"]) for p in body["items"]] == [(db_api.partner_id, 1)]
