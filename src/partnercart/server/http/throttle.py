"""Per-partner request limits: a sliding window in this process, answered with 429."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from partnercart.server.domain.errors import TooManyRequests


class Throttle:
    """At most ``limit`` requests per ``window`` seconds for each partner (the token's ``tid``).

    A sliding log: each partner keeps the instants of its last ``limit`` admitted requests, so
    the memory per partner is bounded by the limit and ``Retry-After`` is exact (the seconds
    until the oldest admitted request leaves the window). Refused requests are not counted.
    Each server process keeps its own counts: with N processes behind a balancer a partner
    gets up to N times the limit (see docs/notes/idempotency-decisions.md).
    """

    #: Forget idle partners once this many are tracked.
    PRUNE_AT = 10_000

    def __init__(
        self, limit: int, window: float, *, now: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs at least 1 request per a positive window")
        self.limit = limit
        self.window = window
        self._now = now
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, partner_id: str) -> None:
        """Admit one request of ``partner_id``, or raise :class:`TooManyRequests`."""
        now = self._now()
        cutoff = now - self.window
        with self._lock:
            hits = self._hits.get(partner_id)
            if hits is None:
                if len(self._hits) >= self.PRUNE_AT:
                    self._prune(cutoff)
                hits = self._hits[partner_id] = deque()
            while hits and hits[0] <= cutoff:
                hits.popleft()
            if len(hits) >= self.limit:
                retry_after = max(1, math.ceil(hits[0] + self.window - now))
                raise TooManyRequests(
                    f"Rate limit is exceeded. Try again in {retry_after} seconds.",
                    retry_after=retry_after,
                )
            hits.append(now)

    def _prune(self, cutoff: float) -> None:
        idle = [p for p, hits in self._hits.items() if not hits or hits[-1] <= cutoff]
        for partner_id in idle:
            del self._hits[partner_id]
