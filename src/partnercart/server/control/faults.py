"""Fault rules: which requests to disturb, and how.

A rule matches on any of partner, customer, method and route (a template such as
``/v1/customers/{customer_id}/carts/{cart_id}``, or a glob such as ``/v1/customers/*/carts*``).
Counting starts when the rule is made: it fires first on the ``nth`` matching call, then on
every matching call after that, ``times`` times in all (``null``: for ever). A rule that has
fired ``times`` times is *spent*: it stays in the list but no longer matches.

Actions:

- ``status``: answer ``status`` with a Partner Center error body (``code``, ``description``);
  a 429 gets ``Retry-After`` and the ``{statusCode, message}`` throttling body;
- ``latency``: wait ``latencyMs`` and then serve the request normally;
- ``drop``: close the connection without answering;
- ``apply_then_status`` / ``apply_then_drop``: run the request (its change commits), then throw
  the answer away and answer the error, or close the connection.

``latencyMs`` also delays the other actions.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import threading
import time
from collections.abc import Callable, Iterable
from typing import Literal

import msgspec

from partnercart.server.control.store import rows, run, to_micros
from partnercart.server.domain.errors import BadRequest
from partnercart.server.domain.ids import is_guid
from partnercart.server.storage.ports import Store, UnitOfWork

Action = Literal["status", "latency", "drop", "apply_then_status", "apply_then_drop"]
ACTIONS: tuple[str, ...] = ("status", "latency", "drop", "apply_then_status", "apply_then_drop")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
CACHE_TTL = 0.5

#: The default Partner Center code for an injected status.
DEFAULT_CODES = {400: 800002, 401: 800001, 403: 2032, 404: 1000, 409: 800060, 412: 800036}


class FaultSpec(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """What a caller sends to make a rule."""

    action: Action = "status"
    partner: str | None = None
    customer: str | None = None
    method: str | None = None
    route: str | None = None
    nth: int = 1
    times: int | None = None
    status: int = 500
    code: int | None = None
    description: str | None = None
    retry_after: int = 1
    latency_ms: int = 0


class FaultRule(msgspec.Struct, rename="camel", kw_only=True):
    """A stored rule, as listed."""

    id: str
    action: Action
    partner: str | None
    customer: str | None
    method: str | None
    route: str | None
    nth: int
    times: int | None
    status: int
    code: int
    description: str
    retry_after: int
    latency_ms: int
    created_at: str = ""
    seen: int = 0
    fired: int = 0
    spent: bool = False

    def matches(
        self,
        *,
        partner_id: str | None,
        customer_id: str | None,
        method: str,
        path: str,
        template: str | None,
    ) -> bool:
        if self.partner is not None and self.partner != partner_id:
            return False
        if self.customer is not None and (
            partner_id is None or (customer_id or "").lower() != self.customer
        ):
            # A customer's rule is for requests that name the customer with a valid token:
            # one without (a 401 to be) neither fires it nor uses it up.
            return False
        if self.method is not None and self.method != method.upper():
            return False
        if self.route is not None:
            if "{" in self.route:
                return template == self.route
            return fnmatch.fnmatchcase(path, self.route)
        return True


def _bad(message: str, field: str) -> BadRequest:
    return BadRequest(message, data=[field])


def _segments(route: str) -> list[str | None]:
    """A template's segments, each placeholder as ``None`` whatever its name."""
    path = route.rstrip("/") or "/"
    if path.startswith("/v1.0/") or path == "/v1.0":
        path = "/v1" + path[5:]
    return [
        None if part.startswith("{") and part.endswith("}") else part.lower()
        for part in path.split("/")
    ]


def served_template(route: str, templates: Iterable[str]) -> str | None:
    """The served route template ``route`` names, whatever it calls its placeholders
    (``{c}``, ``{customerId}``) and with or without a trailing slash or ``v1.0``."""
    wanted = _segments(route)
    for template in templates:
        if _segments(template) == wanted:
            return template
    return None


def validate(
    spec: FaultSpec,
    *,
    rule_id: str,
    now: dt.datetime,
    templates: Iterable[str] | None = None,
) -> FaultRule:
    """A checked rule from what the caller sent; a 400 naming the field otherwise.

    With ``templates`` (the served Partner Center route templates), a route written as a
    template must name one of them; it is stored as the served spelling, so it matches."""
    if spec.partner is not None and not is_guid(spec.partner):
        raise _bad("partner must be a partner tenant id (a GUID).", "partner")
    if spec.customer is not None and not is_guid(spec.customer):
        raise _bad("customer must be a customer id (a GUID).", "customer")
    method = spec.method.strip().upper() if spec.method else None
    if method is not None and method not in METHODS:
        raise _bad(f"method must be one of {', '.join(METHODS)}.", "method")
    route = spec.route.strip() if spec.route else None
    if route is not None and not route.startswith(("/", "*")):
        raise _bad("route must be a path template or glob starting with / or *.", "route")
    if route is not None and route.startswith("/_partnercart"):
        raise _bad("The control routes cannot be faulted.", "route")
    if route is not None and "{" in route and templates is not None:
        served = sorted(set(templates))
        found = served_template(route, served)
        if found is None:
            raise _bad(
                f"route {route} is not a served route template (a glob such as "
                f"/v1/customers/*/carts* matches paths); the templates are: {', '.join(served)}.",
                "route",
            )
        route = found
    if spec.nth < 1:
        raise _bad("nth must be 1 or more (1: from the first matching call).", "nth")
    if spec.times is not None and spec.times < 1:
        raise _bad("times must be 1 or more, or null for every matching call.", "times")
    if not 400 <= spec.status <= 599:
        raise _bad("status must be an HTTP error status (400-599).", "status")
    if not 0 <= spec.retry_after <= 86_400:
        raise _bad("retryAfter must be between 0 and 86400 seconds.", "retryAfter")
    if not 0 <= spec.latency_ms <= 120_000:
        raise _bad("latencyMs must be between 0 and 120000.", "latencyMs")
    if spec.action == "latency" and spec.latency_ms == 0:
        raise _bad("A latency rule needs latencyMs above 0.", "latencyMs")
    code = spec.code if spec.code is not None else DEFAULT_CODES.get(spec.status, 800003)
    if spec.status == 429 and spec.code is None:
        code = 429
    description = spec.description or (
        "Requests are being throttled; retry after the interval in Retry-After."
        if spec.status == 429
        else f"Injected fault: the emulator answered {spec.status} by rule {rule_id}."
    )
    return FaultRule(
        id=rule_id,
        action=spec.action,
        partner=spec.partner.lower() if spec.partner else None,
        customer=spec.customer.lower() if spec.customer else None,
        method=method,
        route=route,
        nth=spec.nth,
        times=spec.times,
        status=spec.status,
        code=code,
        description=description[:1000],
        retry_after=spec.retry_after,
        latency_ms=spec.latency_ms,
        created_at=now.isoformat().replace("+00:00", "Z"),
    )


_encoder = msgspec.json.Encoder()


def _from_row(row: tuple[object, ...]) -> FaultRule:
    rule = msgspec.json.decode(bytes(row[3]), type=FaultRule)  # type: ignore[call-overload]
    seen, fired = int(row[1]), int(row[2])  # type: ignore[call-overload]
    spent = rule.times is not None and fired >= rule.times
    return msgspec.structs.replace(rule, seen=seen, fired=fired, spent=spent)


def bump_version(uow: UnitOfWork) -> None:
    # One statement: an update that found no row followed by an insert lets two processes
    # both insert (a unique violation on PostgreSQL).
    run(
        uow,
        "INSERT INTO control_versions (name, version) VALUES ('faults', 1) "
        "ON CONFLICT (name) DO UPDATE SET version = control_versions.version + 1",
    )


def version(uow: UnitOfWork) -> int:
    found = rows(uow, "SELECT version FROM control_versions WHERE name = 'faults'")
    return int(found[0][0]) if found else 0


def owned(uow: UnitOfWork, rule: FaultRule) -> FaultRule:
    """``rule`` with the partner of its customer filled in, when the customer exists: only
    that partner's requests can then fire it (another partner's would be refused 403 by the
    route, and must not use up the rule its test relies on). 400 when the rule names another
    partner than the customer's."""
    if rule.customer is None:
        return rule
    found = rows(uow, "SELECT partner_id FROM customers WHERE id = ?", (rule.customer,))
    if not found:
        return rule
    owner = str(found[0][0])
    if rule.partner is not None and rule.partner != owner:
        raise _bad(
            f"Customer {rule.customer} is not a customer of partner {rule.partner}.", "customer"
        )
    return msgspec.structs.replace(rule, partner=owner)


def add(uow: UnitOfWork, rule: FaultRule, *, now: dt.datetime) -> None:
    run(
        uow,
        "INSERT INTO control_faults (id, partner_id, created_at, seen, fired, body) "
        "VALUES (?, ?, ?, 0, 0, ?)",
        (rule.id, rule.partner, to_micros(now), _encoder.encode(rule)),
    )
    bump_version(uow)


def list_rules(uow: UnitOfWork, *, partner_id: str | None = None) -> list[FaultRule]:
    sql = "SELECT id, seen, fired, body FROM control_faults"
    params: tuple[str, ...] = ()
    if partner_id is not None:
        sql += " WHERE partner_id = ?"
        params = (partner_id,)
    return [_from_row(r) for r in rows(uow, sql + " ORDER BY created_at, id", params)]


def delete(uow: UnitOfWork, rule_id: str) -> bool:
    deleted = bool(run(uow, "DELETE FROM control_faults WHERE id = ?", (rule_id,)).rowcount == 1)
    if deleted:
        bump_version(uow)
    return deleted


def delete_all(uow: UnitOfWork, *, partner_id: str | None = None) -> int:
    if partner_id is None:
        count = int(run(uow, "DELETE FROM control_faults").rowcount)
    else:
        count = int(
            run(uow, "DELETE FROM control_faults WHERE partner_id = ?", (partner_id,)).rowcount
        )
    bump_version(uow)
    return count


def hit(uow: UnitOfWork, rule_ids: Iterable[str]) -> FaultRule | None:
    """Count a matching call against each live rule (in order); the first rule that fires on it.
    A spent rule (another process may still have it cached) neither counts nor fires."""
    fired_rule: FaultRule | None = None
    for rule_id in rule_ids:
        # Locked until the unit of work ends (PostgreSQL; SQLite has one writer at a time):
        # concurrent calls count one after the other, so a rule fires exactly ``times`` times.
        found = rows(
            uow,
            "SELECT id, seen, fired, body FROM control_faults WHERE id = ?"
            + uow.dialect.for_update,
            (rule_id,),
        )
        if not found or _from_row(found[0]).spent:
            continue
        rule = _from_row(found[0])
        seen = rule.seen + 1
        fires = fired_rule is None and seen >= rule.nth
        fired = rule.fired + (1 if fires else 0)
        run(
            uow,
            "UPDATE control_faults SET seen = ?, fired = ? WHERE id = ?",
            (seen, fired, rule_id),
        )
        if fires:
            spent = rule.times is not None and fired >= rule.times
            fired_rule = msgspec.structs.replace(rule, seen=seen, fired=fired, spent=spent)
            if spent:
                bump_version(uow)  # every process reloads its rules
    return fired_rule


class FaultBook:
    """The live rules as this process knows them: reloaded when the shared version counter
    moves (checked at most every :data:`CACHE_TTL` seconds) or when this process writes."""

    def __init__(
        self,
        store: Store,
        *,
        ttl: float = CACHE_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._checked = -1e18
        self._version = -1
        self._rules: list[FaultRule] = []

    def invalidate(self) -> None:
        with self._lock:
            self._checked = -1e18
            self._version = -1

    def cached(self) -> list[FaultRule] | None:
        """The rules when the cache is fresh; ``None`` when :meth:`live` must read."""
        with self._lock:
            if self._monotonic() - self._checked < self._ttl:
                return self._rules
        return None

    def live(self) -> list[FaultRule]:
        """The rules that can still fire (read from the database when the cache is stale)."""
        now = self._monotonic()
        with self._lock:
            if now - self._checked < self._ttl:
                return self._rules
        with self.store.unit_of_work(write=False) as uow:
            current = version(uow)
            rules = None
            if current != self._version:
                rules = [r for r in list_rules(uow) if not r.spent]
        with self._lock:
            self._checked = now
            if rules is not None:
                self._version = current
                self._rules = rules
            return self._rules
