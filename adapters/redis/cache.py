"""Cache on Redis: plain string keys with a TTL."""

from __future__ import annotations

from typing import cast

import redis

__all__ = ["RedisCache"]


class RedisCache:
    """Implements Cache. Keys are `prefix + key`; each one expires by itself (SET EX)."""

    def __init__(self, client: redis.Redis, prefix: str = "tt:cache:") -> None:
        self._client = client
        self._prefix = prefix

    def get(self, key: str) -> bytes | None:
        return cast("bytes | None", self._client.get(self._prefix + key))

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None:
        self._client.set(self._prefix + key, value, ex=_check_ttl(ttl_seconds))

    def add(self, key: str, value: bytes, ttl_seconds: int) -> bool:
        return bool(self._client.set(self._prefix + key, value, ex=_check_ttl(ttl_seconds), nx=True))

    def delete(self, key: str) -> None:
        self._client.delete(self._prefix + key)


def _check_ttl(ttl_seconds: int) -> int:
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    return ttl_seconds
