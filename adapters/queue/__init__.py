"""The task queue: Dramatiq brokers by URL and the outbox relay's publisher."""

from adapters.queue.brokers import broker_from_url
from adapters.queue.publisher import DramatiqPublisher

__all__ = ["DramatiqPublisher", "broker_from_url"]
