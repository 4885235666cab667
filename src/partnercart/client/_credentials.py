"""Credentials: anything with ``get_token(scope)`` (the ``azure.core`` TokenCredential contract),
a static bearer token, or partnercart's own client-credentials token endpoint."""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, Protocol, runtime_checkable

import httpx

__all__ = [
    "SCOPE",
    "AccessToken",
    "AccessTokenLike",
    "PartnercartCredential",
    "StaticTokenCredential",
    "TokenCredential",
]

#: The scope a Partner Center token is requested for (azure-identity style).
SCOPE = "https://api.partnercenter.microsoft.com/.default"


class AccessTokenLike(Protocol):
    @property
    def token(self) -> str: ...

    @property
    def expires_on(self) -> int: ...


class AccessToken(NamedTuple):
    """A bearer token and its expiry (seconds since the epoch), as ``azure.core`` has it."""

    token: str
    expires_on: int


@runtime_checkable
class TokenCredential(Protocol):
    """The ``azure.core.credentials.TokenCredential`` contract: every azure-identity credential
    (``ClientSecretCredential``, ``DefaultAzureCredential``, ...) satisfies it."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessTokenLike: ...


class StaticTokenCredential:
    """A token you already have. It is never refreshed."""

    def __init__(self, token: str) -> None:
        token = token.strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if not token:
            raise ValueError("the token is empty")
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, 2**31 - 1)


class PartnercartCredential:
    """Client credentials against a partnercart server's token endpoint
    (``POST {server}/{tenant}/oauth2/v2.0/token``). The token is cached and fetched again
    ``refresh_margin`` seconds before it expires (the .NET SDK uses 30 s)."""

    def __init__(
        self,
        server_url: str,
        tenant_id: str,
        client_id: str = "partnercart-sdk",
        client_secret: str = "partnercart",
        *,
        refresh_margin: float = 30.0,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.tenant_id = tenant_id
        self.client_id = client_id
        self._secret = client_secret
        self._margin = refresh_margin
        self._timeout = timeout
        self._transport = transport
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: AccessToken | None = None

    @property
    def token_url(self) -> str:
        return f"{self.server_url}/{self.tenant_id}/oauth2/v2.0/token"

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        scope = " ".join(scopes) or SCOPE
        with self._lock:
            cached = self._cached
            if cached is not None and cached.expires_on - self._margin > self._clock():
                return cached
            fresh = self._fetch(scope)
            self._cached = fresh
            return fresh

    def _fetch(self, scope: str) -> AccessToken:
        from partnercart.client._errors import TransportError, error_for_status

        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret,
            "scope": scope,
        }
        try:
            with httpx.Client(transport=self._transport, timeout=self._timeout) as http:
                response = http.post(self.token_url, data=form)
        except httpx.TransportError as exc:
            raise TransportError(
                f"cannot reach the token endpoint {self.token_url}: {exc}"
            ) from exc
        if response.status_code != 200:
            error = error_for_status(
                response.status_code,
                response.content,
                request_id=None,
                correlation_id=None,
                reason=response.reason_phrase,
            )
            try:
                oauth = response.json()
                if isinstance(oauth, dict) and "error_description" in oauth:
                    error.description = f"{oauth.get('error')}: {oauth['error_description']}"
                    error.args = (error.description,)
            except ValueError:
                pass
            raise error
        document = response.json()
        lifetime = int(document.get("expires_in", 3600))
        return AccessToken(str(document["access_token"]), int(self._clock()) + lifetime)


def as_credential(credential: TokenCredential | str) -> TokenCredential:
    if isinstance(credential, str):
        return StaticTokenCredential(credential)
    if not callable(getattr(credential, "get_token", None)):
        raise TypeError(
            "credential must be a token string or have get_token(scope) (a TokenCredential)"
        )
    return credential


def token_sync(credential: TokenCredential) -> str:
    return credential.get_token(SCOPE).token


async def token_async(credential: Any) -> str:
    """A token from a sync credential (run in a worker thread unless it is static) or from an
    ``azure.core`` AsyncTokenCredential (awaited)."""
    if isinstance(credential, StaticTokenCredential):
        return credential.get_token(SCOPE).token
    get = credential.get_token
    if inspect.iscoroutinefunction(get):
        result: Any = await get(SCOPE)
        return str(result.token)
    import anyio.to_thread

    produced: Any = await anyio.to_thread.run_sync(get, SCOPE)
    if isinstance(produced, Awaitable):
        produced = await produced
    return str(produced.token)
