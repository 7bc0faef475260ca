"""`purge`: sent outbox messages past the retention and idempotency records past their TTL go,
batch after batch until one comes back short; unsent messages and fresh records stay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from adapters.memory.uow import MemoryOutbox, MemoryStore, MemoryUnitOfWork
from adapters.system import Uuid7Generator
from tailtracker_core.events import PetCreated
from tailtracker_core.ports import IdempotencyRecord, OutboxMessage
from tailtracker_core.usecases.housekeeping import IDEMPOTENCY_TTL, PurgeResult, PurgeSettings, purge
from tests.unit.support import FakeClock

ids = Uuid7Generator()


class CountingOutbox:
    """The memory outbox, recording the size of each purge batch it answered."""

    def __init__(self, inner: MemoryOutbox) -> None:
        self.inner = inner
        self.batches: list[int] = []

    def claim(self, limit: int) -> list[OutboxMessage]:
        return self.inner.claim(limit)

    def mark_sent(self, message_ids: Sequence[UUID], now: datetime) -> None:
        self.inner.mark_sent(message_ids, now)

    def release(self) -> None:
        self.inner.release()

    def purge_sent(self, before: datetime, limit: int) -> int:
        n = self.inner.purge_sent(before, limit)
        self.batches.append(n)
        return n


class Setup:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.store = MemoryStore(ids, self.clock)
        self.outbox = CountingOutbox(self.store.outbox())
        self.transactions = 0

    def uow_factory(self, actor: UUID | None) -> MemoryUnitOfWork:
        assert actor is None  # housekeeping acts for nobody
        self.transactions += 1
        return self.store.uow_factory(actor)

    def sent(self, days_ago: float, count: int = 1) -> None:
        """`count` messages, committed and sent `days_ago`."""
        self.unsent(count)
        claimed = self.store.outbox().claim(count)
        self.store.outbox().mark_sent([m.id for m in claimed], self.clock.now() - timedelta(days=days_ago))

    def unsent(self, count: int = 1) -> None:
        with self.store.uow_factory(None) as uow:
            for _ in range(count):
                uow.record(PetCreated(ids.new_id(), ids.new_id()))
            uow.commit()

    def key(self, age: timedelta) -> str:
        user, key = ids.new_id(), f"POST /v1/pets:{ids.new_id()}"
        with self.store.uow_factory(user) as uow:
            made = self.clock.now() - age
            uow.idempotency.add(IdempotencyRecord(user, key, "f" * 64, 201, b"{}", "{}", made))
            uow.commit()
        return key

    def keys_left(self) -> set[str]:
        return {k for _, k in self.store.data.idempotency}

    def run(self, **settings: object) -> PurgeResult:
        return purge(self.uow_factory, self.outbox, self.clock, PurgeSettings(**settings))  # type: ignore[arg-type]


def test_deletes_batch_after_batch_until_one_comes_back_short() -> None:
    s = Setup()
    s.sent(days_ago=30, count=5)
    for _ in range(4):
        s.key(timedelta(days=2))
    result = s.run(batch=2)
    assert result == PurgeResult(outbox_sent=5, idempotency_keys=4)
    assert s.outbox.batches == [2, 2, 1]
    assert s.transactions == 3  # idempotency: 2, 2, then 0 (short): one transaction each
    assert s.store.data.outbox == {} and s.store.data.sent == {} and s.store.data.idempotency == {}
    assert s.run(batch=2) == PurgeResult(0, 0)


def test_the_outbox_retention_is_respected_and_unsent_messages_stay_however_old() -> None:
    s = Setup()
    s.unsent(count=2)  # committed now, but stuck: the broker has been down
    s.sent(days_ago=7.01, count=3)
    s.sent(days_ago=6.99, count=2)
    s.clock.advance(days=400)  # the unsent ones are now over a year old too
    assert s.run().outbox_sent == 5  # everything sent went, all of it long ago now
    assert len(s.store.outbox().claim(10)) == 2

    t = Setup()
    t.unsent(count=2)
    t.sent(days_ago=7.01, count=3)
    t.sent(days_ago=6.99, count=2)
    assert t.run().outbox_sent == 3  # the default retention: 7 days
    assert len(t.store.data.sent) == 2 and len(t.store.outbox().claim(10)) == 2
    assert t.run(outbox_retention=timedelta(days=1)).outbox_sent == 2


def test_idempotency_records_younger_than_the_ttl_stay() -> None:
    s = Setup()
    old = {s.key(IDEMPOTENCY_TTL + timedelta(seconds=1)), s.key(timedelta(days=30))}
    fresh = {s.key(IDEMPOTENCY_TTL - timedelta(seconds=1)), s.key(timedelta(0))}
    assert s.run().idempotency_keys == 2
    assert s.keys_left() == fresh
    assert not old & s.keys_left()


def test_the_ttl_is_the_one_the_http_layer_replays_for() -> None:
    from entrypoints.http import idempotency

    assert idempotency.TTL is IDEMPOTENCY_TTL == timedelta(hours=24)


@pytest.mark.parametrize("settings", [{"batch": 0}, {"outbox_retention": timedelta(days=-1)}])
def test_nonsense_settings_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="purge batch"):
        PurgeSettings(**settings)  # type: ignore[arg-type]
