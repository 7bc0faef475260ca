"""Redis adapters: cache, rate limiter and sign-in sessions shared by every replica.

Redis is a helper here, never the only copy of anything that matters: losing it clears the
cache and the rate-limit buckets and signs users out.
"""

from __future__ import annotations

import redis

from adapters.redis.cache import RedisCache
from adapters.redis.geo import RedisGeoIndex
from adapters.redis.limits import RedisRateLimiter
from adapters.redis.session_reader import AsyncRedisSessionReader
from adapters.redis.sessions import RedisSessionStore

__all__ = [
    "AsyncRedisSessionReader",
    "RedisCache",
    "RedisGeoIndex",
    "RedisRateLimiter",
    "RedisSessionStore",
    "connect",
]


def connect(url: str) -> redis.Redis:
    """A client for `redis://` or `rediss://` URLs: bytes replies, short timeouts, health checks."""
    return redis.Redis.from_url(
        url,
        decode_responses=False,
        socket_connect_timeout=2.0,
        socket_timeout=2.0,
        socket_keepalive=True,
        health_check_interval=30,
        client_name="tailtracker",
    )
