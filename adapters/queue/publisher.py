"""The EventPublisher port on a Dramatiq broker: one outbox row becomes one Dramatiq message."""

from __future__ import annotations

import dramatiq

from tailtracker_core.ports import OutboxMessage

__all__ = ["DramatiqPublisher"]


class DramatiqPublisher:
    """Enqueues `handle_event(message_id, topic, payload)`; raises when the broker cannot take
    it, so the relay leaves the row unsent for its next pass."""

    def __init__(self, broker: dramatiq.Broker, queue_name: str = "events", actor_name: str = "handle_event"):
        self.broker = broker
        self.queue_name = queue_name
        self.actor_name = actor_name
        # Known to the broker before the first enqueue (the stub broker insists on it).
        broker.declare_queue(queue_name)

    def publish(self, message: OutboxMessage) -> None:
        self.broker.enqueue(
            dramatiq.Message(
                queue_name=self.queue_name,
                actor_name=self.actor_name,
                args=(str(message.id), message.topic, message.payload),
                kwargs={},
                options={},
            )
        )
