"""The UnitOfWork/OutboxStore contract, run against every adapter: memory, SQLite, PostgreSQL.

PostgreSQL runs as the app role, so row-level security is on for the whole suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.memory.uow import MemoryStore
from adapters.sql import Database, SqlOutbox
from adapters.system import Uuid7Generator
from tailtracker_core.ports import IdGenerator, OutboxStore, UnitOfWorkFactory
from tailtracker_core.testing.uow_contract import UnitOfWorkContract
from tests.fixtures.backends import MemoryBackend, PostgresBackend, SqliteBackend


class TestMemoryUnitOfWork(MemoryBackend, UnitOfWorkContract):
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return Uuid7Generator()

    @pytest.fixture
    def outbox_store(self, store: MemoryStore) -> OutboxStore:
        return store.outbox()


def _outbox(db: Database) -> Iterator[SqlOutbox]:
    outbox = db.outbox()
    yield outbox
    outbox.release()  # a failed test must not leave a claim (and its locks) open


class TestSqliteUnitOfWork(SqliteBackend, UnitOfWorkContract):
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return Uuid7Generator()

    @pytest.fixture
    def outbox_store(self, sqlite_db: Database) -> Iterator[OutboxStore]:
        yield from _outbox(sqlite_db)


@pytest.mark.postgres
class TestPostgresUnitOfWork(PostgresBackend, UnitOfWorkContract):
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return Uuid7Generator()

    @pytest.fixture
    def outbox_store(self, uow_factory: UnitOfWorkFactory, postgres_db: Database) -> Iterator[OutboxStore]:
        yield from _outbox(postgres_db)
