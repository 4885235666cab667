"""Control-plane writes under concurrent requests, on each database: PostgreSQL's connections
really run at once, so what SQLite's single writer serialises has to be locked there."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from tests.conftest import Api
from tests.control_helpers import Admin, line


def _at_once(n: int, work: Callable[[int], Any]) -> list[Any]:
    """``work(i)`` for i in 0..n-1 in n threads released together; the results in order."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_a_rule_fires_exactly_times_times_under_concurrent_calls(db_api: Api) -> None:
    admin = Admin(db_api)
    for _trial in range(3):
        partner = db_api.as_partner(str(uuid.uuid4()))
        admin.ok(
            "POST",
            "/faults",
            201,
            json={
                "partner": partner.partner_id,
                "method": "GET",
                "route": "/v1/customers",
                "status": 503,
                "times": 1,
            },
        )
        statuses = _at_once(10, lambda _i, p=partner: p.get("/v1/customers").status_code)
        assert statuses.count(503) == 1, statuses
        [rule] = admin.ok("GET", f"/faults?partner={partner.partner_id}")["items"]
        assert rule["fired"] == 1 and rule["spent"] is True


def test_concurrent_clock_advances_all_count(db_api: Api) -> None:
    admin = Admin(db_api)
    partner = str(uuid.uuid4())
    path = f"/partners/{partner}/clock"
    before = admin.ok("GET", path)["offsetSeconds"] or 0
    answers = _at_once(
        8,
        lambda _i: admin.request("POST", f"{path}/advance", json={"duration": "P1D"}).status_code,
    )
    assert answers == [200] * 8
    assert admin.ok("GET", path)["offsetSeconds"] - before == 8 * 86_400


def test_a_reset_succeeds_while_the_partner_keeps_writing(db_api: Api) -> None:
    admin = Admin(db_api)
    stop = threading.Event()
    failures: list[int] = []

    def write() -> None:
        while not stop.is_set():
            made = db_api.post("/v1/customers", json=_customer())
            if made.status_code != 201:
                continue
            cart = db_api.post(
                f"/v1/customers/{made.json()['id']}/carts", json={"lineItems": [line()]}
            )
            # Its customer may be deleted under it: 403/404, or 503 to retry, never a 500.
            if cart.status_code not in (201, 403, 404, 503):
                failures.append(cart.status_code)

    writers = [threading.Thread(target=write) for _ in range(3)]
    for thread in writers:
        thread.start()
    try:
        resets = [
            admin.request("POST", f"/partners/{db_api.partner_id}/reset").status_code
            for _ in range(15)
        ]
    finally:
        stop.set()
        for thread in writers:
            thread.join(timeout=60)
    assert resets == [200] * 15
    assert failures == []
    assert admin.request("POST", f"/partners/{db_api.partner_id}/reset").status_code == 200
    assert db_api.get("/v1/customers").json()["totalCount"] == 0


def _customer() -> dict[str, Any]:
    from tests.conftest import customer_body

    return customer_body()
