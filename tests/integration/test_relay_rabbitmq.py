"""Outbox → relay → RabbitMQ, for real: events committed while the broker is unreachable stay
in the outbox and reach RabbitMQ, each exactly once, when it is back."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import dramatiq
import pika
import pytest

from adapters.memory.uow import MemoryStore
from adapters.queue import DramatiqPublisher, broker_from_url
from adapters.sql import Database, migrate
from adapters.system import Uuid7Generator
from tailtracker_core.events import PetCreated
from tailtracker_core.ports import OutboxStore, UnitOfWorkFactory
from tailtracker_core.usecases.outbox import relay_once
from tests.fixtures.messaging import free_port

pytestmark = pytest.mark.rabbitmq


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# (unit of work factory, a fresh outbox) for each outbox implementation
World = tuple[UnitOfWorkFactory, Callable[[], OutboxStore]]


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "memory":
        store = MemoryStore(Uuid7Generator(), FixedClock())
        yield store.uow_factory, store.outbox
        return
    url = f"sqlite:///{tmp_path / 'tailtracker.db'}"
    migrate(url)
    database = Database(url)
    try:
        yield database.uow_factory, database.outbox
    finally:
        database.dispose()


def _commit_events(uow_factory: UnitOfWorkFactory, count: int) -> list[str]:
    pet_ids = []
    for _ in range(count):
        pet_id = uuid4()
        with uow_factory(None) as uow:
            uow.record(PetCreated(pet_id=pet_id, family_id=uuid4()))
            uow.commit()
        pet_ids.append(str(pet_id))
    return pet_ids


def _drain(amqp_url: str, queue_name: str) -> list[dramatiq.Message[object]]:
    """Everything waiting in the queue, taken off it."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        channel = connection.channel()
        messages = []
        while True:
            _method, _properties, body = channel.basic_get(queue_name, auto_ack=True)
            if body is None:
                return messages
            messages.append(dramatiq.Message.decode(body))
    finally:
        connection.close()


def _unsent(outbox: OutboxStore) -> int:
    count = len(outbox.claim(10_000))
    outbox.release()
    return count


def test_events_committed_while_the_broker_is_down_arrive_exactly_once_when_it_is_back(
    world: World, amqp_url: str, rabbitmq_queue: str
) -> None:
    uow_factory, new_outbox = world
    outbox = new_outbox()
    clock = FixedClock()
    pet_ids = _commit_events(uow_factory, 5)

    down = broker_from_url(f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F")
    try:
        for _ in range(2):
            with pytest.raises(dramatiq.errors.BrokerConnectionError):
                relay_once(outbox, DramatiqPublisher(down, queue_name=rabbitmq_queue), clock)
    finally:
        down.close()
    assert _unsent(outbox) == 5

    pet_ids += _commit_events(uow_factory, 2)  # the app keeps committing meanwhile

    broker = broker_from_url(amqp_url)
    try:
        publisher = DramatiqPublisher(broker, queue_name=rabbitmq_queue)
        assert relay_once(outbox, publisher, clock, batch=4) == 4
        assert relay_once(outbox, publisher, clock, batch=4) == 3
        assert relay_once(outbox, publisher, clock, batch=4) == 0
    finally:
        broker.close()
    assert _unsent(outbox) == 0

    received = _drain(amqp_url, rabbitmq_queue)
    assert [m.actor_name for m in received] == ["handle_event"] * 7
    assert {m.args[1] for m in received} == {"pet.created"}
    assert [json.loads(str(m.args[2]))["pet_id"] for m in received] == pet_ids  # each once, in order
    assert len({UUID(str(m.args[0])) for m in received}) == 7  # the outbox ids travel along


def test_a_publish_returns_only_once_rabbitmq_holds_the_message(amqp_url: str, rabbitmq_queue: str) -> None:
    """Publisher confirms: right after publish() the message is in the queue, not in a buffer."""
    store = MemoryStore(Uuid7Generator(), FixedClock())
    _commit_events(store.uow_factory, 1)
    broker = broker_from_url(amqp_url)
    try:
        assert broker.confirm_delivery is True
        assert (
            relay_once(store.outbox(), DramatiqPublisher(broker, queue_name=rabbitmq_queue), FixedClock())
            == 1
        )
    finally:
        broker.close()
    assert len(_drain(amqp_url, rabbitmq_queue)) == 1
