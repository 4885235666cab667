"""When to try a call again, and how long to wait first. Pure: no clock, no I/O."""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["IN_PROGRESS", "NEVER_RETRIED", "RetryPolicy", "parse_retry_after"]

#: Statuses that describe the request, not the moment: retrying cannot change the answer.
NEVER_RETRIED = frozenset({400, 401, 403, 404, 405, 406, 409, 412, 413, 415, 417, 422})

#: The 409 code that describes the moment, not the request: "being processed by another
#: request" (the first of the same ``MS-RequestId`` still runs, or another write holds the cart).
IN_PROGRESS = 800064


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with jitter.

    ``max_attempts`` counts the first try (1 = never retry). The n-th retry waits
    ``min(cap, base * 2 ** (n - 1))`` seconds, less a random share of up to ``jitter`` of it
    ("equal jitter" when 0.5). A 429 or 503 with ``Retry-After`` waits exactly what the server
    asked, unless that is more than ``max_retry_after``: then the error is raised at once.
    A 409 with code 800064 (:data:`IN_PROGRESS`) is retried like a dropped connection unless
    ``retry_in_progress`` is off: nothing was done, and the retry carries the same
    ``MS-RequestId``, so it gets the first request's answer once that one has finished.
    """

    max_attempts: int = 4
    base: float = 0.5
    cap: float = 30.0
    jitter: float = 0.5
    max_retry_after: float = 120.0
    retry_in_progress: bool = True
    retry_statuses: frozenset[int] = field(
        default_factory=lambda: frozenset({408, 429, 500, 502, 503, 504})
    )

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or self.max_retry_after < 0:
            raise ValueError("base, cap and max_retry_after must not be negative")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter is a fraction between 0 and 1")
        if self.retry_statuses & NEVER_RETRIED:
            bad = sorted(self.retry_statuses & NEVER_RETRIED)
            raise ValueError(f"these statuses are never retried: {bad}")

    @classmethod
    def none(cls) -> RetryPolicy:
        return cls(max_attempts=1)

    def backoff(self, retry_number: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds before retry number ``retry_number`` (1 for the first retry)."""
        ceiling = min(self.cap, self.base * float(2 ** max(0, retry_number - 1)))
        return ceiling * (1.0 - self.jitter * rand())

    def retries_status(self, status: int) -> bool:
        if status in NEVER_RETRIED:
            return False
        if status in self.retry_statuses:
            return True
        # Every other 5xx but 501 (the operation does not exist) and 505 (protocol).
        return status >= 500 and status not in (501, 505)

    def delay(
        self,
        *,
        attempt: int,
        status: int | None,
        retry_after: float | None,
        rand: Callable[[], float] = random.random,
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now.

        ``attempt`` is the number of the attempt that just failed (1 = the first);
        ``status`` is None for a connection error or timeout.
        """
        if attempt >= self.max_attempts:
            return None
        if status is not None and not self.retries_status(status):
            return None
        if retry_after is not None and status in (429, 503):
            return retry_after if retry_after <= self.max_retry_after else None
        return self.backoff(attempt, rand)


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date; None when absent/bad."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)
