"""Dramatiq brokers chosen by URL: stub:// in process, amqp:// RabbitMQ, redis:// Redis."""

from __future__ import annotations

from urllib.parse import urlsplit

import dramatiq
from dramatiq.middleware import Middleware, Retries, default_middleware

__all__ = ["broker_from_url"]

DEFAULT_MAX_RETRIES = 20
DEFAULT_MIN_BACKOFF_MS = 15_000
DEFAULT_MAX_BACKOFF_MS = 6 * 3600 * 1000


def _middleware(max_retries: int, min_backoff_ms: int, max_backoff_ms: int) -> list[Middleware]:
    # Dramatiq's defaults, with Retries (exponential backoff with jitter) configured by us.
    retries = Retries(max_retries=max_retries, min_backoff=min_backoff_ms, max_backoff=max_backoff_ms)
    return [retries if cls is Retries else cls() for cls in default_middleware]


def broker_from_url(
    url: str,
    *,
    max_retries: int = DEFAULT_MAX_RETRIES,
    min_backoff_ms: int = DEFAULT_MIN_BACKOFF_MS,
    max_backoff_ms: int = DEFAULT_MAX_BACKOFF_MS,
) -> dramatiq.Broker:
    """A new broker; it is never made the global default (callers pass it explicitly)."""
    middleware = _middleware(max_retries, min_backoff_ms, max_backoff_ms)
    scheme = urlsplit(url).scheme
    if scheme == "stub":
        from dramatiq.brokers.stub import StubBroker

        return StubBroker(middleware=middleware)
    if scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        # Publisher confirms: enqueue returns only once RabbitMQ has taken the message, so the
        # relay marks an outbox row sent only when it is safe on the broker.
        return RabbitmqBroker(url=url, confirm_delivery=True, middleware=middleware)
    if scheme in ("redis", "rediss"):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, middleware=middleware)  # type: ignore[no-untyped-call]
    raise ValueError(f"unsupported broker URL scheme {scheme!r} (use stub://, amqp:// or redis://)")
