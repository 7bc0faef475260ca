"""Wire schemas (msgspec Structs): requests are strict, responses are mapped from the domain."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utc"]


def utc(moment: datetime) -> datetime:
    """Times leave as UTC (msgspec writes them with `Z`); a naive time is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
