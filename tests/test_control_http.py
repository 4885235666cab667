"""The control routes through the app: admin guard, clocks, faults, request log, reset, seed."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import msgspec
import pytest
import yaml

from partnercart.server.control.requestlog import BODY_LIMIT, LoggedRequest
from partnercart.server.control.store import run
from partnercart.server.http.faults import ConnectionDropped
from tests.conftest import Api, customer_body
from tests.control_helpers import Admin, line, new_cart


@pytest.fixture
def admin(api: Api) -> Admin:
    return Admin(api)


def _error(response: Any, status: int, code: int | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"code", "description", "data", "source"}
    if code is not None:
        assert body["code"] == code
    return dict(body)


class TestAdminGuard:
    def test_no_credential_is_401(self, api: Api) -> None:
        _error(api.client.get("/_partnercart/partners"), 401, 800001)

    def test_a_partner_token_is_refused(self, api: Api) -> None:
        response = api.get("/_partnercart/partners")  # api signs with the partner's JWT
        body = _error(response, 401)
        assert "partner token" in body["description"]

    def test_a_wrong_key_is_refused(self, api: Api) -> None:
        response = api.client.get(
            "/_partnercart/partners", headers={"X-Partnercart-Admin-Key": "not-the-key"}
        )
        _error(response, 401)

    def test_key_as_header_or_bearer(self, api: Api) -> None:
        key = api.runtime.admin_key
        for headers in ({"X-Partnercart-Admin-Key": key}, {"Authorization": f"Bearer {key}"}):
            assert api.client.get("/_partnercart/partners", headers=headers).status_code == 200

    def test_key_file_is_private(self, api: Api) -> None:
        path = api.runtime.settings.data_dir / "admin-key"
        assert path.read_text().strip() == api.runtime.admin_key
        assert path.stat().st_mode & 0o777 == 0o600

    def test_partner_routes_refuse_the_admin_key(self, api: Api) -> None:
        key = api.runtime.admin_key
        response = api.client.get("/v1/customers", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 401


class TestClock:
    def test_default_follows_the_base_clock(self, api: Api, admin: Admin, clock: Any) -> None:
        body = admin.ok("GET", f"/partners/{api.partner_id}/clock")
        assert body["now"] == "2026-03-01T12:00:00.1234560Z"
        assert body["frozen"] is False and body["stored"] is False
        clock.advance(dt.timedelta(hours=1))
        body = admin.ok("GET", f"/partners/{api.partner_id}/clock")
        assert body["now"] == "2026-03-01T13:00:00.1234560Z"

    def test_advance_expires_the_cart_of_that_partner_only(self, api: Api, admin: Admin) -> None:
        other = api.as_partner(str(uuid.uuid4()))
        customer_a = api.new_customer()
        mine = new_cart(api, customer_a)
        customer_b = other.new_customer()
        theirs = new_cart(other, customer_b)
        body = admin.ok(
            "POST", f"/partners/{api.partner_id}/clock/advance", json={"duration": "P7D"}
        )
        assert body["now"] == "2026-03-08T12:00:00.1234560Z"
        assert body["offsetSeconds"] == 7 * 86400
        gone = api.get(f"/v1/customers/{customer_a}/carts/{mine['id']}")
        _error(gone, 404, 800008)
        assert other.get(f"/v1/customers/{customer_b}/carts/{theirs['id']}").status_code == 200

    def test_new_carts_take_their_times_from_the_partner_clock(
        self, api: Api, admin: Admin
    ) -> None:
        admin.ok("PUT", f"/partners/{api.partner_id}/clock", json={"now": "2027-05-01T00:00:00Z"})
        cart = new_cart(api, api.new_customer())
        assert cart["creationTimestamp"].startswith("2027-05-01T00:00:00")
        assert cart["expirationTimestamp"].startswith("2027-05-08T00:00:00")

    def test_frozen_clock_stands_still(self, api: Api, admin: Admin, clock: Any) -> None:
        path = f"/partners/{api.partner_id}/clock"
        frozen = admin.ok("POST", f"{path}/freeze")
        assert frozen["frozen"] is True
        clock.advance(dt.timedelta(days=3))
        assert admin.ok("GET", path)["now"] == frozen["now"]
        running = admin.ok("POST", f"{path}/unfreeze")
        assert running["now"] == frozen["now"]
        clock.advance(dt.timedelta(hours=2))
        assert admin.ok("GET", path)["now"] == "2026-03-01T14:00:00.1234560Z"

    def test_advance_a_frozen_clock_and_set_with_frozen(self, api: Api, admin: Admin) -> None:
        path = f"/partners/{api.partner_id}/clock"
        admin.ok("PUT", path, json={"now": "2026-01-01T00:00:00Z", "frozen": True})
        body = admin.ok("POST", f"{path}/advance", json={"duration": "PT1H30M"})
        assert body == {
            "partner": api.partner_id,
            "now": "2026-01-01T01:30:00.0000000Z",
            "frozen": True,
            "offsetSeconds": None,
            "stored": True,
        }
        body = admin.ok("POST", f"{path}/advance", json={"duration": "P1M"})
        assert body["now"] == "2026-02-01T01:30:00.0000000Z"

    @pytest.mark.parametrize("duration", ["7D", "P", "PT", "P1.5D", "P7X", "", "P99999999D"])
    def test_bad_durations_are_400(self, api: Api, admin: Admin, duration: str) -> None:
        response = admin.request(
            "POST", f"/partners/{api.partner_id}/clock/advance", json={"duration": duration}
        )
        _error(response, 400, 800002)

    def test_bad_instant_and_partner_are_400(self, api: Api, admin: Admin) -> None:
        _error(
            admin.request("PUT", f"/partners/{api.partner_id}/clock", json={"now": "tomorrow"}),
            400,
        )
        _error(admin.request("GET", "/partners/not-a-guid/clock"), 400)
        _error(admin.request("PUT", f"/partners/{api.partner_id}/clock", content=b"{"), 400)

    @pytest.mark.parametrize(
        ("start", "change", "body"),
        [
            ("2030-01-01", "", {"now": "9999-12-31T23:59:58Z"}),
            ("2030-01-01", "", {"now": "0001-01-01T00:00:00+01:00", "frozen": True}),
            ("2030-01-01", "", {"now": "1969-12-31T23:59:59Z"}),
            ("8900-01-01", "/advance", {"duration": "P150Y"}),
        ],
        ids=["end-of-calendar", "year-one-with-offset", "before-1970", "advanced-past-9000"],
    )
    def test_a_clock_that_would_leave_the_usable_range_is_refused_and_not_saved(
        self, api: Api, admin: Admin, start: str, change: str, body: dict[str, Any]
    ) -> None:
        """Near the end of the calendar every later request of the partner would overflow
        (a cart's 7 days, a stored answer's 24 hours); the change is refused, nothing stored."""
        path = f"/partners/{api.partner_id}/clock"
        admin.ok("PUT", path, json={"now": f"{start}T00:00:00Z", "frozen": True})
        refused = _error(admin.request("POST" if change else "PUT", path + change, json=body), 400)
        assert "outside the instants a clock may show" in refused["description"]
        assert admin.ok("GET", path)["now"] == f"{start}T00:00:00.0000000Z"
        cart = new_cart(api, api.new_customer())
        assert cart["creationTimestamp"].startswith(f"{start}T00:00:00")

    def test_a_running_clock_set_to_the_calendars_edge_is_refused(
        self, api: Api, admin: Admin
    ) -> None:
        """A running clock keeps an offset from the base clock, which an instant at the edge
        of the calendar cannot even be subtracted from: still a 400, not a 500."""
        path = f"/partners/{api.partner_id}/clock"
        for now in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
            refused = _error(admin.request("PUT", path, json={"now": now, "frozen": False}), 400)
            assert "outside the instants a clock may show" in refused["description"]
        assert admin.ok("GET", path)["stored"] is False

    def test_the_last_allowed_instant_still_serves_carts(self, api: Api, admin: Admin) -> None:
        path = f"/partners/{api.partner_id}/clock"
        admin.ok("PUT", path, json={"now": "9000-01-01T00:00:00Z", "frozen": True})
        cart = new_cart(api, api.new_customer())
        assert cart["expirationTimestamp"].startswith("9000-01-08T00:00:00")


class TestFaults:
    def _rule(self, admin: Admin, **spec: Any) -> dict[str, Any]:
        return dict(admin.ok("POST", "/faults", 201, json=spec))

    def test_status_with_code_on_the_nth_call_only(self, api: Api, admin: Admin) -> None:
        rule = self._rule(
            admin,
            partner=api.partner_id,
            method="GET",
            route="/v1/customers",
            nth=2,
            times=1,
            status=503,
            code=800003,
            description="Service busy",
        )
        assert api.get("/v1/customers").status_code == 200
        second = api.get("/v1/customers")
        assert _error(second, 503, 800003)["description"] == "Service busy"
        assert second.headers["ms-requestid"]  # the tracing headers still come
        assert api.get("/v1/customers").status_code == 200
        [listed] = admin.ok("GET", "/faults")["items"]
        assert listed["id"] == rule["id"]
        assert (listed["seen"], listed["fired"], listed["spent"]) == (2, 1, True)

    def test_429_has_retry_after_and_the_throttle_body(self, api: Api, admin: Admin) -> None:
        self._rule(admin, status=429, retryAfter=7, times=1)
        response = api.get("/v1/customers")
        assert response.status_code == 429
        assert response.headers["retry-after"] == "7"
        assert set(response.json()) == {"statusCode", "message"}
        assert response.json()["statusCode"] == 429

    def test_match_on_customer_and_route_template(self, api: Api, admin: Admin) -> None:
        a, b = api.new_customer(), api.new_customer()
        self._rule(admin, customer=a, route="/v1/customers/{customer_id}/carts", status=500, code=1)
        _error(api.post(f"/v1/customers/{a}/carts", json={"lineItems": [line()]}), 500, 1)
        assert api.post(f"/v1/customers/{b}/carts", json={"lineItems": [line()]}).status_code == 201
        assert api.get(f"/v1/customers/{a}").status_code == 200

    @pytest.mark.parametrize(
        "route",
        [
            "/v1/customers/{c}/carts",
            "/v1/customers/{customerId}/carts/",
            "/v1.0/customers/{x}/carts",
        ],
    )
    def test_a_template_with_other_placeholder_names_is_the_served_one(
        self, api: Api, admin: Admin, route: str
    ) -> None:
        """The README's route table writes {c}; such a rule fires, stored as served."""
        rule = self._rule(admin, partner=api.partner_id, route=route, status=503, times=1)
        assert rule["route"] == "/v1/customers/{customer_id}/carts"
        customer = api.new_customer()
        _error(api.post(f"/v1/customers/{customer}/carts", json={"lineItems": [line()]}), 503)

    def test_a_template_that_is_not_served_is_refused_with_the_list(
        self, api: Api, admin: Admin
    ) -> None:
        response = admin.request(
            "POST", "/faults", json={"route": "/v1/customers/{c}/basket", "status": 503}
        )
        refused = _error(response, 400, 800002)
        assert "not a served route template" in refused["description"]
        assert "/v1/customers/{customer_id}/carts/{cart_id}/checkout" in refused["description"]
        assert admin.ok("GET", "/faults")["items"] == []

    @pytest.mark.parametrize(("status", "root"), [(503, "ServiceFault"), (429, "ThrottleFault")])
    def test_an_injected_error_follows_accept_like_every_other(
        self, api: Api, admin: Admin, status: int, root: str
    ) -> None:
        self._rule(
            admin, partner=api.partner_id, method="GET", route="/v1/customers", status=status
        )
        answer = api.get("/v1/customers", headers={"Accept": "application/xml"})
        assert answer.status_code == status
        assert answer.headers["content-type"].startswith("application/xml")
        assert answer.text.startswith(f"<{root} ")
        as_json = api.get("/v1/customers", headers={"Accept": "application/json"})
        assert as_json.headers["content-type"].startswith("application/json")

    def test_an_empty_partner_parameter_is_refused(self, api: Api, admin: Admin) -> None:
        self._rule(admin, partner=api.partner_id, status=503)
        _error(admin.request("DELETE", "/faults?partner="), 400, 800002)
        _error(admin.request("GET", "/requests?partner=%20"), 400, 800002)
        assert len(admin.ok("GET", "/faults")["items"]) == 1  # nothing was cleared

    def test_a_customers_rule_is_its_partners_alone(self, api: Api, admin: Admin) -> None:
        """Requests without a token, or from another partner, naming the customer neither fire
        the rule nor use it up: the partner's own test gets its fault."""
        customer = api.new_customer()
        rule = self._rule(admin, customer=customer, status=503, times=1)
        assert rule["partner"] == api.partner_id  # filled in from the customer
        path = f"/v1/customers/{customer}"
        _error(api.client.get(path), 401)
        other = api.as_partner(str(uuid.uuid4()))
        _error(other.get(path), 403)
        [listed] = admin.ok("GET", "/faults")["items"]
        assert (listed["seen"], listed["fired"]) == (0, 0)
        _error(api.get(path), 503)
        mismatch = admin.request(
            "POST", "/faults", json={"customer": customer, "partner": str(uuid.uuid4())}
        )
        _error(mismatch, 400, 800002)

    def test_glob_route_and_other_partners_untouched(self, api: Api, admin: Admin) -> None:
        other = api.as_partner(str(uuid.uuid4()))
        self._rule(admin, partner=api.partner_id, route="/v1/customers*", status=502)
        _error(api.get("/v1/customers"), 502)
        assert other.get("/v1/customers").status_code == 200

    def test_latency_then_normal_answer(self, api: Api, admin: Admin) -> None:
        self._rule(admin, action="latency", latencyMs=5, times=1)
        response = api.get("/v1/customers")
        assert response.status_code == 200
        [entry] = admin.ok("GET", f"/requests?partner={api.partner_id}")["items"]
        assert entry["faultAction"] == "latency" and entry["status"] == 200

    def test_apply_then_status_commits_the_change(self, api: Api, admin: Admin) -> None:
        customer = api.new_customer()
        cart = new_cart(api, customer)
        self._rule(admin, action="apply_then_status", method="PUT", status=500, times=1)
        put = api.put(f"/v1/customers/{customer}/carts/{cart['id']}", json={"lineItems": [line(5)]})
        _error(put, 500)
        got = api.get(f"/v1/customers/{customer}/carts/{cart['id']}").json()
        assert got["lineItems"][0]["quantity"] == 5

    def test_drop_in_process_raises(self, api: Api, admin: Admin) -> None:
        self._rule(admin, action="drop", times=1)
        with pytest.raises(ConnectionDropped):
            api.get("/v1/customers")
        assert api.get("/v1/customers").status_code == 200

    def test_delete_and_clear(self, api: Api, admin: Admin) -> None:
        rule = self._rule(admin, status=500)
        _error(api.get("/v1/customers"), 500)
        assert admin.request("DELETE", f"/faults/{rule['id']}").status_code == 204
        assert api.get("/v1/customers").status_code == 200
        _error(admin.request("DELETE", f"/faults/{rule['id']}"), 404)
        self._rule(admin, status=500, partner=api.partner_id)
        assert admin.ok("DELETE", f"/faults?partner={api.partner_id}")["deleted"] == 1
        assert admin.ok("GET", "/faults")["items"] == []

    def test_control_routes_are_never_faulted(self, api: Api, admin: Admin) -> None:
        self._rule(admin, status=500)
        assert admin.request("GET", "/faults").status_code == 200

    @pytest.mark.parametrize(
        "spec",
        [
            {"action": "explode"},
            {"status": 200},
            {"nth": 0},
            {"times": 0},
            {"partner": "nope"},
            {"method": "FETCH"},
            {"route": "v1/customers"},
            {"action": "latency"},
            {"unknown": 1},
        ],
    )
    def test_bad_rules_are_400(self, admin: Admin, spec: dict[str, Any]) -> None:
        _error(admin.request("POST", "/faults", json=spec), 400, 800002)


class TestRequestLog:
    def test_entries_with_redaction_bodies_and_ids(self, api: Api, admin: Admin) -> None:
        api.post("/v1/customers", json=customer_body(), headers={"MS-CorrelationId": "corr-1"})
        api.get("/v1/customers/not-a-guid")
        items = admin.ok("GET", f"/requests?partner={api.partner_id}&limit=10")["items"]
        assert [i["method"] for i in items] == ["GET", "POST"]  # newest first
        get, post = items
        assert get["status"] == 404 and get["route"] == "/v1/customers/{customer_id}"
        assert post["status"] == 201 and post["correlationId"] == "corr-1"
        assert post["requestHeaders"]["authorization"] == "<redacted>"
        assert api.token not in str(items)
        assert '"companyProfile"' in post["requestBody"]
        assert post["responseBody"].startswith('{"id":')
        assert post["requestId"] == post["responseHeaders"]["ms-requestid"]
        assert post["fault"] is None and post["replayed"] is False
        assert post["durationMs"] >= 0

    def test_the_token_endpoints_credentials_never_reach_the_log(
        self, api: Api, admin: Admin
    ) -> None:
        """A client secret sent to the token endpoint, and the token it answers, are replaced
        in the stored entry; what else the request said stays readable."""
        secret = "s3cret-" + uuid.uuid4().hex
        answer = api.client.post(
            f"/{api.partner_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": str(uuid.uuid4()),
                "client_secret": secret,
                "scope": "https://api.partnercenter.microsoft.com/.default",
            },
        )
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        wrong = api.client.post(
            f"/{api.partner_id}/oauth2/token",
            data={"grant_type": "password", "client_id": "x", "password": secret},
        )
        assert wrong.status_code >= 400
        items = admin.ok("GET", "/requests?limit=20")["items"]
        logged = [i for i in items if "/oauth2/" in i["path"]]
        assert len(logged) == 2
        assert secret not in str(items) and token not in str(items)
        entry = next(i for i in logged if i["status"] == 200)
        assert "grant_type=client_credentials" in entry["requestBody"]
        assert "client_secret=%3Credacted%3E" in entry["requestBody"]
        assert '"access_token":"<redacted>"' in entry["responseBody"]
        assert '"token_type":"Bearer"' in entry["responseBody"]
        from partnercart.server.control.store import rows

        with api.runtime.services.store.unit_of_work(write=False) as uow:
            stored = b"".join(bytes(r[0]) for r in rows(uow, "SELECT body FROM control_requests"))
        assert secret.encode() not in stored and token.encode() not in stored

    def test_faulted_requests_are_marked_and_partners_separated(
        self, api: Api, admin: Admin
    ) -> None:
        other = api.as_partner(str(uuid.uuid4()))
        rule = admin.ok("POST", "/faults", 201, json={"status": 503, "times": 1})
        api.get("/v1/customers")
        other.get("/v1/customers")
        [mine] = admin.ok("GET", f"/requests?partner={api.partner_id}")["items"]
        assert mine["fault"] == rule["id"] and mine["status"] == 503
        [theirs] = admin.ok("GET", f"/requests?partner={other.partner_id}")["items"]
        assert theirs["fault"] is None and theirs["status"] == 200
        assert len(admin.ok("GET", "/requests")["items"]) == 2

    def test_long_bodies_are_cut_with_their_true_size(self, api: Api, admin: Admin) -> None:
        customer = api.new_customer()
        lines = [line(1) for _ in range(60)]  # a request body of several kilobytes
        sent = api.post(f"/v1/customers/{customer}/carts", json={"lineItems": lines})
        assert sent.status_code == 201
        size = len(sent.request.content)
        assert size > BODY_LIMIT
        [entry] = admin.ok("GET", f"/requests?partner={api.partner_id}&limit=1")["items"]
        assert entry["requestBody"].endswith(f"... ({size} bytes)")
        assert entry["requestBody"].startswith(sent.request.content[:100].decode())
        assert f"({len(sent.content)} bytes)" in entry["responseBody"]

    def test_entries_written_as_json_earlier_are_still_read(self, api: Api, admin: Admin) -> None:
        old = LoggedRequest(
            partner_id=api.partner_id,
            at="2026-01-01T00:00:00Z",
            method="GET",
            path="/v1/customers",
            route="/v1/customers",
            query="",
            status=200,
            duration_ms=1.5,
            request_id="r",
            correlation_id="c",
            request_headers={"accept": "application/json"},
            request_body="",
            response_headers={},
            response_body="{}",
        )
        with api.runtime.services.store.unit_of_work(write=True) as uow:
            run(
                uow,
                "INSERT INTO control_requests (partner_id, at, body) VALUES (?, ?, ?)",
                (api.partner_id, 0, msgspec.json.encode(old)),
            )
        [entry] = admin.ok("GET", f"/requests?partner={api.partner_id}")["items"]
        assert entry["requestHeaders"] == {"accept": "application/json"}
        assert entry["durationMs"] == 1.5 and entry["id"] > 0

    def test_limit_is_checked(self, admin: Admin) -> None:
        _error(admin.request("GET", "/requests?limit=0"), 400)
        _error(admin.request("GET", "/requests?limit=abc"), 400)


class TestResetSeedViews:
    def test_reset_one_partner_keeps_the_others(self, api: Api, admin: Admin) -> None:
        other = api.as_partner(str(uuid.uuid4()))
        new_cart(api, api.new_customer())
        kept = other.new_customer()
        admin.ok("POST", f"/partners/{api.partner_id}/clock/advance", json={"duration": "P1D"})
        body = admin.ok("POST", f"/partners/{api.partner_id}/reset")
        assert body["deleted"]["customers"] == 1 and body["deleted"]["carts"] == 1
        assert body["deleted"]["control_clocks"] == 1
        assert api.get("/v1/customers").json()["totalCount"] == 0
        assert other.get(f"/v1/customers/{kept}").status_code == 200
        assert admin.ok("GET", f"/partners/{api.partner_id}/clock")["stored"] is False

    def test_reset_everything(self, api: Api, admin: Admin) -> None:
        other = api.as_partner(str(uuid.uuid4()))
        api.new_customer()
        other.new_customer()
        admin.ok("POST", "/reset")
        assert admin.ok("GET", "/partners")["items"] == []
        assert admin.ok("GET", "/requests")["items"] == []
        assert api.get("/v1/customers").json()["totalCount"] == 0
        assert other.get("/v1/customers").json()["totalCount"] == 0

    def _document(self, partner: str) -> dict[str, Any]:
        return {
            "partners": [
                {
                    "id": partner,
                    "customers": [
                        {"customer": customer_body("US"), "carts": [{"lineItems": [line(2)]}]},
                        {"customer": customer_body("GB")},
                    ],
                }
            ]
        }

    def test_seed_json_creates_valid_resources(self, api: Api, admin: Admin) -> None:
        created = admin.ok("POST", "/seed", 201, json=self._document(api.partner_id))
        [partner] = created["partners"]
        first, second = partner["customers"]
        assert len(first["carts"]) == 1 and second["carts"] == []
        cart = api.get(f"/v1/customers/{first['id']}/carts/{first['carts'][0]}").json()
        assert cart["lineItems"][0]["quantity"] == 2
        assert cart["lineItems"][0]["currencyCode"] == "USD"
        assert cart["creationTimestamp"].startswith("2026-03-01T12:00:00")
        assert api.get(f"/v1/customers/{second['id']}").status_code == 200

    def test_seed_yaml(self, api: Api, admin: Admin) -> None:
        text = yaml.safe_dump(self._document(api.partner_id)).encode()
        created = admin.ok(
            "POST", "/seed", 201, content=text, headers={"Content-Type": "application/yaml"}
        )
        assert len(created["partners"][0]["customers"]) == 2

    def test_bad_seed_changes_nothing(self, api: Api, admin: Admin) -> None:
        document = self._document(api.partner_id)
        document["partners"][0]["customers"][1]["customer"]["billingProfile"] = 5
        body = _error(admin.request("POST", "/seed", json=document), 400, 800002)
        assert body["data"] == ["$.partners[0].customers[1].customer.billingProfile"]
        del document["partners"][0]["customers"][1]["customer"]["billingProfile"]  # missing
        body = _error(admin.request("POST", "/seed", json=document), 400, 800002)
        assert body["data"] == ["$.partners[0].customers[1].customer.billingProfile"]
        # Two customers of one partner with one domain: the second is refused where it is.
        document = self._document(api.partner_id)
        customers = document["partners"][0]["customers"]
        customers[1]["customer"]["companyProfile"] = customers[0]["customer"]["companyProfile"]
        body = _error(admin.request("POST", "/seed", json=document), 409, 409)
        assert body["data"] == ["$.partners[0].customers[1].customer.companyProfile.domain"]
        assert api.get("/v1/customers").json()["totalCount"] == 0
        _error(admin.request("POST", "/seed", json={"partners": [{"id": "x"}]}), 400)
        _error(admin.request("POST", "/seed", content=b"[1,"), 400)

    def test_read_views(self, api: Api, admin: Admin) -> None:
        customer = api.new_customer()
        cart = new_cart(api, customer, quantity=3)
        [partner] = admin.ok("GET", "/partners")["items"]
        assert partner == {"id": api.partner_id, "customers": 1, "carts": 1}
        [listed] = admin.ok("GET", f"/partners/{api.partner_id}/customers")["items"]
        assert listed["id"] == customer and listed["country"] == "US"
        [row] = admin.ok("GET", f"/partners/{api.partner_id}/carts")["items"]
        assert row["id"] == cart["id"] and row["expired"] is False
        assert row["lineItems"][0]["quantity"] == 3 and row["lineItems"][0]["error"] is None
        admin.ok("POST", f"/partners/{api.partner_id}/clock/advance", json={"duration": "P8D"})
        [row] = admin.ok("GET", f"/partners/{api.partner_id}/carts")["items"]
        assert row["expired"] is True
        orders = admin.ok("GET", f"/partners/{api.partner_id}/orders")
        assert orders == {"partner": api.partner_id, "available": True, "items": []}
        fresh = new_cart(api, customer, quantity=2)
        done = api.post(f"/v1/customers/{customer}/carts/{fresh['id']}/checkout")
        assert done.status_code == 201, done.text
        listed_orders = admin.ok("GET", f"/partners/{api.partner_id}/orders")["items"]
        order_id = done.json()["orders"][0]["id"]
        assert [o["id"] for o in listed_orders] == [order_id]
        [shown] = listed_orders
        assert shown["customerId"] == customer and shown["cartId"] == fresh["id"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", shown["createdAt"])
        assert shown["lineItems"][0]["quantity"] == 2
        # The status is the one GET .../orders/{id} answers on the partner's clock, before and
        # after provisioning, not the column the order was stored with.
        order_path = f"/v1/customers/{customer}/orders/{order_id}"
        assert shown["status"] == api.get(order_path).json()["status"] == "pending"
        admin.ok("POST", f"/partners/{api.partner_id}/clock/advance", json={"duration": "PT1H"})
        [later] = admin.ok("GET", f"/partners/{api.partner_id}/orders")["items"]
        assert later["status"] == api.get(order_path).json()["status"] == "completed"

    def test_dashboard_files(self, api: Api) -> None:
        page = api.client.get("/_partnercart/ui")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "/_partnercart/ui/app.js" in page.text
        assert api.client.get("/_partnercart/ui/app.js").status_code == 200
        assert api.client.get("/_partnercart/ui/app.css").status_code == 200
        assert api.client.get("/_partnercart/ui/secret.txt").status_code == 404


def test_info_names_the_modes(api: Api, admin: Admin) -> None:
    body = admin.ok("GET", "/info")
    assert body["seed"] is None and body["frozenAt"] is None and body["requestLog"] is True
    assert body["sqliteSync"] == "normal"  # the default; `serve --sqlite-sync off` changes it
    assert body["poolSize"] is None  # PostgreSQL only
    assert body["baseClock"] == "2026-03-01T12:00:00.1234560Z"


def test_cart_view_shows_line_errors(api: Api, admin: Admin) -> None:
    """Line errors come from catalog checks elsewhere; here one is written into the stored
    cart to check the view carries it."""
    import json

    from partnercart.server.control.store import run

    cart = new_cart(api, api.new_customer())
    cart["lineItems"][0]["error"] = {"errorCode": 10001, "errorDescription": "Not available"}
    with api.runtime.services.store.unit_of_work(write=True) as uow:
        run(uow, "UPDATE carts SET body = ? WHERE id = ?", (json.dumps(cart).encode(), cart["id"]))
    [row] = admin.ok("GET", f"/partners/{api.partner_id}/carts")["items"]
    assert row["lineItems"][0]["error"] == {"code": 10001, "description": "Not available"}


def test_info_reports_the_sqlite_sync_of_the_open_store(db_api: Api) -> None:
    body = Admin(db_api).ok("GET", "/info")
    on_sqlite = db_api.runtime.settings.database_url().startswith("sqlite")
    assert body["sqliteSync"] == ("normal" if on_sqlite else None)
    assert body["sqliteGroupWrites"] == (True if on_sqlite else None)
    assert body["sqliteCacheMiB"] == (2 if on_sqlite else None)
    assert (body["cartReadBatches"] is None) == on_sqlite  # PostgreSQL batches GET cart
