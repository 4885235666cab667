"""Optimistic concurrency on carts, and many server processes over one PostgreSQL database."""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Api
from tests.servers import Partner, ServerProcess, line, running


def version_of(cart: dict[str, Any]) -> int:
    return int(json.loads(base64.b64decode(cart["attributes"]["etag"]))["version"])


class TestIfMatch:
    def setup_cart(self, api: Api) -> tuple[str, dict[str, Any]]:
        customer = api.new_customer()
        response = api.post(f"/v1/customers/{customer}/carts", json={"lineItems": [line(1)]})
        cart = response.json()
        assert response.headers["etag"] == f'"{cart["attributes"]["etag"]}"'
        return f"/v1/customers/{customer}/carts/{cart['id']}", cart

    def test_etag_changes_with_every_write(self, api: Api) -> None:
        path, cart = self.setup_cart(api)
        seen = {cart["attributes"]["etag"]}
        for quantity in (2, 3, 4):
            cart["lineItems"][0]["quantity"] = quantity
            cart = api.put(path, json=cart).json()
            seen.add(cart["attributes"]["etag"])
        assert len(seen) == 4
        assert version_of(cart) == 4
        assert api.get(path).headers["etag"] == f'"{cart["attributes"]["etag"]}"'

    def test_current_if_match_is_accepted(self, api: Api) -> None:
        path, cart = self.setup_cart(api)
        forms = ('"{}"', "{}", 'W/"{}"', '"other", "{}"', "*")
        for form in forms:
            value = form.format(cart["attributes"]["etag"])
            response = api.put(path, json=cart, headers={"If-Match": value})
            assert response.status_code == 201, value
            cart = response.json()
        assert version_of(cart) == 1 + len(forms)

    def test_stale_if_match_is_412_and_changes_nothing(self, api: Api) -> None:
        path, cart = self.setup_cart(api)
        stale = cart["attributes"]["etag"]
        cart["lineItems"][0]["quantity"] = 5
        current = api.put(path, json=cart).json()
        cart["lineItems"][0]["quantity"] = 99
        response = api.put(path, json=cart, headers={"If-Match": f'"{stale}"'})
        assert response.status_code == 412
        body = response.json()
        assert body["code"] == 800036
        assert "GET it again" in body["description"]
        assert api.get(path).json() == current

    def test_stale_body_etag_is_412(self, api: Api) -> None:
        path, cart = self.setup_cart(api)
        first = dict(cart)
        api.put(path, json=cart)
        first["lineItems"] = [line(42)]
        response = api.put(path, json=first)  # still carries version 1's etag
        assert response.status_code == 412
        # Without any etag the write is unconditional.
        del first["attributes"]
        assert api.put(path, json=first).status_code == 201


def put_loop(
    base: str,
    path: str,
    headers: dict[str, str],
    marker: int,
    results: list[Any],
    lock: threading.Lock,
    conditional: bool,
) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        current = client.get(path).json()
        body = {
            "lineItems": [
                line(marker),
                line(marker, "CFQ7TTC0LH0Z:0001:CFQ7TTC0K18P"),
                line(marker),
            ]
        }
        extra = {"If-Match": f'"{current["attributes"]["etag"]}"'} if conditional else {}
        response = client.put(path, json=body, headers=extra)
        with lock:
            results.append((marker, response.status_code, response.json()))


@pytest.mark.postgres
def test_500_concurrent_conditional_puts_over_two_processes(tmp_path: Path, pg_url: str) -> None:
    data = tmp_path / "data"
    servers = [ServerProcess(data, pg_url), ServerProcess(data, pg_url, extra=("--no-migrate",))]
    with running(servers[0]), running(servers[1]):
        partner = Partner(data)
        customer = partner.new_customer(servers[0].url)
        cart = partner.new_cart(servers[0].url, customer, [line(0)])
        path = f"/v1/customers/{customer}/carts/{cart['id']}"
        results: list[Any] = []
        lock = threading.Lock()
        with ThreadPoolExecutor(max_workers=16) as pool:
            for marker in range(1, 501):
                pool.submit(
                    put_loop,
                    servers[marker % 2].url,
                    path,
                    partner.headers,
                    marker,
                    results,
                    lock,
                    True,
                )
        statuses = Counter(status for _, status, _ in results)
        assert set(statuses) <= {201, 412}, statuses
        assert statuses[201] >= 1
        successes = [
            (version_of(body), marker, body) for marker, status, body in results if status == 201
        ]
        versions = [v for v, _, _ in successes]
        assert len(versions) == len(set(versions)), "two acknowledged writes share a version"
        for _, status, body in results:
            if status == 412:
                assert body["code"] == 800036
        final = httpx.get(f"{servers[1].url}{path}", headers=partner.headers).json()
        last = max(successes, key=lambda s: s[0])
        assert final == last[2]
        assert version_of(final) == 1 + statuses[201]
        print(
            f"500 conditional PUTs over 2 processes: {statuses[201]} applied, "
            f"{statuses[412]} refused with 412"
        )


@pytest.mark.postgres
def test_unconditional_puts_never_mix_and_workers_share_the_port(
    tmp_path: Path, pg_url: str
) -> None:
    data = tmp_path / "data"
    with running(ServerProcess(data, pg_url, extra=("--workers", "2"))) as (server,):
        partner = Partner(data)
        customer = partner.new_customer(server.url)
        cart = partner.new_cart(server.url, customer, [line(0)])
        path = f"/v1/customers/{customer}/carts/{cart['id']}"
        results: list[Any] = []
        lock = threading.Lock()
        with ThreadPoolExecutor(max_workers=12) as pool:
            for marker in range(1, 121):
                pool.submit(
                    put_loop, server.url, path, partner.headers, marker, results, lock, False
                )
        assert {status for _, status, _ in results} == {201}
        for _, _, body in results:
            assert len({x["quantity"] for x in body["lineItems"]}) == 1
        final = httpx.get(f"{server.url}{path}", headers=partner.headers).json()
        assert len({x["quantity"] for x in final["lineItems"]}) == 1
        assert version_of(final) == 121
        # Both worker processes answered.
        ids = {
            httpx.get(f"{server.url}/_partnercart/ping").headers["ms-serverid"] for _ in range(200)
        }
        assert len(ids) == 2, ids


def test_graceful_shutdown_finishes_the_request_in_flight(tmp_path: Path) -> None:
    import socket
    import time

    data = tmp_path / "data"
    server = ServerProcess(data).start()
    try:
        partner = Partner(data)
        customer = partner.new_customer(server.url)
        body = json.dumps({"lineItems": [line(7)]}).encode()
        head = (
            f"POST /v1/customers/{customer}/carts HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {partner.headers['Authorization']}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        sock = socket.create_connection(("127.0.0.1", server.port))
        sock.sendall(head + body[:10])
        time.sleep(0.5)
        assert server.proc is not None
        server.proc.send_signal(15)  # SIGTERM while the body is half sent
        time.sleep(0.5)
        sock.sendall(body[10:])
        sock.settimeout(30)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        sock.close()
        assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
        # uvicorn exits by re-raising the signal once it has drained the connections.
        assert server.proc.wait(timeout=30) in (0, -15)
    finally:
        server.stop()
