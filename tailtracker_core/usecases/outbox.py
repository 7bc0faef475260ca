"""The outbox relay: publish committed events, then mark them sent (at least once)."""

from __future__ import annotations

from tailtracker_core.ports import Clock, EventPublisher, OutboxStore

__all__ = ["relay_once"]


def relay_once(store: OutboxStore, publisher: EventPublisher, clock: Clock, batch: int = 100) -> int:
    """Publish one batch. What was published before a failure is marked; the rest stays
    unsent for the next pass. A crash between publish and mark re-publishes: consumers are
    idempotent. Returns how many messages were published."""
    messages = store.claim(batch)
    published = []
    try:
        for message in messages:
            publisher.publish(message)
            published.append(message.id)
    finally:
        if published:
            store.mark_sent(published, clock.now())
        else:
            store.release()
    return len(published)
