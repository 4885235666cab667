"""The app as an import string, for ``serve --workers N`` (uvicorn spawns each worker)."""

from __future__ import annotations

import ctypes
import dataclasses
import gc
import os

from partnercart.server.http.accesslog import configure_access_log
from partnercart.server.http.app import create_app
from partnercart.server.http.faults import ControlledApp
from partnercart.server.runtime import build_runtime
from partnercart.server.settings import settings_from_json

SETTINGS_ENV = "PARTNERCART_SETTINGS"


def app_from_environment() -> ControlledApp:
    """Each worker builds its own runtime: its own connections, no shared state but the
    database. Migrations ran once in the parent before the workers started."""
    settings = settings_from_json(os.environ[SETTINGS_ENV])
    if settings.access_log:
        configure_access_log()
    runtime = build_runtime(dataclasses.replace(settings, migrate_on_start=False))
    app = create_app(runtime, owns_runtime=True)
    prepare_serving(app)
    return app


def prepare_serving(app: ControlledApp) -> None:
    """What a process that serves does once its app is built (``serve`` and each worker):
    keep the heap's top (:func:`keep_heap_top`, reported by ``/_partnercart/info``), then
    freeze the startup heap (:func:`freeze_startup_heap`)."""
    app.parts.heap_top_kept = keep_heap_top()
    freeze_startup_heap()


#: glibc's ``mallopt`` parameter for the trim threshold (``M_TRIM_THRESHOLD`` in malloc.h).
_M_TRIM_THRESHOLD = -1
#: Free memory at the top of the heap kept rather than handed back to the system.
HEAP_TOP_KEPT = 64 * 1024 * 1024


def keep_heap_top(size: int = HEAP_TOP_KEPT) -> int | None:
    """Tell glibc's allocator to keep up to ``size`` bytes of free memory at the top of its heap
    instead of handing it back to the system each time a ``free`` leaves that much; returns
    ``size``, or ``None`` when nothing was set.

    A request allocates and frees blocks too large for Python's own small-object allocator
    (bodies, the request log's rows), and the request log holds the newest 1000 rows per
    partner. With glibc's default threshold (128 KB) the heap's top was given back and taken
    again over and over: each time a system call and fresh zeroed pages. Raising it made GET
    cart 17% faster side by side (bench/ab.py; docs/decisions.md). Not set when the operator
    chose an allocator setting (any ``MALLOC_*`` variable, which glibc reads itself), nor
    where the C library has no ``mallopt`` (macOS; musl has one that does nothing)."""
    if any(name.startswith("MALLOC_") for name in os.environ):
        return None
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # no C library by that call (Windows)
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return size if mallopt(_M_TRIM_THRESHOLD, size) == 1 else None


def freeze_startup_heap() -> None:
    """Take what is alive once the app is built (modules, the catalog, keys: tens of thousands
    of objects that live as long as the process) out of the cyclic collector's sight. Without
    this every full collection walked them all: up to 47 ms with no request answered, the
    largest part of the p99 latency of writes (bench/run.py; docs/decisions.md). Only for a
    process that serves: ``serve`` and its workers call it, an app built in a test does not."""
    gc.collect()
    gc.freeze()
