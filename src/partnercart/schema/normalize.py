"""Bring a request document to the canonical wire form before typed conversion.

Partner Center reads property names in any casing (the .NET SDK sends PascalCase), enum text in
every observed form (``Monthly``, ``monthly``, ``one_time``, ``OneTime``, the numeric value),
integers the way Newtonsoft.Json reads an ``int`` (see :func:`_int`), and ignores fields the
server owns. A plan is compiled once per root type from msgspec's type
information, so the per-request walk does dictionary lookups only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum
from functools import cache
from typing import Any

import msgspec.inspect as mi

Plan = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def camel_key(key: str) -> str:
    """Camel-case a dictionary key as the .NET service does: ``SubscriptionId`` →
    ``subscriptionId``, ``ID`` → ``id``, ``URLValue`` → ``urlValue``."""
    if not key or not key[0].isupper():
        return key
    run = 1
    while run < len(key) and key[run].isupper():
        run += 1
    if run == len(key) or run == 1:
        return key[:run].lower() + key[run:]
    # Keep the last capital of a leading run when it starts the next word.
    return key[: run - 1].lower() + key[run - 1 :]


def enum_key(text: str) -> str:
    return text.replace("_", "").replace("-", "").replace(" ", "").lower()


def _enum_plan(cls: type[Enum]) -> Plan:
    members = list(cls)
    by_text: dict[str, Any] = {}
    for member in members:
        by_text[enum_key(str(member.value))] = member.value
        by_text[enum_key(member.name)] = member.value
    fallback = by_text.get("unknown")

    def plan(value: Any) -> Any:
        if isinstance(value, str):
            found = by_text.get(enum_key(value))
            if found is not None:
                return found
            return fallback if fallback is not None else value
        if isinstance(value, int) and not isinstance(value, bool):
            if 0 <= value < len(members):
                return members[value].value
            return fallback if fallback is not None else value
        return value

    return plan


#: ISO 8601 forms .NET's DateTime reads that RFC 3339 does not: a date alone, and a time of day
#: without seconds (``2026-03-31``, ``2026-03-31T00:00Z``).
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NO_SECONDS = re.compile(r"(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2})([Zz]|[+-]\d{2}:?\d{2})?")


def _datetime(value: Any) -> Any:
    """A date alone is its midnight; a time without seconds gets ``:00``."""
    if isinstance(value, str):
        text = value.strip()
        if _DATE_ONLY.fullmatch(text):
            return f"{text}T00:00:00"
        found = _NO_SECONDS.fullmatch(text)
        if found:
            return f"{found.group(1)}:00{found.group(2) or ''}"
    return value


class NotAnInteger(ValueError):
    """A value where an integer belongs that Newtonsoft.Json would not read as one. ``path``
    collects the place on the way out, innermost first (``.quantity``, ``[0]``, ``.lineItems``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str] = []

    def where(self) -> str:
        return "$" + "".join(reversed(self.path))


#: What ``int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture)`` accepts: ASCII
#: digits, one leading sign, white space (tab to carriage return, space) on either side.
_INTEGER_TEXT = re.compile(r"[\t\n\v\f\r ]*([+-]?[0-9]+)[\t\n\v\f\r ]*")


def _int(value: Any) -> Any:
    """An integer as Newtonsoft.Json reads a JSON value into an ``int``: a JSON integer; a string
    holding one (``"5"``, ``" +5 "``; an empty string is null); not a string with a fraction or
    an exponent (``"5.0"``, ``"1e2"``: "Could not convert string to integer"), nor a JSON number
    with one (``5.0``, ``1e2``: "not a valid integer"). Everything else is left to the typed
    conversion (a boolean, an object: "Expected `int`"); out-of-range values to its bounds."""
    kind = type(value)
    if kind is int:
        return value
    if kind is str:
        found = _INTEGER_TEXT.fullmatch(value)
        if found is not None:
            return int(found.group(1))
        if not value:
            return None
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise NotAnInteger(f"expected an integer, got the string {shown!r}")
    if kind is float:
        raise NotAnInteger(
            f"expected an integer, got {value!r} (a number with a fraction or an exponent)"
        )
    return value


def _dict_plan(value_plan: Plan, camel_keys: bool) -> Plan:
    def plan(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        try:
            if camel_keys:
                return {camel_key(k): value_plan(v) for k, v in value.items()}
            return {k: value_plan(v) for k, v in value.items()}
        except NotAnInteger as exc:
            exc.path.append("[...]")  # msgspec's own notation for a dictionary's value
            raise

    return plan


def _list_plan(item_plan: Plan) -> Plan:
    def plan(value: Any) -> Any:
        if isinstance(value, list):
            try:
                return [item_plan(v) for v in value]
            except NotAnInteger:
                # Rare: find the item again, for the path (the comprehension cannot say).
                for index, item in enumerate(value):
                    try:
                        item_plan(item)
                    except NotAnInteger as exc:
                        exc.path.append(f"[{index}]")
                        raise
                raise
        return value

    return plan


def _struct_plan(info: mi.StructType, drop_server_owned: bool, memo: dict[Any, Plan]) -> Plan:
    fields: dict[str, tuple[str, Plan]] = {}
    owned: frozenset[str] = getattr(info.cls, "server_owned", frozenset())

    def plan(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        name = ""
        try:
            for key, item in value.items():
                if not isinstance(key, str):
                    continue
                entry = fields.get(key.lower())
                if entry is None:
                    continue
                name, sub = entry
                if drop_server_owned and name in owned:
                    continue
                out[name] = None if item is None else sub(item)
        except NotAnInteger as exc:
            exc.path.append(f".{name}")
            raise
        return out

    # Register before compiling children so recursive types (addonItems) resolve.
    memo[(info.cls, drop_server_owned)] = plan
    for field in info.fields:
        fields[field.encode_name.lower()] = (
            field.encode_name,
            _compile(field.type, drop_server_owned, memo),
        )
    return plan


def _compile(t: mi.Type, drop: bool, memo: dict[Any, Plan]) -> Plan:
    if isinstance(t, mi.StructType):
        existing = memo.get((t.cls, drop))
        if existing is not None:
            return lambda v: memo[(t.cls, drop)](v)
        return _struct_plan(t, drop, memo)
    if isinstance(t, mi.EnumType):
        return _enum_plan(t.cls)
    if isinstance(t, mi.DateTimeType):
        return _datetime
    if isinstance(t, mi.IntType):
        return _int
    if isinstance(t, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        return _list_plan(_compile(t.item_type, drop, memo))
    if isinstance(t, mi.DictType):
        return _dict_plan(_compile(t.value_type, drop, memo), isinstance(t.key_type, mi.StrType))
    if isinstance(t, mi.UnionType):
        inner = [x for x in t.types if not isinstance(x, mi.NoneType)]
        if len(inner) == 1:
            return _compile(inner[0], drop, memo)
        return _identity
    if isinstance(t, mi.Metadata):
        return _compile(t.type, drop, memo)
    return _identity


@cache
def plan_for(root: type, *, drop_server_owned: bool) -> Plan:
    """The normalising walk for ``root`` (cached per type and mode)."""
    return _compile(mi.type_info(root), drop_server_owned, {})
