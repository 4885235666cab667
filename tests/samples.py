"""The published Partner Center samples (../shared/reference/doc-samples.json), for tests."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

_CANDIDATES = [
    Path(os.environ.get("PARTNERCART_REFERENCE", "")) / "doc-samples.json",
    Path(__file__).resolve().parents[1] / "tests" / "data" / "doc-samples.json",
]


@cache
def all_samples() -> list[dict[str, Any]]:
    for path in _CANDIDATES:
        if path.is_file():
            return list(json.loads(path.read_text(encoding="utf-8"))["samples"])
    raise FileNotFoundError("doc-samples.json not found")


def sample(sample_id: str) -> dict[str, Any]:
    for item in all_samples():
        if item["id"] == sample_id:
            return item
    raise KeyError(sample_id)


def malformed() -> list[dict[str, Any]]:
    return [s for s in all_samples() if not s["valid_json"]]
