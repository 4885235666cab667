"""External mode: the trusted issuer's public keys, from a JWKS file or URL, kept current.

Identity providers rotate their signing keys: a new ``kid`` appears in the JWKS before tokens
are signed with it, and an old one disappears after. A file is re-read whenever it changes (a
``stat`` per lookup); a URL is fetched again when a token names a key we do not know (at most
once per ``min_refresh``) and when the copy is older than ``max_age``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
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


def _fetch(url: str) -> Any:
    import httpx

    response = httpx.get(url, timeout=5.0, follow_redirects=False)
    response.raise_for_status()
    return response.json()


class JwksUrl:
    """A JWKS document served over HTTP(S), fetched at start and again on rotation."""

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
        self._keys = KeySet.from_jwks(fetch(url))  # unreachable at start: fail loudly
        self._fetched_at = monotonic()

    def _refresh(self) -> None:
        with self._lock:
            now = self._monotonic()
            if now - self._fetched_at < self._min_refresh:
                return
            self._fetched_at = now
            try:
                self._keys = KeySet.from_jwks(self._fetch(self._url))
            except Exception as exc:  # network, HTTP status, JSON: keep serving the old keys
                log.warning("keeping the previous keys; cannot fetch %s: %s", self._url, exc)

    def find(self, kid: str) -> PublicKey | None:
        if self._monotonic() - self._fetched_at >= self._max_age:
            self._refresh()
        found = self._keys.find(kid)
        if found is None:
            self._refresh()
            found = self._keys.find(kid)
        return found


def open_jwks(source: str) -> KeySource:
    """The key source for ``--jwks``: an ``http(s)://`` URL or a file path."""
    if source.startswith(("http://", "https://")):
        return JwksUrl(source)
    return JwksFile(Path(source))
