"""The admin credential that guards the control routes.

``Settings.auth.admin_key`` when set; otherwise a random key kept in the file ``admin-key`` in
the data directory (made on first start, mode 0600), so the CLI on the same machine finds it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

FILE_NAME = "admin-key"


def key_file(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def load_or_create(data_dir: Path) -> str:
    """The key in ``data_dir/admin-key``, made when absent. Safe when several processes start
    at once: the file is created exclusively and written whole before anyone reads it."""
    path = key_file(data_dir)
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
        with contextlib.suppress(FileExistsError):  # another process got there first
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def read(data_dir: Path) -> str | None:
    path = key_file(data_dir)
    return path.read_text().strip() if path.exists() else None
