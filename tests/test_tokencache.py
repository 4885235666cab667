"""Remembered tokens answer exactly as the full check would, only faster."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import pytest

from conftest import Api
from partnercart.server.domain.carts import Actor
from partnercart.server.domain.errors import Unauthorized
from partnercart.server.http.tokencache import VerifiedTokens
from partnercart.server.identity.keys import SigningKey
from partnercart.server.identity.tokens import KeySet, TokenIssuer, TokenPolicy, TokenVerifier

ISSUER = "https://login.partnercart.local/{tenantid}/v2.0"
T0 = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
LIFETIME = dt.timedelta(hours=1)
LEEWAY = dt.timedelta(seconds=60)


class CountingVerifier(TokenVerifier):
    def __init__(self, keys: KeySet, policy: TokenPolicy) -> None:
        super().__init__(keys, policy)
        self.calls = 0

    def verify(self, token: str, *, now: dt.datetime) -> tuple[Actor, Mapping[str, Any]]:
        self.calls += 1
        return super().verify(token, now=now)


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def verifier(key: SigningKey) -> CountingVerifier:
    return CountingVerifier(
        KeySet({key.kid: key.public}), TokenPolicy(issuer=ISSUER, leeway=LEEWAY)
    )


def issue(key: SigningKey, tenant: str, *, now: dt.datetime = T0) -> str:
    issuer = TokenIssuer(key, issuer=ISSUER, lifetime=LIFETIME)
    return issuer.issue(tenant_id=tenant, client_id=str(uuid.uuid4()), now=now)


def test_a_token_is_checked_once_while_it_is_valid(
    key: SigningKey, verifier: CountingVerifier
) -> None:
    tokens = VerifiedTokens(verifier)
    tenant = str(uuid.uuid4())
    token = issue(key, tenant)
    first = tokens.verify(token, now=T0)
    again = tokens.verify(token, now=T0 + LIFETIME - dt.timedelta(seconds=1))
    assert first == again
    assert first.partner_id == tenant
    assert verifier.calls == 1


def test_expiry_is_judged_by_the_full_check_with_its_leeway(
    key: SigningKey, verifier: CountingVerifier
) -> None:
    tokens = VerifiedTokens(verifier)
    token = issue(key, str(uuid.uuid4()))
    tokens.verify(token, now=T0)
    # past exp but within the leeway: the full check runs again and still accepts
    tokens.verify(token, now=T0 + LIFETIME + dt.timedelta(seconds=30))
    assert verifier.calls == 2
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(token, now=T0 + LIFETIME + LEEWAY)
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(token, now=T0 + LIFETIME + LEEWAY + dt.timedelta(hours=1))
    assert verifier.calls == 4


def test_a_clock_before_the_first_check_gets_the_full_check(
    key: SigningKey, verifier: CountingVerifier
) -> None:
    tokens = VerifiedTokens(verifier)
    token = issue(key, str(uuid.uuid4()), now=T0)
    tokens.verify(token, now=T0 + dt.timedelta(minutes=5))
    with pytest.raises(Unauthorized, match="not valid yet"):
        tokens.verify(token, now=T0 - dt.timedelta(minutes=5))
    assert verifier.calls == 2


def test_rejected_tokens_are_never_remembered(key: SigningKey, verifier: CountingVerifier) -> None:
    tokens = VerifiedTokens(verifier)
    other = SigningKey.generate()
    forged = issue(other, str(uuid.uuid4()))
    tampered = issue(key, str(uuid.uuid4()))[:-4] + "AAAA"
    for token in (forged, tampered, forged, tampered):
        with pytest.raises(Unauthorized):
            tokens.verify(token, now=T0)
    assert verifier.calls == 4
    assert len(tokens) == 0


def test_the_oldest_token_is_forgotten_past_capacity(
    key: SigningKey, verifier: CountingVerifier
) -> None:
    tokens = VerifiedTokens(verifier, capacity=2)
    a, b, c = (issue(key, str(uuid.uuid4())) for _ in range(3))
    for token in (a, b, c):
        tokens.verify(token, now=T0)
    assert len(tokens) == 2
    tokens.verify(c, now=T0)
    assert verifier.calls == 3
    tokens.verify(a, now=T0)
    assert verifier.calls == 4
    tokens.clear()
    assert len(tokens) == 0
    with pytest.raises(ValueError):
        VerifiedTokens(verifier, capacity=0)


def test_each_partner_keeps_its_own_identity_over_http(api: Api) -> None:
    mine = api.new_customer()
    other = api.as_partner(str(uuid.uuid4()))
    theirs = other.new_customer()
    for _ in range(3):
        assert api.get(f"/v1/customers/{mine}").status_code == 200
        assert other.get(f"/v1/customers/{theirs}").status_code == 200
        assert api.get(f"/v1/customers/{theirs}").status_code == 403
        assert other.get(f"/v1/customers/{mine}").status_code == 403
    assert api.get("/v1/customers", headers={"Authorization": "Bearer x.y.z"}).status_code == 401
