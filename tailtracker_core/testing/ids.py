"""Ids for test data: UUIDv7, increasing within the process, like production's."""

from __future__ import annotations

import os
import threading
import time
from uuid import UUID

from tailtracker_core.ids import RAND_BITS, uuid7

__all__ = ["TestIds"]


class TestIds:
    """An IdGenerator for tests and contract kits (no adapter needed)."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def new_id(self) -> UUID:
        with self._lock:
            now = (time.time_ns() // 1_000_000) << RAND_BITS | int.from_bytes(os.urandom(10)) >> 6
            self._last = value = max(now, self._last + 1)  # same millisecond: keep increasing
        return uuid7(value >> RAND_BITS, value & ((1 << RAND_BITS) - 1))

    def new_token(self) -> str:
        return os.urandom(32).hex()
