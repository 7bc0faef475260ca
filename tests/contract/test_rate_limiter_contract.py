"""The RateLimiter contract, run against the in-process limiter and Redis."""

from __future__ import annotations

import time

import pytest
import redis

from adapters.memory.limits import MemoryRateLimiter
from adapters.redis import RedisRateLimiter
from tailtracker_core.testing.kv_contract import Advance, RateLimiterContract
from tests.fixtures.kv import FakeClock


class TestMemoryRateLimiter(RateLimiterContract):
    @pytest.fixture
    def limiter(self, fake_clock: FakeClock) -> MemoryRateLimiter:
        return MemoryRateLimiter(clock=fake_clock)

    @pytest.fixture
    def advance(self, fake_clock: FakeClock) -> Advance:
        return fake_clock.advance

    def test_a_clock_that_steps_back_refills_nothing(self, fake_clock: FakeClock) -> None:
        limiter = MemoryRateLimiter(clock=fake_clock)
        limiter.hit("k", rate_per_minute=60, burst=1)
        fake_clock.advance(-30)
        assert not limiter.hit("k", rate_per_minute=60, burst=1).allowed


@pytest.mark.redis
class TestRedisRateLimiter(RateLimiterContract):
    @pytest.fixture
    def limiter(self, redis_client: redis.Redis, redis_prefix: str) -> RedisRateLimiter:
        return RedisRateLimiter(redis_client, prefix=redis_prefix)

    @pytest.fixture
    def advance(self) -> Advance:
        return time.sleep

    def test_a_bucket_key_expires_once_it_would_be_full(
        self, redis_client: redis.Redis, redis_prefix: str
    ) -> None:
        limiter = RedisRateLimiter(redis_client, prefix=redis_prefix)
        limiter.hit("k", rate_per_minute=60, burst=5)
        ttl_ms = redis_client.pttl(f"{redis_prefix}k")
        assert 1000 < ttl_ms <= 2000  # one token to refill (1 s), plus a second of margin

    def test_asking_writes_nothing(self, redis_client: redis.Redis, redis_prefix: str) -> None:
        limiter = RedisRateLimiter(redis_client, prefix=redis_prefix)
        limiter.hit("k", rate_per_minute=60, burst=5, cost=0)
        assert redis_client.exists(f"{redis_prefix}k") == 0
