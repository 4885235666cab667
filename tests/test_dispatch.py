"""Routes run under the gateway by ``Dispatch``: the answers Starlette's own layers would give,
without passing through them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from partnercart.server.domain.errors import NotFound, Unauthorized
from partnercart.server.http.app import create_app
from partnercart.server.http.dispatch import runs_directly
from partnercart.server.http.errors import HANDLERS, Handler
from partnercart.server.http.faults import ControlledApp
from partnercart.server.http.middleware import Gateway
from partnercart.server.http.requestlog import LogBuffer
from partnercart.server.runtime import Runtime


class _Again(Exception):
    """Asks its handler to run the request's route once more."""


class _RunRouteAgain(Response):
    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope["route"].app(scope, receive, send)


async def _again(request: Request, exc: Exception) -> Response:
    request.scope["state"]["ran_again"] = True
    return _RunRouteAgain()


async def ok(request: Request) -> Response:
    return Response(b'{"ok":true}', media_type="application/json")


def sync_ok(request: Request) -> Response:
    return Response(b'{"sync":true}', media_type="application/json")


async def not_found(request: Request) -> Response:
    raise NotFound("No such thing here.")


async def refused(request: Request) -> Response:
    raise HTTPException(status_code=404)


async def bug(request: Request) -> Response:
    raise RuntimeError("a bug")


async def teapot(request: Request) -> Response:
    raise HTTPException(status_code=418)


async def _short_and_stout(request: Request, exc: Exception) -> Response:
    return Response(b"short and stout", status_code=418)


async def twice(request: Request) -> Response:
    if request.scope["state"].get("ran_again"):
        raise Unauthorized("Still no key for this token.", code=400)
    raise _Again()


ROUTES = [
    Route("/ok", ok),
    Route("/sync", sync_ok),
    Route("/missing", not_found),
    Route("/refused", refused),
    Route("/bug", bug),
    Route("/twice", twice),
    Route("/teapot", teapot),
]


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    handlers: dict[Any, Handler] = {_Again: _again, 418: _short_and_stout, **HANDLERS}
    app = ControlledApp(
        routes=ROUTES,
        middleware=[Middleware(Gateway, runtime=runtime, buffer=LogBuffer(runtime))],
        exception_handlers=handlers,  # type: ignore[arg-type]
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def exception_middleware_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    original = ExceptionMiddleware.__call__

    async def counting(self: Any, scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(ExceptionMiddleware, "__call__", counting)
    return calls


def test_a_found_route_skips_starlettes_layers_and_the_rest_does_not(
    client: TestClient, exception_middleware_calls: list[str]
) -> None:
    assert client.get("/ok").json() == {"ok": True}
    assert exception_middleware_calls == []
    # No route at the path, a method no route takes, a sync endpoint: Starlette decides.
    nowhere = client.get("/nowhere")
    assert nowhere.status_code == 404
    assert nowhere.json()["description"] == "No resource is served at GET /nowhere."
    answer = client.post("/ok")
    assert answer.status_code == 405 and answer.headers["Allow"] == "GET, HEAD"
    assert client.get("/sync").json() == {"sync": True}
    assert exception_middleware_calls == ["/nowhere", "/ok", "/sync"]


def test_errors_of_a_found_route_get_the_error_body_with_the_gateways_headers(
    client: TestClient,
) -> None:
    # NotFound has no handler of its own: the nearest class that has one (ApiError) answers.
    answer = client.get("/missing", headers={"MS-CorrelationId": "c-1"})
    assert answer.status_code == 404
    assert answer.json()["description"] == "No such thing here."
    assert answer.headers["MS-CorrelationId"] == "c-1"
    assert "MS-RequestId" in answer.headers and "Date" in answer.headers
    # Starlette's own HTTPException goes to its handler too.
    refused = client.get("/refused")
    assert refused.status_code == 404
    assert refused.json()["description"] == "No resource is served at GET /refused."
    # A handler registered for a status code answers that code's HTTPException first.
    teapot = client.get("/teapot")
    assert (teapot.status_code, teapot.text) == (418, "short and stout")


def test_a_bug_is_answered_with_the_error_body_and_logged_once(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="partnercart.http")
    answer = client.get("/bug", headers={"MS-RequestId": "r-1"})
    assert answer.status_code == 500
    assert answer.json()["code"] == 800003
    assert answer.headers["MS-RequestId"] == "r-1"
    assert "a bug" not in answer.text
    logged = [r for r in caplog.records if r.name == "partnercart.http"]
    assert [r.getMessage() for r in logged] == ["unhandled error on GET /bug"]


def test_a_route_run_again_by_a_handler_has_its_errors_mapped(client: TestClient) -> None:
    answer = client.get("/twice")
    assert answer.status_code == 401
    assert answer.json()["description"] == "Still no key for this token."
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


# What Starlette's layers did for an app configured otherwise than ``create_app`` configures it,
# which the dispatcher must do too: it replaces them for every ``ControlledApp``.


class _Wrapped(Exception):
    """Its handler raises an error that has a handler of its own."""


class _SyncMapped(Exception):
    """Mapped by a plain (not async) handler."""


async def _raise_not_found(request: Request, exc: Exception) -> Response:
    raise NotFound("Mapped by the handler of what the handler raised.")


def _sync_conflict(request: Request, exc: Exception) -> Response:
    return Response(b"answered by a sync handler", status_code=409)


async def wrapped(request: Request) -> Response:
    raise _Wrapped()


async def sync_mapped(request: Request) -> Response:
    raise _SyncMapped()


async def conflict(request: Request) -> Response:
    raise HTTPException(status_code=409, detail="Taken.")


async def echo(request: Request) -> Response:
    return Response(await request.body())


class _Tag:
    """A route's own middleware: tags the answer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-tag", b"route")]
            await send(message)

        await self.app(scope, receive, tagged)


def _app(runtime: Runtime | None, **kwargs: Any) -> ControlledApp:
    routes = [
        *ROUTES,
        Route("/wrapped", wrapped),
        Route("/sync-mapped", sync_mapped),
        Route("/conflict", conflict),
        Route("/echo", echo, methods=["POST"]),
        Route("/tagged", ok, middleware=[Middleware(_Tag)]),
        Route("/limited", echo, methods=["POST"], max_body_size=4),
    ]
    if runtime is not None:
        kwargs.setdefault(
            "middleware", [Middleware(Gateway, runtime=runtime, buffer=LogBuffer(runtime))]
        )
    return ControlledApp(routes=routes, **kwargs)


def test_an_error_raised_by_a_handler_is_mapped_by_its_own_handler(runtime: Runtime) -> None:
    """Starlette's exception middleware around the route mapped what a handler raised."""
    handlers = {_Wrapped: _raise_not_found, _SyncMapped: _sync_conflict, **HANDLERS}
    with TestClient(_app(runtime, exception_handlers=handlers), raise_server_exceptions=False) as c:
        answer = c.get("/wrapped")
        assert answer.status_code == 404
        assert answer.json()["description"] == "Mapped by the handler of what the handler raised."
        assert "MS-RequestId" in answer.headers


def test_a_plain_function_handler_answers(runtime: Runtime) -> None:
    """Starlette runs a handler that is not a coroutine function in its thread pool."""
    handlers = {_Wrapped: _raise_not_found, _SyncMapped: _sync_conflict, **HANDLERS}
    with TestClient(_app(runtime, exception_handlers=handlers), raise_server_exceptions=False) as c:
        answer = c.get("/sync-mapped")
        assert (answer.status_code, answer.text) == (409, "answered by a sync handler")


def test_an_http_exception_without_a_handler_of_the_apps_gets_starlettes_answer() -> None:
    with TestClient(_app(None), raise_server_exceptions=False) as c:
        answer = c.get("/conflict")
        assert (answer.status_code, answer.text) == (409, "Taken.")
        assert c.get("/missing").status_code == 500  # an ApiError with no handler is a bug


def test_a_route_with_its_own_middleware_or_body_limit_runs_through_them(
    runtime: Runtime,
) -> None:
    with TestClient(_app(runtime, exception_handlers=HANDLERS)) as c:
        assert c.get("/tagged").headers.get("x-tag") == "route"
        assert c.post("/limited", content=b"four").text == "four"
        too_long = c.post("/limited", content=b"five!")
        assert too_long.status_code == 413
        assert c.post("/echo", content=b"five!").text == "five!"


def test_the_apps_own_body_limit_is_kept(runtime: Runtime) -> None:
    app = _app(runtime, exception_handlers=HANDLERS, max_body_size=4)
    with TestClient(app) as c:
        assert c.post("/echo", content=b"four").text == "four"
        assert c.post("/echo", content=b"five!").status_code == 413


async def _bug_in_the_background() -> None:
    raise RuntimeError("a bug after the answer")


async def answered_then_bug(request: Request) -> Response:
    return Response(b"answered", background=BackgroundTask(_bug_in_the_background))


def _run(app: ControlledApp, path: str) -> tuple[list[Message], BaseException | None]:
    """One GET through the app as a server runs it: what it sent, and what it raised."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }

    async def main() -> BaseException | None:
        try:
            await app(scope, receive, send)
        except BaseException as exc:
            return exc
        return None

    return sent, asyncio.run(main())


def _starts(sent: list[Message]) -> list[int]:
    return [m["status"] for m in sent if m["type"] == "http.response.start"]


def test_without_the_gateway_a_bug_gets_a_500_once_and_still_reaches_the_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="partnercart.http")
    routes = [Route("/bug", bug), Route("/late", answered_then_bug)]
    # Without an ``Exception`` handler: Starlette's own plain 500.
    sent, raised = _run(ControlledApp(routes=routes), "/bug")
    assert isinstance(raised, RuntimeError) and _starts(sent) == [500]
    assert sent[-1]["body"] == b"Internal Server Error"
    # An ``Exception`` handler that is a plain function runs too.
    plain = ControlledApp(routes=routes, exception_handlers={Exception: _sync_conflict})
    sent, raised = _run(plain, "/bug")
    assert isinstance(raised, RuntimeError) and _starts(sent) == [409]
    # In debug mode: Starlette's traceback page instead.
    sent, raised = _run(ControlledApp(routes=routes, debug=True), "/bug")
    assert isinstance(raised, RuntimeError) and _starts(sent) == [500]
    assert b"RuntimeError: a bug" in sent[-1]["body"]
    # With the app's handlers: their 500 body, logged once.
    app = ControlledApp(routes=routes, exception_handlers=HANDLERS)
    sent, raised = _run(app, "/bug")
    assert isinstance(raised, RuntimeError) and _starts(sent) == [500]
    # A bug after the answer started: no second answer on top of the first.
    sent, raised = _run(app, "/late")
    assert isinstance(raised, RuntimeError) and _starts(sent) == [200]
    logged = [r.getMessage() for r in caplog.records if r.name == "partnercart.http"]
    assert logged == ["unhandled error on GET /bug", "unhandled error on GET /late"]


@pytest.mark.parametrize("cancel", [asyncio.CancelledError, KeyboardInterrupt])
def test_a_base_exception_propagates_unanswered_and_unlogged(
    runtime: Runtime, caplog: pytest.LogCaptureFixture, cancel: type[BaseException]
) -> None:
    async def cancelled(request: Request) -> Response:
        raise cancel()

    caplog.set_level(logging.ERROR, logger="partnercart.http")
    app = ControlledApp(
        routes=[Route("/cancelled", cancelled)],
        middleware=[Middleware(Gateway, runtime=runtime, buffer=LogBuffer(runtime))],
        exception_handlers=HANDLERS,
    )
    sent, raised = _run(app, "/cancelled")
    assert isinstance(raised, cancel)
    assert sent == []
    assert [r for r in caplog.records if r.name == "partnercart.http"] == []


def test_every_route_of_the_app_runs_directly(runtime: Runtime) -> None:
    """Each of the app's routes is one the dispatcher awaits itself (none is left to
    Starlette's layers by a check that no longer recognises Starlette's route wrapper)."""
    routes = create_app(runtime).routes
    assert routes and [r.path for r in routes if not runs_directly(r)] == []  # type: ignore[attr-defined]


def test_a_client_that_hangs_up_mid_body_is_an_incomplete_request_not_a_bug(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    """The body's first chunk arrives, then the client goes: a 400 nobody reads, and no
    traceback logged as an unhandled error (it was a 500 and one)."""
    import asyncio
    import uuid

    from partnercart.server.http.app import create_app

    assert runtime.issuer is not None
    token = runtime.issuer.issue(
        tenant_id=str(uuid.uuid4()), client_id=str(uuid.uuid4()), now=runtime.wall_clock.now()
    )
    app = create_app(runtime)
    messages = iter(
        [
            {"type": "http.request", "body": b'{"companyProfile": {', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/customers",
        "raw_path": b"/v1/customers",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    caplog.set_level(logging.INFO, logger="partnercart.http")
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 400
    assert [r for r in caplog.records if r.name == "partnercart.http"] == []


def test_middleware_cannot_be_added_once_the_app_has_served(runtime: Runtime) -> None:
    """As Starlette refuses it: a middleware added later would silently never run."""
    from partnercart.server.http.app import create_app

    app = create_app(runtime)
    client = TestClient(app)  # no lifespan: the first request builds the stacks
    assert client.get("/_partnercart/ping").status_code == 200
    with pytest.raises(RuntimeError, match="after an application has started"):
        app.add_middleware(ExceptionMiddleware)
