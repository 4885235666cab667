"""The indexed router answers exactly as Starlette's own loop over the same routes."""

from __future__ import annotations

import itertools
import json
import tempfile
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from partnercart.server.http.app import create_app
from partnercart.server.http.routing import IndexedRouter
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import Settings

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _echo(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        route = request.scope["route"]
        body = {"name": name, "route": route.path, "params": request.path_params}
        return Response(json.dumps(body, sort_keys=True), media_type="application/json")

    return endpoint


def _copies(routes: list[Route]) -> list[Route]:
    return [
        Route(r.path, _echo(f"{r.path} {sorted(r.methods or ())}"), methods=r.methods)
        for r in routes
    ]


def _answers(routes: list[Route], requests: list[tuple[str, str]], indexed: bool) -> list[object]:
    app = Starlette(routes=routes)
    if indexed:
        app.router = IndexedRouter(routes)
    out: list[object] = []
    with TestClient(app, follow_redirects=False) as client:
        for method, path in requests:
            answer = client.request(method, path)
            out.append((answer.status_code, answer.headers.get("allow"), answer.content))
    return out


@pytest.fixture(scope="module")
def app_routes() -> list[Route]:
    with tempfile.TemporaryDirectory() as tmp:
        runtime = build_runtime(Settings(data_dir=Path(tmp)))
        try:
            routes = [r for r in create_app(runtime).routes if isinstance(r, Route)]
        finally:
            runtime.close()
    return routes


def _paths_for(routes: list[Route]) -> list[str]:
    """Each route's path with made-up parameters, plus near misses."""
    paths: list[str] = []
    for route in routes:
        path = route.path
        for name in route.param_convertors:
            path = path.replace("{" + name + "}", f"v-{name}")
        paths += [path, path + "/", path + "/extra", path.upper()]
    return [*paths, "/", "/nothing", "/v1", "/v1/customers/x/carts/y/z/w"]


def test_the_app_uses_the_indexed_router_and_it_indexed_every_route(app_routes: list[Route]):
    router = IndexedRouter(app_routes)
    assert router._search is not None
    assert sum(len(group) for group in router._groups) == len(app_routes)


def test_every_app_route_and_near_miss_is_answered_as_starlette_answers(app_routes: list[Route]):
    routes = _copies(app_routes)
    requests = list(itertools.product(METHODS, _paths_for(app_routes)))
    indexed = _answers(routes, requests, indexed=True)
    plain = _answers(routes, requests, indexed=False)
    assert indexed == plain
    # the comparison is not vacuous: most routes were found, and 404 and 405 both occur
    statuses = [answer[0] for answer in indexed]  # type: ignore[index]
    assert statuses.count(200) >= len(app_routes)
    assert 404 in statuses and 405 in statuses


def test_a_later_pattern_that_takes_the_method_wins_as_in_starlette():
    # GET /x/{id} matches /x/new first but only PARTIALly for PUT; Starlette goes on to
    # PUT /x/new. The index must not answer 405.
    routes = _copies(
        [Route("/x/{id}", _echo(""), methods=["GET"]), Route("/x/new", _echo(""), methods=["PUT"])]
    )
    requests = [("PUT", "/x/new"), ("GET", "/x/new"), ("PUT", "/x/other"), ("DELETE", "/x/new")]
    indexed = _answers(routes, requests, indexed=True)
    assert indexed == _answers(routes, requests, indexed=False)
    assert [answer[0] for answer in indexed] == [200, 200, 405, 405]  # type: ignore[index]


def test_routes_of_one_pattern_apart_are_not_indexed_and_still_answer_alike():
    routes = _copies(
        [
            Route("/a/{id}", _echo(""), methods=["GET"]),
            Route("/b", _echo(""), methods=["GET"]),
            Route("/a/{id}", _echo(""), methods=["PUT"]),
        ]
    )
    assert IndexedRouter(routes)._search is None
    requests = [(m, p) for m in ("GET", "PUT", "POST") for p in ("/a/1", "/b", "/c")]
    assert _answers(routes, requests, indexed=True) == _answers(routes, requests, indexed=False)


def test_the_served_app_routes_through_the_index():
    with tempfile.TemporaryDirectory() as tmp:
        runtime = build_runtime(Settings(data_dir=Path(tmp)))
        app = create_app(runtime, owns_runtime=True)
        assert isinstance(app.router, IndexedRouter) and app.router._search is not None
        with TestClient(app) as client:
            assert client.get("/_partnercart/ping").status_code == 200
            assert client.get("/v1/customers/not-a-guid").status_code == 401
