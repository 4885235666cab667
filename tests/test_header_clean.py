"""The tracing-header filter keeps exactly printable ASCII (it is on every request's path)."""

from __future__ import annotations

from partnercart.server.http.middleware import _clean


def test_clean_accepts_exactly_printable_ascii() -> None:
    for code in range(0x110):
        char = chr(code)
        expected = f"a{char}b" if 32 <= code <= 126 else None
        assert _clean(f"a{char}b") == expected, hex(code)


def test_clean_trims_and_limits() -> None:
    assert _clean("  2f9f5b8e-4f2f-4b55  ") == "2f9f5b8e-4f2f-4b55"
    assert _clean("   ") is None
    assert _clean(None) is None
    assert _clean("x" * 128) == "x" * 128
    assert _clean("x" * 129) is None
    assert _clean("x" * 36, limit=35) is None
