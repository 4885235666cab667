"""Remembering bearer tokens that verified, so a client's every request does not pay for an
RSA signature check and two base64/JSON decodes of the same token.

A token that verified at time ``t0`` verifies at any ``t`` with ``t0 <= t < exp``: the signature
and the ``aud``/``iss``/``tid`` checks do not depend on time and the key set does not change
while the server runs; ``nbf`` held at ``t0`` so it holds later; ``exp`` (without the leeway) is
checked here. Outside that window, or for a token not seen yet, the full check runs again.
Tokens that fail are never remembered, so they always get the full check and its error.
"""

from __future__ import annotations

import datetime as dt

from partnercart.server.domain.carts import Actor
from partnercart.server.identity.tokens import TokenVerifier

DEFAULT_CAPACITY = 1024


class VerifiedTokens:
    def __init__(self, verifier: TokenVerifier, *, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._verifier = verifier
        self._capacity = capacity
        # token -> (actor, verified at, expires at) as POSIX seconds; insertion order = age
        self._entries: dict[str, tuple[Actor, float, float]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def verify(self, token: str, *, now: dt.datetime) -> Actor:
        stamp = now.timestamp()
        entry = self._entries.get(token)
        if entry is not None:
            actor, verified_at, expires_at = entry
            if verified_at <= stamp < expires_at:
                return actor
            del self._entries[token]
        actor, claims = self._verifier.verify(token, now=now)
        exp = claims.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            if len(self._entries) >= self._capacity:
                del self._entries[next(iter(self._entries))]
            self._entries[token] = (actor, stamp, float(exp))
        return actor

    def clear(self) -> None:
        """Forget every token (call it if the trusted keys or the policy ever change)."""
        self._entries.clear()
