"""Token-bucket rate limiter on Redis: one Lua script, timed by the Redis server's clock."""

from __future__ import annotations

from typing import cast

import redis

from tailtracker_core.ports import RateDecision

__all__ = ["RedisRateLimiter"]

# KEYS[1]: the bucket (a hash: tokens, ts). ARGV: rate per minute, burst, cost.
# Returns {allowed, remaining, reset_seconds, retry_after}, all integers.
# Time comes from the server (TIME), so application clocks never skew a bucket; scripts
# are replicated by effects, so TIME in a script is safe. Only a hit that takes tokens
# writes; the key expires when the bucket would be full again (a full bucket = no key).
_HIT = """
local rate = tonumber(ARGV[1]) / 60.0
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tokens = burst
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
if state[1] and state[2] then
  local elapsed = math.max(0, now - tonumber(state[2]))
  tokens = math.min(burst, tonumber(state[1]) + elapsed * rate)
end
local need = math.max(cost, 1)
local allowed = 0
local retry_after = 0
if tokens >= need then
  allowed = 1
  if cost > 0 then
    tokens = tokens - cost
    local full_ms = math.ceil((burst - tokens) / rate * 1000)
    redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', now))
    redis.call('PEXPIRE', KEYS[1], math.max(full_ms, 1) + 1000)
  end
else
  retry_after = math.max(1, math.ceil((need - tokens) / rate))
end
return {allowed, math.floor(tokens), math.ceil((burst - tokens) / rate), retry_after}
"""


class RedisRateLimiter:
    """Implements RateLimiter, shared by every replica; each hit is one atomic script call."""

    def __init__(self, client: redis.Redis, prefix: str = "tt:rl:") -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_HIT)

    def hit(self, key: str, rate_per_minute: int, burst: int, cost: int = 1) -> RateDecision:
        if rate_per_minute <= 0 or burst <= 0:
            raise ValueError("rate_per_minute and burst must be positive")
        if not 0 <= cost <= burst:
            raise ValueError("cost must be between 0 and burst (a bigger cost could never be allowed)")
        args = [rate_per_minute, burst, cost]
        reply = cast("list[int]", self._script(keys=[self._prefix + key], args=args))
        allowed, remaining, reset_seconds, retry_after = (int(v) for v in reply)
        return RateDecision(
            allowed=bool(allowed),
            limit=burst,
            remaining=remaining,
            reset_seconds=reset_seconds,
            retry_after=retry_after,
        )

    def reset(self, key: str) -> None:
        self._client.delete(self._prefix + key)
