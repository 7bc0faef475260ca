"""The notification repositories' contract, run against memory, SQLite and PostgreSQL.

PostgreSQL runs as the app role, so row-level security is on for the whole suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.memory.uow import MemoryStore
from adapters.sql import Database
from tailtracker_core.ports import OutboxStore, UnitOfWorkFactory
from tailtracker_core.testing.notification_contract import NotificationStoreContract
from tests.fixtures.backends import MemoryBackend, PostgresBackend, SqliteBackend


class TestMemoryNotificationStore(MemoryBackend, NotificationStoreContract):
    @pytest.fixture
    def outbox_store(self, store: MemoryStore) -> OutboxStore:
        return store.outbox()


class TestSqliteNotificationStore(SqliteBackend, NotificationStoreContract):
    @pytest.fixture
    def outbox_store(self, sqlite_db: Database) -> Iterator[OutboxStore]:
        outbox = sqlite_db.outbox()
        yield outbox
        outbox.release()


@pytest.mark.postgres
class TestPostgresNotificationStore(PostgresBackend, NotificationStoreContract):
    @pytest.fixture
    def outbox_store(self, uow_factory: UnitOfWorkFactory, postgres_db: Database) -> Iterator[OutboxStore]:
        outbox = postgres_db.outbox()
        yield outbox
        outbox.release()
