"""In-process token-bucket rate limiter (the embedded default)."""

from __future__ import annotations

import math
import threading

from adapters.system import SystemClock
from tailtracker_core.ports import Clock, RateDecision

__all__ = ["MemoryRateLimiter"]

_SWEEP_EVERY = 4096  # hits between sweeps of full (hence forgettable) buckets


class MemoryRateLimiter:
    """Implements RateLimiter for one process: a token bucket per key, thread-safe.

    A bucket holds at most `burst` tokens and refills continuously at `rate_per_minute`.
    A full bucket is the same as no bucket, so full ones are forgotten.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float, float]] = {}  # key → (tokens, at, full at)
        self._hits = 0

    def hit(self, key: str, rate_per_minute: int, burst: int, cost: int = 1) -> RateDecision:
        _check(rate_per_minute, burst, cost)
        per_second = rate_per_minute / 60.0
        now = self._clock.now().timestamp()
        need = max(cost, 1)
        with self._lock:
            self._sweep(now)
            tokens = float(burst)
            state = self._buckets.get(key)
            if state is not None:
                tokens = min(float(burst), state[0] + max(0.0, now - state[1]) * per_second)
            allowed = tokens >= need
            if allowed and cost > 0:
                tokens -= cost
                full_at = now + (burst - tokens) / per_second
                self._buckets[key] = (tokens, now, full_at)
        return RateDecision(
            allowed=allowed,
            limit=burst,
            remaining=math.floor(tokens),
            reset_seconds=math.ceil((burst - tokens) / per_second),
            retry_after=0 if allowed else max(1, math.ceil((need - tokens) / per_second)),
        )

    def reset(self, key: str) -> None:
        with self._lock:
            self._buckets.pop(key, None)

    def _sweep(self, now: float) -> None:
        self._hits += 1
        if self._hits % _SWEEP_EVERY:
            return
        for key in [k for k, (_, _, full_at) in self._buckets.items() if full_at <= now]:
            del self._buckets[key]


def _check(rate_per_minute: int, burst: int, cost: int) -> None:
    if rate_per_minute <= 0 or burst <= 0:
        raise ValueError("rate_per_minute and burst must be positive")
    if not 0 <= cost <= burst:
        raise ValueError("cost must be between 0 and burst (a bigger cost could never be allowed)")
