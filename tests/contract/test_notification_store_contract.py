"""The notification repositories' contract, run against memory, SQLite and PostgreSQL.

PostgreSQL runs as the app role, so row-level security is on for the whole suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.memory.uow import MemoryStore
from adapters.sql import Database
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import OutboxStore, UnitOfWorkFactory
from tailtracker_core.testing.notification_contract import NotificationStoreContract
from tests.fixtures.sql import PostgresDatabase


class TestMemoryNotificationStore(NotificationStoreContract):
    @pytest.fixture
    def store(self) -> MemoryStore:
        return MemoryStore(Uuid7Generator(), SystemClock())

    @pytest.fixture
    def uow_factory(self, store: MemoryStore) -> UnitOfWorkFactory:
        return store.uow_factory

    @pytest.fixture
    def outbox_store(self, store: MemoryStore) -> OutboxStore:
        return store.outbox()


class TestSqliteNotificationStore(NotificationStoreContract):
    @pytest.fixture
    def uow_factory(self, sqlite_db: Database) -> UnitOfWorkFactory:
        return sqlite_db.uow_factory

    @pytest.fixture
    def outbox_store(self, sqlite_db: Database) -> Iterator[OutboxStore]:
        outbox = sqlite_db.outbox()
        yield outbox
        outbox.release()


@pytest.mark.postgres
class TestPostgresNotificationStore(NotificationStoreContract):
    @pytest.fixture
    def uow_factory(self, postgres_database: PostgresDatabase, postgres_db: Database) -> UnitOfWorkFactory:
        postgres_database.truncate()
        return postgres_db.uow_factory

    @pytest.fixture
    def outbox_store(self, uow_factory: UnitOfWorkFactory, postgres_db: Database) -> Iterator[OutboxStore]:
        outbox = postgres_db.outbox()
        yield outbox
        outbox.release()
