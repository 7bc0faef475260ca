"""The read half of the Redis session store, on `redis.asyncio`: is a sign-in session open?"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import redis.asyncio

from tailtracker_core.ports import SessionRecord

__all__ = ["AsyncRedisSessionReader"]


class AsyncRedisSessionReader:
    """Implements SessionReader with the key layout of `RedisSessionStore` (one HMGET on
    `{prefix}s:{session_id}`).

    The client is made lazily in the running event loop (granian forks its workers after the
    app factory ran; a redis.asyncio connection belongs to one loop), and again should the
    loop change. `close()` runs on the loop, in the app's shutdown hook.
    """

    def __init__(self, url: str, prefix: str = "tt:sess:") -> None:
        self._url = url
        self._prefix = prefix
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None

    def _get_client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # A client of a finished loop is dropped, not awaited: its sockets go with it.
            self._loop = loop
            self._client = redis.asyncio.Redis.from_url(
                self._url,
                decode_responses=False,
                socket_connect_timeout=2.0,
                socket_timeout=2.0,
                socket_keepalive=True,
                health_check_interval=30,
                client_name="tailtracker",
            )
        return self._client

    async def get(self, session_id: UUID) -> SessionRecord | None:
        fields = await self._get_client().hmget(f"{self._prefix}s:{session_id}", ["user", "token", "created"])
        user, token, created = cast("list[bytes | None]", fields)
        if user is None or token is None or created is None:
            return None
        return SessionRecord(
            session_id=session_id,
            user_id=UUID(user.decode()),
            current_token_id=UUID(token.decode()),
            created_at=datetime.fromisoformat(created.decode()),
        )

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.aclose()
