"""Identifiers: time-ordered random GUIDs by default; a seeded source makes runs repeatable."""

from __future__ import annotations

import hashlib
import random
import re
import secrets
import threading
import time
import uuid
from typing import Protocol


class IdSource(Protocol):
    def uuid(self) -> str: ...

    def hex12(self) -> str:
        """Twelve lower-case hex digits: the id of a new-commerce order (``f76c6b7f449d``)."""
        ...


_RANDOM_BITS = 74
_LOW_62 = (1 << 62) - 1


def ordered_uuid(now_ms: int | None = None) -> str:
    """A GUID in version 4's layout (version nibble 4, RFC 4122 variant) whose first 48 bits are
    the time in Unix milliseconds and whose other 74 bits are random.

    Its text sorts by the time it was made, so the ids a burst of writes makes land next to each
    other in a key's index instead of on a random leaf each: a purchase writes fewer pages
    (docs/decisions.md). Nothing but the order tells it from a ``uuid4()``, so code that checks
    the version of Partner Center's ids (pydantic's ``UUID4``, say) accepts it as well.
    """
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    bits = secrets.randbits(_RANDOM_BITS)
    value = (
        (ms & 0xFFFF_FFFF_FFFF) << 80
        | 0x4 << 76
        | (bits >> 62) << 64
        | 0b10 << 62
        | (bits & _LOW_62)
    )
    return str(uuid.UUID(int=value))


class RandomIds:
    def uuid(self) -> str:
        return ordered_uuid()

    def hex12(self) -> str:
        return secrets.token_hex(6)


class SeededIds:
    """Deterministic UUIDs from a seed (for repeatable emulator runs and tests).

    :meth:`for_partner` gives each partner tenant its own stream derived from the seed and the
    tenant id, so tenants running in parallel do not shift each other's ids.
    """

    def __init__(self, seed: int, *, stream: str = "") -> None:
        self.seed = seed
        material = hashlib.sha256(f"{seed}/{stream}".encode()).digest()
        self._random = random.Random(int.from_bytes(material, "big") if stream else seed)
        self._lock = threading.Lock()
        self._streams: dict[str, SeededIds] = {}

    def uuid(self) -> str:
        with self._lock:
            bits = self._random.getrandbits(128)
        return str(uuid.UUID(int=bits, version=4))

    def hex12(self) -> str:
        with self._lock:
            bits = self._random.getrandbits(48)
        return f"{bits:012x}"

    def for_partner(self, partner_id: str) -> SeededIds:
        """The partner's own stream (the same object on every call)."""
        with self._lock:
            found = self._streams.get(partner_id)
            if found is None:
                found = self._streams[partner_id] = SeededIds(self.seed, stream=partner_id)
            return found


def ids_for_partner(ids: IdSource, partner_id: str) -> IdSource:
    """The id source for one partner: its own stream when ids are seeded, else ``ids``."""
    return ids.for_partner(partner_id) if isinstance(ids, SeededIds) else ids


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_guid(text: str) -> bool:
    """A GUID in its 36-character form (``8-4-4-4-12`` hex digits, either case)."""
    return _GUID.fullmatch(text) is not None
