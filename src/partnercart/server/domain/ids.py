"""Identifiers: random by default; a seeded source makes runs repeatable."""

from __future__ import annotations

import random
import secrets
import uuid
from typing import Protocol


class IdSource(Protocol):
    def uuid(self) -> str: ...

    def hex12(self) -> str:
        """Twelve lower-case hex digits: the id of a new-commerce order (``f76c6b7f449d``)."""
        ...


class RandomIds:
    def uuid(self) -> str:
        return str(uuid.uuid4())

    def hex12(self) -> str:
        return secrets.token_hex(6)


class SeededIds:
    """Deterministic UUIDs from a seed (for repeatable emulator runs and tests)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def hex12(self) -> str:
        return f"{self._random.getrandbits(48):012x}"


def is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36
