"""``PartnerCenter`` (sync) and ``AsyncPartnerCenter``: configuration plus the tree's roots."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Generic, TypeVar

import anyio
import httpx

from partnercart.client._builders import CustomersBuilder, ProductsBuilder
from partnercart.client._credentials import TokenCredential, as_credential
from partnercart.client._executors import AsyncExecutor, SyncExecutor
from partnercart.client._operation import root_url
from partnercart.client._pipeline import Attempt, CallOptions
from partnercart.client._retry import RetryPolicy

__all__ = ["DEFAULT_BASE_URL", "AsyncPartnerCenter", "PartnerCenter"]

DEFAULT_BASE_URL = "https://api.partnercenter.microsoft.com"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)

E = TypeVar("E", SyncExecutor, AsyncExecutor)


def _options(
    base_url: str,
    retry: RetryPolicy | None,
    locale: str | None,
    headers: Mapping[str, str] | None,
    on_attempt: Callable[[Attempt], None] | None,
    timeout: httpx.Timeout,
) -> CallOptions:
    return CallOptions(
        root=root_url(base_url),
        retry=retry if retry is not None else RetryPolicy(),
        locale=locale,
        headers=dict(headers or {}),
        on_attempt=on_attempt,
        timeout=timeout,
    )


def _timeout(
    value: float | httpx.Timeout | None, http: httpx.Client | httpx.AsyncClient | None
) -> httpx.Timeout:
    """The per-attempt timeout: the one given, else that of a client passed in, else 60 s."""
    if value is None:
        return http.timeout if http is not None else DEFAULT_TIMEOUT
    return value if isinstance(value, httpx.Timeout) else httpx.Timeout(value)


class _Roots(Generic[E]):
    _executor: E

    @property
    def customers(self) -> CustomersBuilder[E]:
        """``/customers``: ``create``, ``list``, ``by_id(c)`` → ``carts``, ``orders``, ..."""
        return CustomersBuilder(self._executor)

    def products(self, *, country: str) -> ProductsBuilder[E]:
        """The catalog for one country: ``products(country="US").by_id(p).skus``..."""
        if not country or len(country) != 2 or not country.isalpha():
            raise ValueError("country must be a two-letter code such as 'US'")
        return ProductsBuilder(self._executor, country.upper())


class PartnerCenter(_Roots[SyncExecutor]):
    """The synchronous client.

    ``credential`` is a bearer token string, any ``azure.core`` TokenCredential (asked for the
    scope ``https://api.partnercenter.microsoft.com/.default`` before every attempt), or a
    :class:`PartnercartCredential`. ``sleep`` exists so tests can observe retry delays.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        credential: TokenCredential | str | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        locale: str | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_attempt: Callable[[Attempt], None] | None = None,
    ) -> None:
        if credential is None:
            raise TypeError("a credential is required (a token string or a TokenCredential)")
        self.base_url = base_url
        self._owns_http = http_client is None
        effective = _timeout(timeout, http_client)
        self._http = http_client or httpx.Client(transport=transport, timeout=effective)
        self._executor = SyncExecutor(
            self._http,
            as_credential(credential),
            _options(base_url, retry, locale, headers, on_attempt, effective),
            sleep,
            client_defaults=http_client is not None,
        )

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> PartnerCenter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncPartnerCenter(_Roots[AsyncExecutor]):
    """The asyncio/trio client: the same tree, each call awaited, lists iterated with
    ``async for``."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        credential: TokenCredential | str | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        locale: str | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        on_attempt: Callable[[Attempt], None] | None = None,
    ) -> None:
        if credential is None:
            raise TypeError("a credential is required (a token string or a TokenCredential)")
        self.base_url = base_url
        self._owns_http = http_client is None
        effective = _timeout(timeout, http_client)
        self._http = http_client or httpx.AsyncClient(transport=transport, timeout=effective)
        self._executor = AsyncExecutor(
            self._http,
            as_credential(credential),
            _options(base_url, retry, locale, headers, on_attempt, effective),
            sleep,
            client_defaults=http_client is not None,
        )

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncPartnerCenter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
