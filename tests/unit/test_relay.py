"""The outbox relay: publish in order, mark only what was published, lose nothing, and keep
running through broker outages (run_relay)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.uow import MemoryOutbox, MemoryStore
from adapters.system import Uuid7Generator
from entrypoints.tasks import run_relay
from tailtracker_core.events import PetCreated
from tailtracker_core.ports import OutboxMessage
from tailtracker_core.usecases.outbox import relay_once


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class BrokerDown(Exception):
    pass


class FlakyPublisher:
    """Takes messages like a broker; the Nth publish call (1-based) and any listed later
    ones fail, as a broker that goes away mid-batch would."""

    def __init__(self, fail_on: set[int] | None = None, down: bool = False) -> None:
        self.fail_on = fail_on or set()
        self.down = down
        self.calls = 0
        self.published: list[OutboxMessage] = []

    def publish(self, message: OutboxMessage) -> None:
        self.calls += 1
        if self.down or self.calls in self.fail_on:
            raise BrokerDown(f"broker refused call {self.calls}")
        self.published.append(message)


def _store() -> MemoryStore:
    return MemoryStore(Uuid7Generator(), FixedClock())


def _commit_events(store: MemoryStore, count: int) -> list[UUID]:
    """Commit `count` events, each in its own unit of work; returns their pet ids in order."""
    pet_ids = []
    for _ in range(count):
        pet_id = uuid4()
        with store.uow_factory(None) as uow:
            uow.record(PetCreated(pet_id=pet_id, family_id=uuid4()))
            uow.commit()
        pet_ids.append(pet_id)
    return pet_ids


def _pet_ids(messages: list[OutboxMessage]) -> list[UUID]:
    return [UUID(json.loads(m.payload)["pet_id"]) for m in messages]


def _unsent(outbox: MemoryOutbox) -> int:
    return len(outbox.claim(10_000))


def test_publishes_committed_events_oldest_first_and_marks_them_sent() -> None:
    store = _store()
    pets = _commit_events(store, 5)
    publisher = FlakyPublisher()

    assert relay_once(store.outbox(), publisher, FixedClock()) == 5

    assert _pet_ids(publisher.published) == pets
    assert _unsent(store.outbox()) == 0


def test_a_batch_publishes_at_most_batch_messages() -> None:
    store = _store()
    pets = _commit_events(store, 5)
    publisher = FlakyPublisher()

    assert relay_once(store.outbox(), publisher, FixedClock(), batch=2) == 2
    assert _pet_ids(publisher.published) == pets[:2]
    assert _unsent(store.outbox()) == 3


def test_a_failure_marks_only_what_was_published_and_a_later_pass_delivers_the_rest() -> None:
    store = _store()
    pets = _commit_events(store, 5)
    publisher = FlakyPublisher(fail_on={3})

    with pytest.raises(BrokerDown):  # the failure reaches the caller (run_relay logs it)
        relay_once(store.outbox(), publisher, FixedClock())

    assert _pet_ids(publisher.published) == pets[:2]
    assert _unsent(store.outbox()) == 3

    assert relay_once(store.outbox(), publisher, FixedClock()) == 3
    assert _pet_ids(publisher.published) == pets  # each exactly once, in commit order
    assert _unsent(store.outbox()) == 0


def test_a_broker_that_is_down_leaves_every_message_unsent() -> None:
    store = _store()
    _commit_events(store, 3)

    for _ in range(3):
        with contextlib.suppress(BrokerDown):
            relay_once(store.outbox(), FlakyPublisher(down=True), FixedClock())

    assert _unsent(store.outbox()) == 3


def test_an_empty_outbox_publishes_nothing() -> None:
    publisher = FlakyPublisher()
    assert relay_once(_store().outbox(), publisher, FixedClock()) == 0
    assert publisher.calls == 0


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(min_value=0, max_value=12),
    failing_calls=st.sets(st.integers(min_value=1, max_value=30), max_size=10),
    batch=st.integers(min_value=1, max_value=5),
)
def test_whatever_fails_every_event_is_published_exactly_once_in_order(
    count: int, failing_calls: set[int], batch: int
) -> None:
    store = _store()
    pets = _commit_events(store, count)
    publisher = FlakyPublisher(fail_on=failing_calls)

    for _ in range(100):
        if _unsent(store.outbox()) == 0:
            break
        with contextlib.suppress(BrokerDown):
            relay_once(store.outbox(), publisher, FixedClock(), batch=batch)

    assert _pet_ids(publisher.published) == pets
    assert _unsent(store.outbox()) == 0


class SwitchablePublisher(FlakyPublisher):
    def publish(self, message: OutboxMessage) -> None:
        if self.down:
            self.calls += 1
            raise BrokerDown("down")
        super().publish(message)


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def test_run_relay_survives_an_outage_and_delivers_once_the_broker_is_back() -> None:
    store = _store()
    pets = _commit_events(store, 4)
    publisher = SwitchablePublisher(down=True)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_relay,
        args=(store.outbox(), publisher, FixedClock(), stop, 0.01),
        kwargs={"max_backoff": 0.05},
    )
    thread.start()
    try:
        _wait_for(lambda: publisher.calls >= 3)  # it keeps trying, it does not crash
        assert thread.is_alive()
        assert _unsent(store.outbox()) == 4

        publisher.down = False
        _wait_for(lambda: _unsent(store.outbox()) == 0)
        more = _commit_events(store, 2)  # and it keeps relaying what is committed later
        _wait_for(lambda: _unsent(store.outbox()) == 0)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert _pet_ids(publisher.published) == pets + more


def test_run_relay_backs_off_while_the_broker_is_down() -> None:
    store = _store()
    _commit_events(store, 1)
    publisher = SwitchablePublisher(down=True)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_relay,
        args=(store.outbox(), publisher, FixedClock(), stop, 0.01),
        kwargs={"max_backoff": 0.2},
    )
    thread.start()
    time.sleep(0.6)
    stop.set()
    thread.join(timeout=5)
    # 0.02 + 0.04 + 0.08 + 0.16 + 0.2 ... : a handful of tries, not one every 10 ms.
    assert 3 <= publisher.calls <= 8


class BrokenOutbox:
    """The database is down: claiming fails."""

    def __init__(self) -> None:
        self.claims = 0

    def claim(self, limit: int) -> list[OutboxMessage]:
        self.claims += 1
        raise OSError("database is down")

    def mark_sent(self, ids: object, now: datetime) -> None:
        raise AssertionError("nothing was claimed")

    def release(self) -> None:
        return None


def test_run_relay_survives_a_database_outage_and_stops_when_asked() -> None:
    outbox = BrokenOutbox()
    stop = threading.Event()
    thread = threading.Thread(target=run_relay, args=(outbox, FlakyPublisher(), FixedClock(), stop, 0.01))
    thread.start()
    _wait_for(lambda: outbox.claims >= 2)
    started = time.monotonic()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 1.0
