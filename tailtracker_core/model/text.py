"""Free text fields: trimmed, bounded, and free of control characters (NUL above all)."""

from __future__ import annotations

import unicodedata

from tailtracker_core.errors import ValidationFailed

__all__ = ["check_text"]

_MULTILINE_OK = {"\n", "\r", "\t"}


def check_text(value: str, field: str, max_len: int, *, min_len: int = 1, multiline: bool = False) -> str:
    """The value trimmed; ValidationFailed naming `field` when out of bounds or when it holds
    control characters (line breaks and tabs are allowed where `multiline`)."""
    value = value.strip()
    if not min_len <= len(value) <= max_len:
        raise ValidationFailed.single(field, f"between {min_len} and {max_len} characters")
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs") and not (multiline and ch in _MULTILINE_OK):
            raise ValidationFailed.single(field, "must not contain control characters")
    return value
