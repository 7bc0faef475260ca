"""Sign-in sessions on Redis: a hash per session with a TTL, and a set of sessions per user."""

from __future__ import annotations

from datetime import datetime
from typing import cast
from uuid import UUID

import redis

from tailtracker_core.ports import SessionRecord

__all__ = ["RedisSessionStore"]

# KEYS[1]: the session hash. ARGV: presented token id, new token id, ttl seconds.
# Compare-and-set of the live refresh token id; returns the user id on success, nil otherwise.
_ROTATE = """
local current = redis.call('HGET', KEYS[1], 'token')
if not current or current ~= ARGV[1] then
  return false
end
redis.call('HSET', KEYS[1], 'token', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return redis.call('HGET', KEYS[1], 'user')
"""

# KEYS[1]: the user's set of session ids. ARGV: session id, ttl seconds.
# Adds the session and makes the set live at least as long as it (never shortens it).
_INDEX = """
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 1
"""


class RedisSessionStore:
    """Implements SessionStore.

    Keys: `{prefix}s:{session_id}` (hash: user, token, created) and `{prefix}u:{user_id}`
    (set of session ids, for revoke_user). Each script touches one key, so the store works
    on Redis Cluster without hash tags; a session's two keys may live on different nodes.
    """

    def __init__(self, client: redis.Redis, prefix: str = "tt:sess:") -> None:
        self._client = client
        self._prefix = prefix
        self._rotate = client.register_script(_ROTATE)
        self._index = client.register_script(_INDEX)

    def create(self, record: SessionRecord, ttl_seconds: int) -> None:
        ttl = _check_ttl(ttl_seconds)
        # Index first: a crash in between leaves a dangling id in the set (harmless), never a
        # session that revoke_user cannot find.
        self._index(keys=[self._user_key(record.user_id)], args=[str(record.session_id), ttl])
        key = self._session_key(record.session_id)
        pipe = self._client.pipeline(transaction=True)
        pipe.delete(key)
        pipe.hset(
            key,
            mapping={
                "user": str(record.user_id),
                "token": str(record.current_token_id),
                "created": record.created_at.isoformat(),
            },
        )
        pipe.expire(key, ttl)
        pipe.execute()

    def get(self, session_id: UUID) -> SessionRecord | None:
        fields = self._client.hmget(self._session_key(session_id), ["user", "token", "created"])
        user, token, created = cast("list[bytes | None]", fields)
        if user is None or token is None or created is None:
            return None
        return SessionRecord(
            session_id=session_id,
            user_id=UUID(user.decode()),
            current_token_id=UUID(token.decode()),
            created_at=datetime.fromisoformat(created.decode()),
        )

    def rotate(self, session_id: UUID, presented: UUID, new_token_id: UUID, ttl_seconds: int) -> bool:
        ttl = _check_ttl(ttl_seconds)
        user = cast(
            "bytes | None",
            self._rotate(keys=[self._session_key(session_id)], args=[str(presented), str(new_token_id), ttl]),
        )
        if user is None:
            return False
        # The session now lives longer: so must the user's index of it.
        self._index(keys=[self._user_key(UUID(user.decode()))], args=[str(session_id), ttl])
        return True

    def revoke(self, session_id: UUID) -> None:
        key = self._session_key(session_id)
        user = cast("bytes | None", self._client.hget(key, "user"))
        self._client.delete(key)
        if user is not None:
            self._client.srem(self._user_key(UUID(user.decode())), str(session_id))

    def revoke_user(self, user_id: UUID) -> None:
        user_key = self._user_key(user_id)
        members = cast("set[bytes]", self._client.smembers(user_key))
        if members:
            # One DEL per key: the session keys may sit in different cluster slots.
            pipe = self._client.pipeline(transaction=False)
            for member in members:
                pipe.delete(self._session_key(UUID(member.decode())))
            pipe.srem(user_key, *members)
            pipe.execute()

    def _session_key(self, session_id: UUID) -> str:
        return f"{self._prefix}s:{session_id}"

    def _user_key(self, user_id: UUID) -> str:
        return f"{self._prefix}u:{user_id}"


def _check_ttl(ttl_seconds: int) -> int:
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    return ttl_seconds
