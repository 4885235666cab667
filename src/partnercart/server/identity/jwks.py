"""External mode: the trusted issuer's public keys, from a JWKS file or URL, kept current.

Identity providers rotate their signing keys: a new ``kid`` appears in the JWKS before tokens
are signed with it, and an old one disappears after. A file is re-read whenever it changes (a
``stat`` per lookup); a URL is fetched again when a token names a key we do not know (at most
once per ``min_refresh``) and when the copy is older than ``max_age``, always on a thread of its
own: a lookup never waits on the network (see :class:`JwksUrl`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from partnercart.server.identity.tokens import KeySet, KeySource, PublicKey

log = logging.getLogger("partnercart.identity")


class JwksFile:
    """A JWKS document in a file, re-read when the file changes (so rotation needs no restart)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._keys = KeySet({})
        self._reload()  # a missing or unreadable file fails the start, loudly

    def _current_stamp(self) -> tuple[int, int, int]:
        st = os.stat(self._path)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _reload(self) -> None:
        stamp = self._current_stamp()
        keys = KeySet.from_jwks(json.loads(self._path.read_text(encoding="utf-8")))
        self._keys, self._stamp = keys, stamp

    def find(self, kid: str) -> PublicKey | None:
        try:
            changed = self._current_stamp() != self._stamp
        except OSError:
            changed = False  # gone for a moment (being replaced): keep the keys we have
        if changed:
            with self._lock:
                try:
                    self._reload()
                except (OSError, ValueError) as exc:
                    log.warning("keeping the previous keys; cannot read %s: %s", self._path, exc)
                    # Not again until the file changes once more (no retry, no log, per call).
                    with contextlib.suppress(OSError):
                        self._stamp = self._current_stamp()
        return self._keys.find(kid)

    def refetch(self, kid: str) -> Future[None] | None:
        return None  # ``find`` already re-reads a changed file


def _fetch(url: str) -> Any:
    import httpx

    response = httpx.get(url, timeout=5.0, follow_redirects=False)
    response.raise_for_status()
    return response.json()


class JwksUrl:
    """A JWKS document served over HTTP(S), fetched at start and again on rotation.

    Only the first fetch runs in the caller (the start, before anything is served: an
    unreachable provider fails it). Every later one runs on a thread started for it, one at a
    time, so the event loop that looks keys up never waits on the provider: :meth:`find`
    answers from the keys at hand, and starts a background refresh when they are ``max_age``
    old; :meth:`refetch` starts a fetch for a ``kid`` nobody knows (unless the last one ended
    less than ``min_refresh`` ago) and hands back its future, which only the requests that need
    the new keys await. A failed fetch keeps the previous keys.
    """

    def __init__(
        self,
        url: str,
        *,
        min_refresh: float = 30.0,
        max_age: float = 3600.0,
        fetch: Callable[[str], Any] = _fetch,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._min_refresh = min_refresh
        self._max_age = max_age
        self._fetch = fetch
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._fetching: Future[None] | None = None
        self._keys = KeySet.from_jwks(fetch(url))  # unreachable at start: fail loudly
        #: when the last fetch ended, whether it worked or not
        self._fetched_at = monotonic()

    @property
    def fetching(self) -> Future[None] | None:
        """The fetch under way, if any."""
        return self._fetching

    def find(self, kid: str) -> PublicKey | None:
        if self._monotonic() - self._fetched_at >= self._max_age and self._fetching is None:
            with self._lock:
                if self._fetching is None:
                    self._start()
        return self._keys.find(kid)

    def refetch(self, kid: str) -> Future[None] | None:
        with self._lock:
            if self._fetching is not None:
                return self._fetching  # it may bring the key too
            if self._monotonic() - self._fetched_at < self._min_refresh:
                return None  # random kids must not make us hammer the provider
            return self._start()

    def _start(self) -> Future[None] | None:
        """A fetch on a new thread (the lock is held, and no fetch is under way)."""
        done: Future[None] = Future()
        # Running from now on: a waiter that is cancelled cannot cancel it for the others.
        done.set_running_or_notify_cancel()
        thread = threading.Thread(
            target=self._run, args=(done,), name="partnercart-jwks", daemon=True
        )
        try:
            thread.start()
        except RuntimeError as exc:  # no thread to be had: keep the keys, try another time
            log.warning("keeping the previous keys; cannot start fetching %s: %s", self._url, exc)
            self._fetched_at = self._monotonic()  # as a failed fetch: not again at once
            return None
        self._fetching = done
        return done

    def _run(self, done: Future[None]) -> None:
        try:
            self._keys = KeySet.from_jwks(self._fetch(self._url))
        except Exception as exc:  # network, HTTP status, JSON: keep serving the old keys
            log.warning("keeping the previous keys; cannot fetch %s: %s", self._url, exc)
        finally:
            with self._lock:
                self._fetched_at = self._monotonic()
                self._fetching = None
            done.set_result(None)  # the new keys are in place before anyone waiting looks


def open_jwks(source: str) -> KeySource:
    """The key source for ``--jwks``: an ``http(s)://`` URL or a file path."""
    if source.startswith(("http://", "https://")):
        return JwksUrl(source)
    return JwksFile(Path(source))
