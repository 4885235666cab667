"""Database URLs: ``sqlite:///path/to/file.db`` or ``postgresql://user@host:port/db``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    engine: str  # "sqlite" or "postgresql"
    target: str  # a file path, or a libpq connection URI

    @classmethod
    def parse(cls, text: str) -> DatabaseUrl:
        scheme = urlsplit(text).scheme.lower()
        if scheme == "sqlite":
            path = text.split("://", 1)[1]
            path = path[1:] if path.startswith("/") else path
            if not path or path == ":memory:":
                raise ValueError("SQLite needs a file path: sqlite:///path/to/partnercart.db")
            return cls("sqlite", path)
        if scheme in {"postgresql", "postgres", "postgresql+psycopg"}:
            return cls("postgresql", "postgresql://" + text.split("://", 1)[1])
        raise ValueError(
            f"unsupported database URL {text!r}: use sqlite:///FILE or postgresql://HOST/DB"
        )

    def sqlalchemy(self) -> str:
        if self.engine == "sqlite":
            return f"sqlite:///{self.target}"
        return "postgresql+psycopg://" + self.target.split("://", 1)[1]

    def __str__(self) -> str:
        return f"sqlite:///{self.target}" if self.engine == "sqlite" else self.target
