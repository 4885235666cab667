"""Credentials: partnercart's token endpoint with caching, static tokens, TokenCredential."""

from __future__ import annotations

import urllib.parse
from typing import Any

import httpx
import pytest

from partnercart.client import (
    SCOPE,
    PartnercartCredential,
    PartnerCenter,
    StaticTokenCredential,
    UnauthorizedError,
)
from partnercart.client._credentials import as_credential
from partnercart.testing._server import RunningServer
from tests.client.fakes import Script, json_response

TENANT = "8b1a5e0e-59cf-4a2a-9d0f-4b8b0b5a7f10"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def token_reply(n: int, expires_in: int = 3600) -> httpx.Response:
    return json_response(
        200, {"token_type": "Bearer", "expires_in": expires_in, "access_token": f"jwt-{n}"}
    )


def test_the_token_request_is_a_client_credentials_form() -> None:
    script = Script([token_reply(1)])
    credential = PartnercartCredential(
        "http://pc.example/", TENANT, "app-1", "s3cret", transport=script.transport()
    )
    assert credential.get_token(SCOPE).token == "jwt-1"
    (request,) = script.requests
    assert request.method == "POST"
    assert str(request.url) == f"http://pc.example/{TENANT}/oauth2/v2.0/token"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = dict(urllib.parse.parse_qsl(request.content.decode()))
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "app-1",
        "client_secret": "s3cret",
        "scope": SCOPE,
    }


def test_the_token_is_cached_until_shortly_before_it_expires() -> None:
    script = Script([token_reply(1, expires_in=3600), token_reply(2)])
    clock = Clock(1_000_000.0)
    credential = PartnercartCredential(
        "http://pc.example", TENANT, transport=script.transport(), clock=clock
    )
    assert credential.get_token(SCOPE).token == "jwt-1"
    clock.now += 3500
    assert credential.get_token(SCOPE).token == "jwt-1"
    assert len(script.requests) == 1
    clock.now += 80  # within 30 s of expiry
    assert credential.get_token(SCOPE).token == "jwt-2"
    assert len(script.requests) == 2


def test_a_refused_token_request_is_an_unauthorized_error() -> None:
    body = {
        "error": "invalid_client",
        "error_description": "client_id and client_secret are required.",
    }
    script = Script([json_response(401, body)])
    credential = PartnercartCredential("http://pc.example", TENANT, transport=script.transport())
    with pytest.raises(UnauthorizedError, match="invalid_client"):
        credential.get_token(SCOPE)


def test_the_credential_against_the_real_token_endpoint(partnercart_server: RunningServer) -> None:
    credential = PartnercartCredential(partnercart_server.url, TENANT)
    token = credential.get_token(SCOPE)
    assert token.token.count(".") == 2  # a JWT
    with PartnerCenter(partnercart_server.url, credential) as pc:
        assert pc.customers.list().to_list() == []
    with PartnerCenter(partnercart_server.url, token.token) as pc:
        assert pc.customers.list().to_list() == []


def test_static_tokens_and_duck_typed_credentials() -> None:
    assert StaticTokenCredential("Bearer abc").get_token(SCOPE).token == "abc"
    with pytest.raises(ValueError):
        StaticTokenCredential("  ")
    with pytest.raises(TypeError):
        as_credential(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        PartnerCenter("http://x")


def test_an_azure_core_token_credential_plugs_in() -> None:
    azure_credentials = pytest.importorskip("azure.core.credentials")

    class AzureStyle:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            assert scopes == (SCOPE,)
            return azure_credentials.AccessToken("azure-token", 2_000_000_000)

    script = Script([json_response(200, {"totalCount": 0, "items": []})])
    with PartnerCenter("http://pc.example", AzureStyle(), transport=script.transport()) as pc:
        pc.customers.list().to_list()
    assert script.requests[0].headers["Authorization"] == "Bearer azure-token"
