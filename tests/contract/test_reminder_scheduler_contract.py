"""The reminder scheduler's port (`uow.reminders`) and a scheduler pass, on memory, SQLite and
PostgreSQL (app role, row-level security on: the scheduler reads across families only through
the SECURITY DEFINER functions of the reminders migration)."""

from __future__ import annotations

import pytest

from adapters.memory.uow import MemoryStore
from adapters.sql import Database
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import UnitOfWorkFactory
from tailtracker_core.testing.reminder_contract import ReminderSchedulerContract
from tests.fixtures.sql import PostgresDatabase


class TestMemoryReminders(ReminderSchedulerContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore(Uuid7Generator(), SystemClock()).uow_factory


class TestSqliteReminders(ReminderSchedulerContract):
    @pytest.fixture
    def uow_factory(self, sqlite_db: Database) -> UnitOfWorkFactory:
        return sqlite_db.uow_factory


@pytest.mark.postgres
class TestPostgresReminders(ReminderSchedulerContract):
    @pytest.fixture
    def uow_factory(self, postgres_database: PostgresDatabase, postgres_db: Database) -> UnitOfWorkFactory:
        postgres_database.truncate()
        return postgres_db.uow_factory
