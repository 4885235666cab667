"""Virtual clocks, one per partner tenant, kept in the database so every process agrees.

A partner without a stored clock follows the server's base clock (or, in deterministic mode,
stands still at ``--frozen-at``). A stored clock is either *frozen* at an instant, or *running*
at a fixed offset from the base clock.

Each process caches a partner's clock row for :data:`CACHE_TTL` seconds and drops its own cache
entry when it writes, so a change made through one process is seen by the others within that
time; the control routes always read the database directly.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from partnercart.server.control.durations import Duration
from partnercart.server.control.store import from_micros, rows, run, to_micros
from partnercart.server.domain.clock import Clock
from partnercart.server.storage.ports import Store, UnitOfWork

CACHE_TTL = 1.0

#: The instants a partner's clock may show. Times are stored as microseconds from the Unix
#: epoch, and the service adds up to a few years to "now" (a cart's 7 days, a stored answer's
#: 24 hours, terms and renewals): a clock near the end of the calendar would make every later
#: request of the partner fail, so a change that leaves this range is refused instead.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


class ClockOutOfRange(ValueError):
    """A clock change that would leave :data:`EARLIEST` .. :data:`LATEST`."""


def check_instant(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC, if a clock may show it; :class:`ClockOutOfRange` otherwise."""
    try:
        utc = moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise ClockOutOfRange(
            f"{moment.isoformat()} is outside the instants a clock may show "
            f"({EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}, UTC)."
        )
    return utc


def checked(state: ClockState, base: Clock) -> ClockState:
    """``state`` if the clock it describes shows an instant in range now."""
    try:
        moment = state.now(base)
    except OverflowError:
        raise ClockOutOfRange("The clock would leave the calendar.") from None
    check_instant(moment)
    return state


@dataclass(frozen=True, slots=True)
class ClockState:
    """A partner's clock: frozen at ``frozen_at``, or running at ``offset`` from the base."""

    frozen: bool
    frozen_at: dt.datetime | None = None
    offset: dt.timedelta = dt.timedelta(0)
    stored: bool = True

    def now(self, base: Clock) -> dt.datetime:
        if self.frozen and self.frozen_at is not None:
            return self.frozen_at
        return base.now() + self.offset


class PartnerClock:
    """What a use case sees as ``ctx.clock``: one partner's virtual time."""

    def __init__(self, state: ClockState, base: Clock) -> None:
        self.state = state
        self._base = base

    def now(self) -> dt.datetime:
        return self.state.now(self._base)


def _default(frozen_at: dt.datetime | None) -> ClockState:
    if frozen_at is not None:
        return ClockState(frozen=True, frozen_at=frozen_at, stored=False)
    return ClockState(frozen=False, stored=False)


def load(uow: UnitOfWork, partner_id: str, *, frozen_at: dt.datetime | None) -> ClockState:
    found = rows(
        uow, "SELECT frozen, value FROM control_clocks WHERE partner_id = ?", (partner_id,)
    )
    return _state(found[0]) if found else _default(frozen_at)


def _state(row: tuple[object, ...]) -> ClockState:
    """A stored ``(frozen, value)`` row as the clock it describes (:func:`_value` backwards)."""
    frozen, value = bool(row[0]), int(str(row[1]))
    if frozen:
        return ClockState(frozen=True, frozen_at=from_micros(value))
    return ClockState(frozen=False, offset=dt.timedelta(microseconds=value))


def _value(state: ClockState) -> int:
    if state.frozen:
        assert state.frozen_at is not None
        return to_micros(state.frozen_at)
    return (state.offset // dt.timedelta(microseconds=1)) if state.offset else 0


def save(uow: UnitOfWork, partner_id: str, state: ClockState, *, now: dt.datetime) -> None:
    # One statement (an update that found nothing, then an insert, lets two processes both
    # insert: a unique violation on PostgreSQL).
    run(
        uow,
        "INSERT INTO control_clocks (partner_id, frozen, value, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (partner_id) DO UPDATE SET frozen = excluded.frozen, "
        "value = excluded.value, updated_at = excluded.updated_at",
        (partner_id, state.frozen, _value(state), to_micros(now)),
    )


def load_for_change(
    uow: UnitOfWork, partner_id: str, *, frozen_at: dt.datetime | None, now: dt.datetime
) -> ClockState:
    """The partner's clock, its row locked until the unit of work ends (made first, with the
    state the partner has without one, if there is none): two changes at once then apply one
    after the other, instead of both starting from the same state and one being lost."""
    default = _default(frozen_at)
    run(
        uow,
        "INSERT INTO control_clocks (partner_id, frozen, value, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (partner_id) DO NOTHING",
        (partner_id, default.frozen, _value(default), to_micros(now)),
    )
    found = rows(
        uow,
        "SELECT frozen, value FROM control_clocks WHERE partner_id = ?" + uow.dialect.for_update,
        (partner_id,),
    )
    return _state(found[0])


def set_to(state: ClockState, moment: dt.datetime, base: Clock) -> ClockState:
    if state.frozen:
        return ClockState(frozen=True, frozen_at=moment)
    return ClockState(frozen=False, offset=moment - base.now())


def advanced(state: ClockState, duration: Duration, base: Clock) -> ClockState:
    """Moved by ``duration``; a running clock keeps running, its offset grown exactly."""
    now = state.now(base)
    delta = duration.add_to(now) - now
    if state.frozen:
        return ClockState(frozen=True, frozen_at=now + delta)
    return ClockState(frozen=False, offset=state.offset + delta)


def frozen(state: ClockState, base: Clock) -> ClockState:
    return ClockState(frozen=True, frozen_at=state.now(base))


def running(state: ClockState, base: Clock) -> ClockState:
    return ClockState(frozen=False, offset=state.now(base) - base.now())


class ClockSource:
    """Hands out each partner's clock, with a small per-process cache of the stored rows."""

    def __init__(
        self,
        store: Store,
        *,
        base: Clock,
        frozen_at: dt.datetime | None = None,
        ttl: float = CACHE_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.base = base
        self.frozen_at = frozen_at
        self._ttl = ttl
        self._monotonic = monotonic
        #: partner -> (when read, the clock made from the row): a hit makes no object.
        self._cache: dict[str, tuple[float, PartnerClock]] = {}
        self._lock = threading.Lock()

    def state(self, uow: UnitOfWork, partner_id: str) -> ClockState:
        """The stored state, read now (no cache)."""
        return load(uow, partner_id, frozen_at=self.frozen_at)

    def state_for_change(self, uow: UnitOfWork, partner_id: str) -> ClockState:
        """The stored state with its row locked for a change (:func:`load_for_change`)."""
        return load_for_change(uow, partner_id, frozen_at=self.frozen_at, now=self.base.now())

    def cached(self, partner_id: str) -> PartnerClock | None:
        """The partner's clock when the cached row is fresh; ``None`` when :meth:`for_partner`
        would have to read it (which blocks: on PostgreSQL, call that on a store thread)."""
        cached = self._cache.get(partner_id)
        if cached is not None and self._monotonic() - cached[0] < self._ttl:
            return cached[1]
        return None

    def for_partner(self, partner_id: str) -> PartnerClock:
        """The partner's clock; opens its own short read when the cached row is stale, so call
        it before the request's unit of work is opened."""
        now = self._monotonic()
        cached = self._cache.get(partner_id)  # one dict read is atomic; writes take the lock
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        with self.store.unit_of_work(write=False) as uow:
            clock = PartnerClock(self.state(uow, partner_id), self.base)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[partner_id] = (now, clock)
        return clock

    def invalidate(self, partner_id: str | None = None) -> None:
        with self._lock:
            if partner_id is None:
                self._cache.clear()
            else:
                self._cache.pop(partner_id, None)
