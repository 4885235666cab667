"""Stop the server when the process it serves is gone.

A test run starts ``partnercart serve`` as a child and stops it when it ends; a run that is
killed (SIGKILL, a crashed xdist worker that never releases the shared server) would leave
the server running for ever. With ``PARTNERCART_EXIT_WITH=<pid>`` in its environment, ``serve``
checks twice a second whether that process still exists and, once it does not, sends itself
SIGTERM: uvicorn's graceful shutdown, as if the run had stopped it.
"""

from __future__ import annotations

import os
import signal
import threading
import time

ENV = "PARTNERCART_EXIT_WITH"


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def exit_with(pid: int, *, interval: float = 0.5) -> threading.Thread:
    """Watch ``pid`` in a daemon thread; SIGTERM this process when it is gone."""

    def watch() -> None:
        while alive(pid):
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=watch, name="partnercart-exit-with", daemon=True)
    thread.start()
    return thread


def from_environment() -> threading.Thread | None:
    """Start the watch when ``PARTNERCART_EXIT_WITH`` names a process; ``None`` otherwise."""
    value = os.environ.get(ENV, "").strip()
    if not value.isdigit() or int(value) <= 1:
        return None
    return exit_with(int(value))
