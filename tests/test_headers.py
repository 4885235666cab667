"""The Partner Center tracing headers on every answer, errors included."""

from __future__ import annotations

import email.utils
import json
import logging
import uuid
from collections.abc import Iterator

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient

from partnercart.server.http.accesslog import ACCESS_LOGGER
from partnercart.server.http.app import create_app
from partnercart.server.http.middleware import SERVER_ID, extend_cv
from partnercart.server.runtime import Runtime
from tests.conftest import Api

TRACING = ("MS-RequestId", "MS-CorrelationId", "MS-CV", "X-Locale", "MS-ServerId", "Date")


def assert_tracing(answer: object) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    for name in TRACING:
        values = headers.get_list(name)
        assert len(values) == 1, (name, values)
    uuid.UUID(headers["MS-RequestId"])
    uuid.UUID(headers["MS-CorrelationId"])
    assert headers["MS-ServerId"] == SERVER_ID
    assert email.utils.parsedate_to_datetime(headers["Date"]).tzinfo is not None


def test_every_kind_of_answer_carries_the_headers(api: Api) -> None:
    customer = api.new_customer()
    answers = [
        api.get(f"/v1/customers/{customer}"),  # 200
        api.post("/v1/customers", content=b"{"),  # 400
        api.client.get("/v1/customers"),  # 401, no token
        api.get(f"/v1/customers/{uuid.uuid4()}"),  # 403
        api.get("/v1/nothing/here"),  # 404 from the router
        api.request("DELETE", "/v1/customers"),  # 405
        api.get("/v1/customers", headers={"Accept": "image/png"}),  # 406
        api.post("/v1/customers", content=b"x", headers={"Content-Type": "image/png"}),  # 415
        api.client.get("/_partnercart/ping"),
    ]
    assert [a.status_code for a in answers] == [200, 400, 401, 403, 404, 405, 406, 415, 200]
    for answer in answers:
        assert_tracing(answer)
    assert len({a.headers["MS-RequestId"] for a in answers}) == len(answers)


def test_sent_ids_are_echoed(api: Api) -> None:
    request_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    for path in ("/v1/customers", "/v1/missing"):
        answer = api.get(
            path,
            headers={
                "MS-RequestId": request_id,
                "MS-CorrelationId": correlation_id,
                "MS-CV": "sF/wRa2ih0CzbABc.1",
                "X-Locale": "fr-FR",
            },
        )
        assert answer.headers["MS-RequestId"] == request_id
        assert answer.headers["MS-CorrelationId"] == correlation_id
        assert answer.headers["MS-CV"] == "sF/wRa2ih0CzbABc.1.0"
        assert answer.headers["X-Locale"] == "fr-FR"


def test_a_header_sent_twice_counts_once_the_first(api: Api) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    answer = api.client.get(
        "/v1/customers",
        headers=[
            *api.headers().items(),
            ("MS-RequestId", first),
            ("MS-RequestId", second),
            ("MS-CorrelationId", second),
            ("MS-CorrelationId", first),
            ("MS-CV", "aaaaaaaaaaaaaaaa.1"),
            ("MS-CV", "bbbbbbbbbbbbbbbb.1"),
            ("X-Locale", "fr-FR"),
            ("X-Locale", "de-DE"),
        ],
    )
    assert answer.status_code == 200
    assert answer.headers["MS-RequestId"] == first
    assert answer.headers["MS-CorrelationId"] == second
    assert answer.headers["MS-CV"] == "aaaaaaaaaaaaaaaa.1.0"
    assert answer.headers["X-Locale"] == "fr-FR"


def test_defaults_when_nothing_is_sent(api: Api) -> None:
    answer = api.client.get("/_partnercart/ping")
    assert answer.headers["X-Locale"] == "en-US"
    base, _, tail = answer.headers["MS-CV"].rpartition(".")
    assert base and tail == "0"


def test_unusable_header_values_are_replaced(api: Api) -> None:
    answer = api.get(
        "/v1/customers",
        headers={"MS-RequestId": "x" * 500, "MS-CV": "bad vector!", "X-Locale": "  "},
    )
    uuid.UUID(answer.headers["MS-RequestId"])
    assert not answer.headers["MS-CV"].startswith("bad")
    assert answer.headers["X-Locale"] == "en-US"


def test_extend_cv() -> None:
    assert extend_cv("abc.0") == "abc.0.0"
    assert extend_cv("abc.0.2") == "abc.0.2.0"
    fresh = extend_cv(None)
    assert fresh.endswith(".0") and len(fresh) == 18
    assert extend_cv("a" * 200) != "a" * 200 + ".0"


@pytest.fixture
def failing_client(runtime: Runtime) -> Iterator[TestClient]:
    async def boom(request: Request) -> Response:
        raise RuntimeError("a bug")

    app = create_app(runtime)
    app.add_route("/_partnercart/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_an_unexpected_error_is_500_with_the_headers(
    failing_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    request_id = str(uuid.uuid4())
    answer = failing_client.get("/_partnercart/boom", headers={"MS-RequestId": request_id})
    assert answer.status_code == 500
    assert answer.json() == {
        "code": 800003,
        "description": "Unexpected service error.",
        "data": [],
        "source": "PartnerFD",
    }
    assert_tracing(answer)
    assert answer.headers["MS-RequestId"] == request_id
    assert "a bug" not in answer.text
    assert any("unhandled error" in r.message for r in caplog.records)
    access = [json.loads(r.getMessage()) for r in caplog.records if r.name == ACCESS_LOGGER]
    assert [(a["status"], a["ms_request_id"]) for a in access] == [(500, request_id)]
