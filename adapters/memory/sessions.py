"""In-process sign-in sessions with TTLs (the embedded default)."""

from __future__ import annotations

import threading
from uuid import UUID

from attrs import evolve

from adapters.system import SystemClock
from tailtracker_core.ports import Clock, SessionRecord

__all__ = ["MemorySessionReader", "MemorySessionStore"]

_SWEEP_EVERY = 1024  # creations between sweeps of expired sessions


class MemorySessionStore:
    """Implements SessionStore for one process; every operation holds one lock, so `rotate`
    is an atomic compare-and-set."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._sessions: dict[UUID, tuple[SessionRecord, float]] = {}  # id → (record, expires at)
        self._by_user: dict[UUID, set[UUID]] = {}
        self._created = 0

    def create(self, record: SessionRecord, ttl_seconds: int) -> None:
        now = self._now()
        expires_at = now + _check_ttl(ttl_seconds)
        with self._lock:
            self._created += 1
            if self._created % _SWEEP_EVERY == 0:
                self._sweep(now)
            self._drop(record.session_id)
            self._sessions[record.session_id] = (record, expires_at)
            self._by_user.setdefault(record.user_id, set()).add(record.session_id)

    def get(self, session_id: UUID) -> SessionRecord | None:
        now = self._now()
        with self._lock:
            return self._live(session_id, now)

    def rotate(self, session_id: UUID, presented: UUID, new_token_id: UUID, ttl_seconds: int) -> bool:
        now = self._now()
        expires_at = now + _check_ttl(ttl_seconds)
        with self._lock:
            record = self._live(session_id, now)
            if record is None or record.current_token_id != presented:
                return False
            self._sessions[session_id] = (evolve(record, current_token_id=new_token_id), expires_at)
            return True

    def revoke(self, session_id: UUID) -> None:
        with self._lock:
            self._drop(session_id)

    def revoke_user(self, user_id: UUID) -> None:
        with self._lock:
            for session_id in self._by_user.pop(user_id, set()):
                self._sessions.pop(session_id, None)

    def _live(self, session_id: UUID, now: float) -> SessionRecord | None:
        entry = self._sessions.get(session_id)
        if entry is None:
            return None
        if entry[1] <= now:
            self._drop(session_id)
            return None
        return entry[0]

    def _drop(self, session_id: UUID) -> None:
        entry = self._sessions.pop(session_id, None)
        if entry is None:
            return
        user_sessions = self._by_user.get(entry[0].user_id)
        if user_sessions is not None:
            user_sessions.discard(session_id)
            if not user_sessions:
                del self._by_user[entry[0].user_id]

    def _sweep(self, now: float) -> None:
        for session_id in [s for s, (_, expires_at) in self._sessions.items() if expires_at <= now]:
            self._drop(session_id)

    def _now(self) -> float:
        return self._clock.now().timestamp()


def _check_ttl(ttl_seconds: int) -> int:
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    return ttl_seconds


class MemorySessionReader:
    """Implements SessionReader over a MemorySessionStore of the same process (no I/O, so
    `get` answers without leaving the event loop)."""

    def __init__(self, store: MemorySessionStore) -> None:
        self._store = store

    async def get(self, session_id: UUID) -> SessionRecord | None:
        return self._store.get(session_id)

    async def close(self) -> None:
        return None
