"""The dashboard in headless Chromium (Debian's package, driven by Playwright), against a real
server process. Each test saves a screenshot under artifacts/screenshots/."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from partnercart.server.identity.keys import read_admin_key
from tests.servers import Partner, ServerProcess, line, running

CHROMIUM = os.environ.get("PARTNERCART_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing: run scripts/ensure-browser"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api")


class Scene:
    def __init__(self, server: ServerProcess, page: Any) -> None:
        self.server = server
        self.page = page
        self.partner = Partner(server.data_dir)
        key = read_admin_key(server.data_dir)
        assert key
        self.key = key

    def open(self) -> None:
        page = self.page
        page.goto(f"{self.server.url}/_partnercart/ui")
        page.fill("#key-input", self.key)
        page.click("#key-form button[type=submit]")
        page.wait_for_selector(f"#partners li[data-partner='{self.partner.tenant}']")

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def scene(tmp_path: Path, browser: Any) -> Iterator[Scene]:
    with running(ServerProcess(tmp_path / "data")) as (server,):
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield Scene(server, page)
        finally:
            context.close()
        assert errors == [], errors


def test_dashboard_shows_a_cart_made_through_the_api(scene: Scene) -> None:
    customer = scene.partner.new_customer(scene.server.url)
    cart = scene.partner.new_cart(scene.server.url, customer, [line(2)])
    scene.open()
    row = scene.page.locator(f"tr[data-cart='{cart['id']}']")
    row.wait_for()
    assert "Active" in row.locator(".cart-state").inner_text()
    assert "\u00d7 2" in row.inner_text()
    # The page loads each panel with its own request, all at once: wait for each one.
    sync_api.expect(scene.page.locator("#customers")).to_contain_text(customer)
    sync_api.expect(scene.page.locator("#requests")).to_contain_text("POST")
    sync_api.expect(scene.page.locator("#orders")).to_contain_text("none")
    scene.shot("dashboard-cart")


def test_advancing_the_clock_from_the_page_expires_the_cart(scene: Scene) -> None:
    url = scene.server.url
    customer = scene.partner.new_customer(url)
    cart = scene.partner.new_cart(url, customer, [line(1)])
    scene.open()
    state = scene.page.locator(f"tr[data-cart='{cart['id']}'] .cart-state")
    state.wait_for()
    assert state.inner_text() == "Active"
    before = scene.page.locator("#clock-now").inner_text()
    scene.page.click("#advance-p1d")
    scene.page.wait_for_function(
        "before => document.getElementById('clock-now').textContent !== before", arg=before
    )
    assert state.inner_text() == "Active"  # one day is not enough
    scene.page.click("#advance-p7d")
    sync_api.expect(state).to_have_text("Expired")
    got = httpx.get(
        f"{url}/v1/customers/{customer}/carts/{cart['id']}", headers=scene.partner.headers
    )
    assert got.status_code == 404 and got.json()["code"] == 800008
    scene.shot("dashboard-clock-expired")


def test_an_order_shows_its_status_on_the_partners_clock(scene: Scene) -> None:
    """The order panel shows what GET .../orders answers: pending until provisioned, then
    completed once the page's own clock button has moved the partner's clock on."""
    url = scene.server.url
    customer = scene.partner.new_customer(url)
    cart = scene.partner.new_cart(url, customer, [line(1)])
    done = httpx.post(
        f"{url}/v1/customers/{customer}/carts/{cart['id']}/checkout", headers=scene.partner.headers
    )
    assert done.status_code == 201, done.text
    order_id = done.json()["orders"][0]["id"]
    scene.open()
    status = scene.page.locator(f"tr[data-order='{order_id}'] .order-status")
    status.wait_for()
    assert status.inner_text() == "pending"
    scene.page.click("#advance-p1d")
    sync_api.expect(status).to_have_text("completed")
    got = httpx.get(
        f"{url}/v1/customers/{customer}/orders/{order_id}", headers=scene.partner.headers
    )
    assert got.json()["status"] == "completed"
    scene.shot("dashboard-order-completed")


def test_adding_a_fault_rule_from_the_page(scene: Scene) -> None:
    url = scene.server.url
    scene.partner.new_customer(url)
    scene.open()
    page = scene.page
    page.fill("#fault-partner", scene.partner.tenant)
    page.fill("#fault-route", "/v1/customers")
    page.fill("#fault-status", "503")
    page.fill("#fault-form input[name=times]", "1")
    page.click("#fault-add")
    rule_row = page.locator("#faults tr[data-rule]")
    rule_row.wait_for()
    assert "503" in rule_row.inner_text() and "/v1/customers" in rule_row.inner_text()
    answered = httpx.get(f"{url}/v1/customers", headers=scene.partner.headers)
    assert answered.status_code == 503
    assert set(answered.json()) == {"code", "description", "data", "source"}
    listed = httpx.get(
        f"{url}/_partnercart/faults", headers={"X-Partnercart-Admin-Key": scene.key}
    ).json()["items"]
    assert listed[0]["fired"] == 1 and listed[0]["spent"] is True
    page.click("#refresh")
    sync_api.expect(page.locator("#requests")).to_contain_text("fault: status")
    sync_api.expect(rule_row).to_contain_text("spent")
    scene.shot("dashboard-fault-rule")


def test_a_wrong_key_is_asked_again(scene: Scene) -> None:
    page = scene.page
    page.goto(f"{scene.server.url}/_partnercart/ui")
    page.fill("#key-input", "wrong-" + uuid.uuid4().hex)
    page.click("#key-form button[type=submit]")
    sync_api.expect(page.locator("#key-error")).to_contain_text("refused")
    # The status line says what it waits for, instead of staying at "Refresh…".
    sync_api.expect(page.locator("#status")).to_have_text("Refresh: waiting for the admin key")
    scene.shot("dashboard-wrong-key")
