"""The SessionStore contract, run against the in-process store and Redis."""

from __future__ import annotations

import time

import pytest
import redis

from adapters.memory.sessions import MemorySessionStore
from adapters.redis import RedisSessionStore
from tailtracker_core.testing.kv_contract import Advance, SessionStoreContract, new_session_record
from tests.fixtures.kv import FakeClock


class TestMemorySessionStore(SessionStoreContract):
    @pytest.fixture
    def sessions(self, fake_clock: FakeClock) -> MemorySessionStore:
        return MemorySessionStore(clock=fake_clock)

    @pytest.fixture
    def advance(self, fake_clock: FakeClock) -> Advance:
        return fake_clock.advance


@pytest.mark.redis
class TestRedisSessionStore(SessionStoreContract):
    @pytest.fixture
    def sessions(self, redis_client: redis.Redis, redis_prefix: str) -> RedisSessionStore:
        return RedisSessionStore(redis_client, prefix=redis_prefix)

    @pytest.fixture
    def advance(self) -> Advance:
        return time.sleep

    def test_the_user_index_lives_as_long_as_the_longest_session(
        self, redis_client: redis.Redis, redis_prefix: str
    ) -> None:
        store = RedisSessionStore(redis_client, prefix=redis_prefix)
        first = new_session_record()
        store.create(first, 100)
        store.create(new_session_record(first.user_id), 50)
        assert 90 < redis_client.ttl(f"{redis_prefix}u:{first.user_id}") <= 100
        store.rotate(first.session_id, first.current_token_id, first.session_id, 500)
        assert 490 < redis_client.ttl(f"{redis_prefix}u:{first.user_id}") <= 500
