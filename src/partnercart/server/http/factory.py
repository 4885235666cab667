"""The app as an import string, for ``serve --workers N`` (uvicorn spawns each worker)."""

from __future__ import annotations

import dataclasses
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
    return create_app(runtime, owns_runtime=True)
