"""The call pipeline under faults, through an httpx mock transport: which answers are retried,
how long the client waits, which ids and tokens each attempt carries."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

import httpx
import pytest

from partnercart.client import (
    SCOPE,
    AccessToken,
    AsyncPartnerCenter,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PartnerCenter,
    PreconditionFailedError,
    RetryPolicy,
    ServerError,
    TooManyRequestsError,
    TransportError,
    UnauthorizedError,
)
from partnercart.client._retry import parse_retry_after
from tests.client.fakes import Script, Sleeps, json_response

BASE = "https://pc.example"
CUSTOMER = "d6bf25b7-e0a8-4f2d-a31b-97b55cfc774d"
NO_JITTER = RetryPolicy(max_attempts=4, base=0.5, cap=30.0, jitter=0.0)

CUSTOMER_BODY: dict[str, Any] = {
    "id": CUSTOMER,
    "companyProfile": {"domain": "contoso.onmicrosoft.com"},
    "billingProfile": {
        "email": "a@contoso.example",
        "culture": "en-US",
        "language": "en",
        "companyName": "Contoso",
        "defaultAddress": {"country": "US"},
    },
}


def fault(status: int, code: int = 800002, description: str = "no") -> httpx.Response:
    body = {"code": code, "description": description, "data": [], "source": "PartnerFD"}
    return json_response(status, body)


def client(script: Script, sleeps: Sleeps, **kwargs: Any) -> PartnerCenter:
    kwargs.setdefault("retry", NO_JITTER)
    kwargs.setdefault("credential", "token-1")
    return PartnerCenter(BASE, transport=script.transport(), sleep=sleeps, **kwargs)


def test_429_waits_what_retry_after_says_and_keeps_the_request_id() -> None:
    throttled = json_response(
        429,
        {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."},
        {"Retry-After": "1"},
    )
    script = Script([throttled, json_response(200, CUSTOMER_BODY)])
    sleeps = Sleeps()
    with client(script, sleeps) as pc:
        customer = pc.customers.by_id(CUSTOMER).get()
    assert customer.id == CUSTOMER
    assert sleeps.delays == [1.0]
    ids = script.header("MS-RequestId")
    assert len(ids) == 2 and ids[0] == ids[1]
    assert uuid.UUID(str(ids[0]))
    assert script.header("MS-CorrelationId")[0] == script.header("MS-CorrelationId")[1]


def test_429_after_the_last_attempt_is_a_typed_error_with_the_throttle_body() -> None:
    throttled = json_response(
        429, {"statusCode": 429, "message": "Try again in 57 seconds."}, {"Retry-After": "57"}
    )
    script = Script([throttled, throttled])
    sleeps = Sleeps()
    pc = client(script, sleeps, retry=RetryPolicy(max_attempts=2, jitter=0.0))
    with pc, pytest.raises(TooManyRequestsError) as caught:
        pc.customers.by_id(CUSTOMER).get()
    error = caught.value
    assert error.status == 429 and error.code == 429
    assert error.description == "Try again in 57 seconds."
    assert error.retry_after == 57.0
    assert error.request_id == script.header("MS-RequestId")[0]
    assert error.correlation_id == script.header("MS-CorrelationId")[0]
    assert sleeps.delays == [57.0]


def test_retry_after_longer_than_the_policy_allows_is_not_waited_for() -> None:
    throttled = json_response(429, {"statusCode": 429, "message": "later"}, {"Retry-After": "600"})
    script = Script([throttled])
    sleeps = Sleeps()
    pc = client(script, sleeps, retry=RetryPolicy(max_retry_after=60))
    with pc, pytest.raises(TooManyRequestsError):
        pc.customers.by_id(CUSTOMER).get()
    assert sleeps.delays == []


def test_400_is_not_retried_and_carries_the_partner_center_error() -> None:
    script = Script([fault(400, 800002, "Invalid request input")])
    sleeps = Sleeps()
    with client(script, sleeps) as pc, pytest.raises(BadRequestError) as caught:
        pc.customers.by_id(CUSTOMER).get()
    assert len(script.requests) == 1
    assert sleeps.delays == []
    error = caught.value
    assert (error.status, error.code, error.description) == (400, 800002, "Invalid request input")
    assert error.source == "PartnerFD"
    assert error.request_id == script.header("MS-RequestId")[0]


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, BadRequestError),
        (401, UnauthorizedError),
        (403, ForbiddenError),
        (404, NotFoundError),
        (409, ConflictError),
        (412, PreconditionFailedError),
    ],
)
def test_client_errors_are_never_retried(status: int, error_type: type[Exception]) -> None:
    script = Script([fault(status)])
    sleeps = Sleeps()
    with client(script, sleeps) as pc, pytest.raises(error_type):
        pc.customers.by_id(CUSTOMER).get()
    assert len(script.requests) == 1


def test_5xx_is_retried_with_exponential_backoff() -> None:
    script = Script([fault(503), fault(500), fault(502), json_response(200, CUSTOMER_BODY)])
    sleeps = Sleeps()
    with client(script, sleeps) as pc:
        assert pc.customers.by_id(CUSTOMER).get().id == CUSTOMER
    assert sleeps.delays == [0.5, 1.0, 2.0]
    assert len(set(script.header("MS-RequestId"))) == 1


def test_5xx_gives_up_after_max_attempts_with_a_server_error() -> None:
    script = Script([fault(500, 800003, "Unexpected service error.")] * 4)
    sleeps = Sleeps()
    with client(script, sleeps) as pc, pytest.raises(ServerError) as caught:
        pc.customers.by_id(CUSTOMER).get()
    assert len(script.requests) == 4
    assert caught.value.code == 800003


def test_501_is_not_retried() -> None:
    script = Script([fault(501, 0, "Exception not defined")])
    with client(script, Sleeps()) as pc, pytest.raises(ServerError):
        pc.customers.by_id(CUSTOMER).get()
    assert len(script.requests) == 1


def test_jitter_shortens_the_backoff_within_its_share() -> None:
    policy = RetryPolicy(base=1.0, cap=4.0, jitter=0.5)
    assert policy.backoff(1, rand=lambda: 0.0) == 1.0
    assert policy.backoff(1, rand=lambda: 1.0) == 0.5
    assert policy.backoff(3, rand=lambda: 0.0) == 4.0
    assert policy.backoff(10, rand=lambda: 0.0) == 4.0  # capped


def test_connection_errors_and_timeouts_are_retried_with_the_same_request_id() -> None:
    script = Script(
        [
            httpx.ConnectError("refused"),
            httpx.ReadTimeout("slow"),
            json_response(200, CUSTOMER_BODY),
        ]
    )
    sleeps = Sleeps()
    with client(script, sleeps) as pc:
        assert pc.customers.by_id(CUSTOMER).get().id == CUSTOMER
    assert sleeps.delays == [0.5, 1.0]
    assert len(set(script.header("MS-RequestId"))) == 1


def test_network_failure_after_the_last_attempt_is_a_transport_error() -> None:
    script = Script([httpx.ConnectError("refused")] * 2)
    pc = client(script, Sleeps(), retry=RetryPolicy(max_attempts=2))
    with pc, pytest.raises(TransportError) as caught:
        pc.customers.by_id(CUSTOMER).get()
    assert caught.value.request_id == script.header("MS-RequestId")[0]
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


class CountingCredential:
    """A TokenCredential that hands out a new token on every call."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(f"token-{len(self.scopes)}", 2_000_000_000)


def test_the_token_credential_is_asked_before_every_attempt() -> None:
    credential = CountingCredential()
    script = Script([fault(503), json_response(200, CUSTOMER_BODY)])
    with client(script, Sleeps(), credential=credential) as pc:
        pc.customers.by_id(CUSTOMER).get()
    assert credential.scopes == [(SCOPE,), (SCOPE,)]
    assert script.header("Authorization") == ["Bearer token-1", "Bearer token-2"]


def test_every_logical_call_gets_fresh_request_and_correlation_ids() -> None:
    script = Script([json_response(200, CUSTOMER_BODY), json_response(200, CUSTOMER_BODY)])
    with client(script, Sleeps()) as pc:
        pc.customers.by_id(CUSTOMER).get()
        pc.customers.by_id(CUSTOMER).get()
    assert len(set(script.header("MS-RequestId"))) == 2
    assert len(set(script.header("MS-CorrelationId"))) == 2
    first = script.requests[0]
    assert first.headers["Accept"] == "application/json"
    assert first.headers["MS-PartnerCenter-Client"].startswith("partnercart-python/")
    assert first.url == httpx.URL(f"{BASE}/v1/customers/{CUSTOMER}")


def test_retry_policy_is_frozen_and_validated() -> None:
    policy = RetryPolicy()
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_attempts = 9  # type: ignore[misc]
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="never retried"):
        RetryPolicy(retry_statuses=frozenset({409}))
    with pytest.raises(ValueError, match="fraction"):
        RetryPolicy(jitter=2.0)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    import datetime as dt

    now = dt.datetime(2026, 11, 21, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after("Sat, 21 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Sat, 21 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_success_with_an_unreadable_body_is_an_invalid_response_error() -> None:
    from partnercart.client import InvalidResponseError

    script = Script([httpx.Response(200, content=b"<html>proxy</html>")])
    with client(script, Sleeps()) as pc, pytest.raises(InvalidResponseError):
        pc.customers.by_id(CUSTOMER).get()


def test_an_error_without_a_partner_center_body_still_has_a_description() -> None:
    script = Script([httpx.Response(404, content=b"")])
    with client(script, Sleeps()) as pc, pytest.raises(NotFoundError) as caught:
        pc.customers.by_id(CUSTOMER).get()
    assert caught.value.description == "Not Found"
    assert caught.value.code is None


def test_the_async_client_runs_the_same_pipeline() -> None:
    throttled = json_response(429, {"statusCode": 429, "message": "x"}, {"Retry-After": "1"})
    script = Script([throttled, fault(503), json_response(200, CUSTOMER_BODY)])
    sleeps = Sleeps()
    credential = CountingCredential()

    async def main() -> str | None:
        async with AsyncPartnerCenter(
            BASE,
            credential,
            transport=script.transport(),
            sleep=sleeps.async_sleep,
            retry=NO_JITTER,
        ) as pc:
            return (await pc.customers.by_id(CUSTOMER).get()).id

    assert asyncio.run(main()) == CUSTOMER
    assert sleeps.delays == [1.0, 1.0]
    assert len(set(script.header("MS-RequestId"))) == 1
    assert script.header("Authorization") == [
        "Bearer token-1",
        "Bearer token-2",
        "Bearer token-3",
    ]


def test_the_async_client_raises_the_same_typed_errors() -> None:
    script = Script([fault(400)])

    async def main() -> None:
        async with AsyncPartnerCenter(BASE, "t", transport=script.transport()) as pc:
            await pc.customers.by_id(CUSTOMER).get()

    with pytest.raises(BadRequestError):
        asyncio.run(main())
    assert len(script.requests) == 1


def test_timeouts_locale_and_extra_headers_reach_the_wire() -> None:
    script = Script([json_response(200, CUSTOMER_BODY)])
    pc = PartnerCenter(
        BASE,
        "t",
        transport=script.transport(),
        timeout=7.5,
        locale="de-DE",
        headers={"MS-PartnerCenter-Application": "billing-sync"},
    )
    with pc:
        pc.customers.by_id(CUSTOMER).get()
    request = script.requests[0]
    assert request.extensions["timeout"] == httpx.Timeout(7.5).as_dict()
    assert request.headers["X-Locale"] == "de-DE"
    assert request.headers["MS-PartnerCenter-Application"] == "billing-sync"


def test_the_default_timeout_is_sixty_seconds_and_ten_to_connect() -> None:
    script = Script([json_response(200, CUSTOMER_BODY)])
    with PartnerCenter(BASE, "t", transport=script.transport()) as pc:
        pc.customers.by_id(CUSTOMER).get()
    timeout = script.requests[0].extensions["timeout"]
    assert timeout == {"connect": 10.0, "read": 60.0, "write": 60.0, "pool": 60.0}


def test_retry_policy_none_makes_one_attempt() -> None:
    script = Script([fault(503)])
    pc = client(script, Sleeps(), retry=RetryPolicy.none())
    with pc, pytest.raises(ServerError):
        pc.customers.by_id(CUSTOMER).get()
    assert len(script.requests) == 1


def test_a_base_url_that_already_names_the_version_is_kept() -> None:
    script = Script([json_response(200, CUSTOMER_BODY)])
    with PartnerCenter(f"{BASE}/v1/", "t", transport=script.transport()) as pc:
        pc.customers.by_id(CUSTOMER).get()
    assert script.requests[0].url.path == f"/v1/customers/{CUSTOMER}"


CART_ID = "5b1c87d9-8d2c-4d3f-b1b2-3f5ba1b3c6a0"


def _cart(quantity: int) -> Any:
    from partnercart.schema.cart import Cart, CartLineItem

    line = CartLineItem(catalog_item_id="CFQ7TTC0LFLZ:0002:CFQ7TTC0K4TS", quantity=quantity)
    return Cart(id=CART_ID, line_items=[line])


def _cart_answer(request: httpx.Request) -> httpx.Response:
    """Echo the cart that was sent, as the service would answer a PUT."""
    return httpx.Response(201, content=request.content)


def test_a_retried_async_write_sends_the_bytes_of_the_call_even_if_the_object_changes() -> None:
    """The body is encoded when the call is made: a change to the object while a retry waits
    (or before a task that was handed the call starts) is not sent under the same
    MS-RequestId, which the service would refuse as a different request (422)."""
    script = Script([httpx.ReadTimeout("lost"), _cart_answer])
    cart = _cart(3)

    async def sleep_and_change(seconds: float) -> None:
        cart.line_items[0].quantity = 4  # another task edits the cart during the backoff

    async def main() -> int:
        async with AsyncPartnerCenter(
            BASE, "t", transport=script.transport(), sleep=sleep_and_change, retry=NO_JITTER
        ) as pc:
            pending = pc.customers.by_id(CUSTOMER).carts.by_id(CART_ID).put(cart)
            cart.line_items[0].quantity = 5  # before the awaitable first runs
            return (await pending).line_items[0].quantity

    assert asyncio.run(main()) == 3
    assert len(script.requests) == 2
    assert script.requests[0].content == script.requests[1].content
    assert len(set(script.header("MS-RequestId"))) == 1


def test_client_headers_replace_the_sdks_own_whatever_their_casing() -> None:
    script = Script([json_response(200, CUSTOMER_BODY)])
    correlation = "0f0f0f0f-0000-4000-8000-000000000001"
    pc = PartnerCenter(
        BASE,
        "t",
        transport=script.transport(),
        headers={"ms-correlationid": correlation, "user-agent": "billing-sync/1.0"},
    )
    with pc:
        pc.customers.by_id(CUSTOMER).get()
    sent = script.requests[0].headers
    assert sent.get_list("MS-CorrelationId") == [correlation]
    assert sent.get_list("User-Agent") == ["billing-sync/1.0"]


def test_an_unreadable_answer_names_the_response_and_carries_both_ids() -> None:
    from partnercart.client import InvalidResponseError

    script = Script([json_response(200, {"id": CUSTOMER, "companyProfile": 5})])
    with client(script, Sleeps()) as pc, pytest.raises(InvalidResponseError) as caught:
        pc.customers.by_id(CUSTOMER).get()
    error = caught.value
    assert error.request_id == script.header("MS-RequestId")[0]
    assert error.correlation_id == script.header("MS-CorrelationId")[0]
    assert "Unexpected response body at $.companyProfile" in error.description
    assert "request body" not in error.description


def test_a_request_still_in_progress_is_asked_again_with_the_same_request_id() -> None:
    """409 / 800064: nothing was done yet; the same MS-RequestId later gets the answer."""
    script = Script([fault(409, 800064, "being processed"), json_response(200, CUSTOMER_BODY)])
    sleeps = Sleeps()
    with client(script, sleeps) as pc:
        assert pc.customers.by_id(CUSTOMER).get().id == CUSTOMER
    assert len(script.requests) == 2
    assert len(set(script.header("MS-RequestId"))) == 1
    assert sleeps.delays == [0.5]


def test_other_conflicts_and_an_opted_out_policy_raise_at_once() -> None:
    script = Script([fault(409, 800060, "conflict")])
    with client(script, Sleeps()) as pc, pytest.raises(ConflictError):
        pc.customers.by_id(CUSTOMER).get()
    assert len(script.requests) == 1
    policy = dataclasses.replace(NO_JITTER, retry_in_progress=False)
    script = Script([fault(409, 800064, "being processed")])
    with client(script, Sleeps(), retry=policy) as pc, pytest.raises(ConflictError) as caught:
        pc.customers.by_id(CUSTOMER).get()
    assert caught.value.code == 800064
    assert len(script.requests) == 1


def test_an_unreachable_token_endpoint_is_retried_under_the_same_policy() -> None:
    from partnercart.client import PartnercartCredential

    token_script = Script(
        [
            httpx.ConnectError("refused"),
            json_response(500, {"error": "temporarily_unavailable"}),
            json_response(200, {"access_token": "fresh", "expires_in": 3600}),
        ]
    )
    credential = PartnercartCredential(BASE, str(uuid.uuid4()), transport=token_script.transport())
    script = Script([json_response(200, CUSTOMER_BODY)])
    sleeps = Sleeps()
    with client(script, sleeps, credential=credential) as pc:
        assert pc.customers.by_id(CUSTOMER).get().id == CUSTOMER
    assert len(token_script.requests) == 3
    assert sleeps.delays == [0.5, 1.0]
    assert script.header("Authorization") == ["Bearer fresh"]


def test_a_token_endpoint_that_refuses_the_secret_is_not_retried() -> None:
    from partnercart.client import PartnercartCredential

    refusal = {"error": "invalid_client", "error_description": "bad secret"}
    token_script = Script([json_response(401, refusal)])
    credential = PartnercartCredential(BASE, str(uuid.uuid4()), transport=token_script.transport())
    sleeps = Sleeps()
    with (
        client(Script([]), sleeps, credential=credential) as pc,
        pytest.raises(UnauthorizedError, match="bad secret"),
    ):
        pc.customers.by_id(CUSTOMER).get()
    assert len(token_script.requests) == 1
    assert sleeps.delays == []


def test_an_http_client_passed_in_keeps_its_own_headers_and_query_parameters() -> None:
    script = Script([json_response(200, CUSTOMER_BODY)])
    http = httpx.Client(
        transport=script.transport(),
        headers={"Ocp-Apim-Subscription-Key": "key-1"},
        params={"api-version": "2"},
    )
    with http, PartnerCenter(BASE, "t", http_client=http) as pc:
        pc.customers.by_id(CUSTOMER).get()
    sent = script.requests[0]
    assert sent.headers["Ocp-Apim-Subscription-Key"] == "key-1"
    assert sent.url.params["api-version"] == "2"
    assert sent.headers.get_list("Accept") == ["application/json"]  # the call's own wins
    assert sent.headers["Authorization"] == "Bearer t"
