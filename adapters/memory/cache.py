"""In-process cache with TTLs and least-recently-used eviction (the embedded default)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from adapters.system import SystemClock
from tailtracker_core.ports import Clock

__all__ = ["MemoryCache"]


class MemoryCache:
    """Implements Cache for one process. Thread-safe; holds at most `max_entries` keys."""

    def __init__(self, clock: Clock | None = None, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._clock: Clock = clock or SystemClock()
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()  # key → (value, expires at)

    def get(self, key: str) -> bytes | None:
        now = self._now()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[1] <= now:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        expires_at = self._now() + _check_ttl(ttl_seconds)
        with self._lock:
            self._store(key, bytes(value), expires_at)

    def add(self, key: str, value: bytes, ttl_seconds: int) -> bool:
        now = self._now()
        expires_at = now + _check_ttl(ttl_seconds)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[1] > now:
                return False
            self._store(key, bytes(value), expires_at)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _store(self, key: str, value: bytes, expires_at: float) -> None:
        self._entries[key] = (value, expires_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            # Least recently used first; expired entries nobody reads age out the same way.
            self._entries.popitem(last=False)

    def _now(self) -> float:
        return self._clock.now().timestamp()


def _check_ttl(ttl_seconds: int) -> int:
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    return ttl_seconds
