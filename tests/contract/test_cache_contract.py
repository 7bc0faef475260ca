"""The Cache contract, run against the in-process cache and Redis."""

from __future__ import annotations

import time

import pytest
import redis

from adapters.memory.cache import MemoryCache
from adapters.redis import RedisCache
from tailtracker_core.testing.kv_contract import Advance, CacheContract
from tests.fixtures.kv import FakeClock


class TestMemoryCache(CacheContract):
    @pytest.fixture
    def cache(self, fake_clock: FakeClock) -> MemoryCache:
        return MemoryCache(clock=fake_clock)

    @pytest.fixture
    def advance(self, fake_clock: FakeClock) -> Advance:
        return fake_clock.advance

    def test_the_least_recently_used_entries_go_first_when_full(self, fake_clock: FakeClock) -> None:
        cache = MemoryCache(clock=fake_clock, max_entries=2)
        cache.set("a", b"1", 60)
        cache.set("b", b"2", 60)
        cache.get("a")
        cache.set("c", b"3", 60)
        assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1", None, b"3")


@pytest.mark.redis
class TestRedisCache(CacheContract):
    @pytest.fixture
    def cache(self, redis_client: redis.Redis, redis_prefix: str) -> RedisCache:
        return RedisCache(redis_client, prefix=redis_prefix)

    @pytest.fixture
    def advance(self) -> Advance:
        return time.sleep
