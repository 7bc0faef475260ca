"""The transactional outbox on SQLite and PostgreSQL: events live and die with their transaction,
and relays running side by side publish each message once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from adapters.sql import Database
from adapters.sql.engine import normalise_url
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.events import PetCreated, event_from_json
from tailtracker_core.ports import OutboxMessage
from tailtracker_core.usecases.outbox import relay_once
from tests.fixtures.sql import PostgresDatabase

ids = Uuid7Generator()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Iterator[Database]:
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_db")
    else:
        database: PostgresDatabase = request.getfixturevalue("postgres_database")
        database.truncate()
        yield request.getfixturevalue("postgres_db")


@pytest.fixture
def owner_url(db: Database, request: pytest.FixtureRequest) -> str:
    """Where to count outbox rows from outside the adapter."""
    if db.dialect == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_database").owner_url)


def _rows(url: str) -> list[tuple[str, bool]]:
    engine = create_engine(normalise_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            result = conn.execute(
                text("SELECT payload, sent_at IS NOT NULL FROM outbox ORDER BY created_at, id")
            )
            return [(r[0], bool(r[1])) for r in result]
    finally:
        engine.dispose()


def _commit_events(db: Database, n: int) -> list[PetCreated]:
    events = [PetCreated(ids.new_id(), ids.new_id()) for _ in range(n)]
    with db.uow_factory(None) as uow:
        for e in events:
            uow.record(e)
        uow.commit()
    return events


class _Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.published: list[OutboxMessage] = []

    def publish(self, message: OutboxMessage) -> None:
        with self.lock:
            self.published.append(message)


def test_a_rolled_back_transaction_leaves_no_outbox_row(db: Database, owner_url: str) -> None:
    with db.uow_factory(None) as uow:
        uow.record(PetCreated(ids.new_id(), ids.new_id()))
        uow.rollback()
    with db.uow_factory(None) as uow:
        uow.record(PetCreated(ids.new_id(), ids.new_id()))
        # left without commit
    assert _rows(owner_url) == []


def test_committed_events_appear_exactly_once_and_are_published_once(db: Database, owner_url: str) -> None:
    events = _commit_events(db, 3)
    rows = _rows(owner_url)
    assert [event_from_json(PetCreated.topic, payload) for payload, _ in rows] == events
    recorder = _Recorder()
    assert relay_once(db.outbox(), recorder, SystemClock()) == 3
    assert relay_once(db.outbox(), recorder, SystemClock()) == 0
    assert [m.topic for m in recorder.published] == [PetCreated.topic] * 3
    assert all(sent for _, sent in _rows(owner_url))


def test_concurrent_writers_all_commit(db: Database, owner_url: str) -> None:
    """SQLite serialises writers (BEGIN IMMEDIATE + busy timeout): no "database is locked"."""
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(10):
                with db.uow_factory(None) as uow:
                    uow.users.get(ids.new_id())  # read first, then write: the risky order
                    uow.record(PetCreated(ids.new_id(), ids.new_id()))
                    uow.commit()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(_rows(owner_url)) == 80


@pytest.mark.postgres
def test_concurrent_claims_on_postgres_get_disjoint_messages(
    postgres_database: PostgresDatabase, postgres_db: Database
) -> None:
    postgres_database.truncate()
    _commit_events(postgres_db, 10)
    first, second, third = postgres_db.outbox(), postgres_db.outbox(), postgres_db.outbox()
    a = first.claim(6)
    b = second.claim(6)  # does not wait for the first claim: it skips the locked rows
    assert len(a) == 6
    assert len(b) == 4
    assert not {m.id for m in a} & {m.id for m in b}
    first.mark_sent([m.id for m in a], datetime.now(UTC))
    second.release()
    c = third.claim(10)
    third.release()
    assert {m.id for m in c} == {m.id for m in b}


@pytest.mark.postgres
def test_relays_running_side_by_side_publish_each_message_once(
    postgres_database: PostgresDatabase, postgres_db: Database
) -> None:
    postgres_database.truncate()
    for _ in range(20):
        _commit_events(postgres_db, 10)
    recorder = _Recorder()
    barrier = threading.Barrier(4)

    def relay() -> None:
        outbox = postgres_db.outbox()
        barrier.wait()
        while relay_once(outbox, recorder, SystemClock(), batch=7):
            pass

    threads = [threading.Thread(target=relay) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    counts = Counter(m.id for m in recorder.published)
    assert len(counts) == 200
    assert set(counts.values()) == {1}
