"""The real clock and id generator."""

from __future__ import annotations

import os
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID

from tailtracker_core.ids import uuid7

__all__ = ["OffsetClock", "SystemClock", "Uuid7Generator"]


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """The system clock shifted by a fixed offset (TAILTRACKER_CLOCK_OFFSET_SECONDS): tests
    and demos see "a minute from now" without waiting for it. Never in production."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class Uuid7Generator:
    """RFC 9562 UUIDv7: 48-bit Unix milliseconds, then random bits; monotonic within a process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._last_rand = 0

    def new_id(self) -> UUID:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            rand = int.from_bytes(os.urandom(10), "big") >> 6  # 74 random bits
            if ms <= self._last_ms:  # same millisecond (or a clock step back): keep increasing
                ms, rand = self._last_ms, self._last_rand + 1
            self._last_ms, self._last_rand = ms, rand
        return uuid7(ms, rand)

    def new_token(self) -> str:
        return secrets.token_urlsafe(32)
