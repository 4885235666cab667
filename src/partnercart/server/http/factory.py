"""The app as an import string, for ``serve --workers N`` (uvicorn spawns each worker)."""

from __future__ import annotations

import dataclasses
import gc
import os

from starlette.applications import Starlette

from partnercart.server.http.accesslog import configure_access_log
from partnercart.server.http.app import create_app
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import settings_from_json

SETTINGS_ENV = "PARTNERCART_SETTINGS"


def app_from_environment() -> Starlette:
    """Each worker builds its own runtime: its own connections, no shared state but the
    database. Migrations ran once in the parent before the workers started."""
    settings = settings_from_json(os.environ[SETTINGS_ENV])
    if settings.access_log:
        configure_access_log()
    runtime = build_runtime(dataclasses.replace(settings, migrate_on_start=False))
    app = create_app(runtime, owns_runtime=True)
    freeze_startup_heap()
    return app


def freeze_startup_heap() -> None:
    """Take what is alive once the app is built (modules, the catalog, keys: tens of thousands
    of objects that live as long as the process) out of the cyclic collector's sight. Without
    this every full collection walked them all: up to 47 ms with no request answered, the
    largest part of the p99 latency of writes (bench/run.py; docs/decisions.md). Only for a
    process that serves: ``serve`` and its workers call it, an app built in a test does not."""
    gc.collect()
    gc.freeze()
