"""Which database errors mean "not now" rather than a bug, for the HTTP layer's one mapping."""

from __future__ import annotations

import sqlite3

import psycopg

#: A constraint broken: a bug, or a row another connection deleted meanwhile (a foreign key,
#: under a reset; the reset itself is run again when it meets one).
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError)
#: the driver errors :func:`unavailable` sorts; the HTTP layer registers a handler for each
DRIVER_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.OperationalError,
    psycopg.OperationalError,
    *INTEGRITY_ERRORS,
)


def unavailable(exc: BaseException) -> bool:
    """True when the database could not answer now and the same request may work later: a
    PostgreSQL connection lost or refused, a server shutting down, a lock or statement that
    timed out (every ``psycopg.OperationalError``); SQLite's file still locked by another
    process when the busy timeout ran out; a row that referred to one another connection
    deleted meanwhile (a foreign key, under a reset). Other errors (a missing table, a unique
    key broken, say) are bugs."""
    if isinstance(exc, psycopg.OperationalError):
        return True
    if isinstance(exc, psycopg.errors.ForeignKeyViolation):
        # What a request's row referred to (its customer, say) was deleted by another
        # connection meanwhile, a reset: nothing was written, and asked again the request
        # gets the answer the state now calls for (403 or 404).
        return True
    if isinstance(exc, sqlite3.IntegrityError):
        return "foreign key" in str(exc).lower()
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return "locked" in text or "busy" in text
    return False
