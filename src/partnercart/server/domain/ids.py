"""Identifiers: random by default; a seeded source makes runs repeatable."""

from __future__ import annotations

import random
import uuid
from typing import Protocol


class IdSource(Protocol):
    def uuid(self) -> str: ...


class RandomIds:
    def uuid(self) -> str:
        return str(uuid.uuid4())


class SeededIds:
    """Deterministic UUIDs from a seed (for repeatable emulator runs and tests)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))


def is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36
