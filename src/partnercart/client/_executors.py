"""The two drivers of :func:`partnercart.client._pipeline.run`: one over ``httpx.Client`` and
``time.sleep``, one over ``httpx.AsyncClient`` and ``anyio.sleep``. Each is a short loop that
performs the pipeline's I/O requests; neither knows anything about operations or retries."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

import anyio
import httpx

from partnercart.client._credentials import TokenCredential, token_async, token_sync
from partnercart.client._errors import PartnerCenterError
from partnercart.client._operation import Operation, Page, next_page_operation
from partnercart.client._pipeline import (
    CallOptions,
    GetToken,
    Received,
    Send,
    Sleep,
    new_id,
    run,
)

T = TypeVar("T")
ItemT = TypeVar("ItemT")

__all__ = ["AsyncExecutor", "AsyncPager", "Pager", "SyncExecutor"]


def with_client_defaults(
    request: httpx.Request, http: httpx.Client | httpx.AsyncClient
) -> httpx.Request:
    """A request built by the pipeline, with the headers and query parameters the caller set on
    the ``http_client`` it passed in (``send`` does not add them, unlike ``get`` or ``post``):
    the call's own headers win, the client's fill in the rest."""
    for name, value in http.headers.multi_items():
        if name not in request.headers:
            request.headers[name] = value
    if http.params:
        request.url = request.url.copy_merge_params(http.params)
    return request


def _page_ops(first: Operation[Page[Any]]) -> Callable[[Page[Any]], Operation[Any] | None]:
    """A 'what comes next' function that also refuses to visit the same page twice."""
    seen = {(first.path, first.params, first.headers)}

    def follow(page: Page[Any]) -> Operation[Any] | None:
        nxt = next_page_operation(first, page)
        if nxt is None:
            return None
        key = (nxt.path, nxt.params, nxt.headers)
        if key in seen:
            return None
        seen.add(key)
        return nxt

    return follow


class SyncExecutor:
    def __init__(
        self,
        http: httpx.Client,
        credential: TokenCredential,
        options: CallOptions,
        sleep: Callable[[float], None] = time.sleep,
        *,
        client_defaults: bool = False,
    ) -> None:
        self.http = http
        self.credential = credential
        self.options = options
        self.sleep = sleep
        self.client_defaults = client_defaults

    def _prepared(self, request: httpx.Request) -> httpx.Request:
        return with_client_defaults(request, self.http) if self.client_defaults else request

    def call(self, op: Operation[T], *, correlation_id: str | None = None) -> T:
        return self._drive(run(op, self.options, correlation_id=correlation_id))

    def pages(self, op: Operation[Page[ItemT]]) -> Pager[ItemT]:
        return Pager(self, op)

    def _drive(self, gen: Generator[Any, Any, T]) -> T:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                action = gen.send(value) if error is None else gen.throw(error)
            except StopIteration as stop:
                result: T = stop.value
                return result
            value, error = None, None
            if isinstance(action, GetToken):
                try:
                    value = token_sync(self.credential)
                except (httpx.TransportError, PartnerCenterError) as exc:
                    error = exc  # the pipeline decides whether to try again
            elif isinstance(action, Send):
                try:
                    response = self.http.send(self._prepared(action.request))
                    value = Received(
                        response.status_code,
                        response.headers,
                        response.content,
                        response.reason_phrase,
                    )
                except httpx.TransportError as exc:
                    error = exc
            elif isinstance(action, Sleep):
                self.sleep(action.seconds)


class AsyncExecutor:
    def __init__(
        self,
        http: httpx.AsyncClient,
        credential: TokenCredential,
        options: CallOptions,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        *,
        client_defaults: bool = False,
    ) -> None:
        self.http = http
        self.credential = credential
        self.options = options
        self.sleep = sleep
        self.client_defaults = client_defaults

    def _prepared(self, request: httpx.Request) -> httpx.Request:
        return with_client_defaults(request, self.http) if self.client_defaults else request

    def call(self, op: Operation[T], *, correlation_id: str | None = None) -> Awaitable[T]:
        return self._drive(run(op, self.options, correlation_id=correlation_id))

    def pages(self, op: Operation[Page[ItemT]]) -> AsyncPager[ItemT]:
        return AsyncPager(self, op)

    async def _drive(self, gen: Generator[Any, Any, T]) -> T:
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                action = gen.send(value) if error is None else gen.throw(error)
            except StopIteration as stop:
                result: T = stop.value
                return result
            value, error = None, None
            if isinstance(action, GetToken):
                try:
                    value = await token_async(self.credential)
                except (httpx.TransportError, PartnerCenterError) as exc:
                    error = exc  # the pipeline decides whether to try again
            elif isinstance(action, Send):
                try:
                    response = await self.http.send(self._prepared(action.request))
                    value = Received(
                        response.status_code,
                        response.headers,
                        response.content,
                        response.reason_phrase,
                    )
                except httpx.TransportError as exc:
                    error = exc
            elif isinstance(action, Sleep):
                await self.sleep(action.seconds)


class Pager(Generic[ItemT]):
    """Iterates the items of a collection across its pages, lazily; ``by_page()`` yields the
    pages. All pages of one listing share an ``MS-CorrelationId``; each has its own
    ``MS-RequestId``."""

    def __init__(self, executor: SyncExecutor, op: Operation[Page[ItemT]]) -> None:
        self._executor = executor
        self._op = op

    def by_page(self) -> Iterator[Page[ItemT]]:
        correlation = new_id()
        follow = _page_ops(self._op)
        op: Operation[Any] | None = self._op
        while op is not None:
            page: Page[ItemT] = self._executor.call(op, correlation_id=correlation)
            yield page
            op = follow(page)

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.by_page():
            yield from page.items

    def to_list(self) -> list[ItemT]:
        return list(self)


class AsyncPager(Generic[ItemT]):
    """The async twin of :class:`Pager`: ``async for item in pager``."""

    def __init__(self, executor: AsyncExecutor, op: Operation[Page[ItemT]]) -> None:
        self._executor = executor
        self._op = op

    async def by_page(self) -> AsyncIterator[Page[ItemT]]:
        correlation = new_id()
        follow = _page_ops(self._op)
        op: Operation[Any] | None = self._op
        while op is not None:
            page: Page[ItemT] = await self._executor.call(op, correlation_id=correlation)
            yield page
            op = follow(page)

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.by_page():
            for item in page.items:
                yield item

    async def to_list(self) -> list[ItemT]:
        return [item async for item in self]
