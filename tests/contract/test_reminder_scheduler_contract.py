"""The reminder scheduler's port (`uow.reminders`) and a scheduler pass, on memory, SQLite and
PostgreSQL (app role, row-level security on: the scheduler reads across families only through
the SECURITY DEFINER functions of the reminders migration)."""

from __future__ import annotations

import pytest

from adapters.memory.uow import MemoryStore
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import UnitOfWorkFactory
from tailtracker_core.testing.reminder_contract import ReminderSchedulerContract
from tests.fixtures.backends import PostgresBackend, SqliteBackend


class TestMemoryReminders(ReminderSchedulerContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore(Uuid7Generator(), SystemClock()).uow_factory


class TestSqliteReminders(SqliteBackend, ReminderSchedulerContract):
    """On a migrated SQLite file."""


@pytest.mark.postgres
class TestPostgresReminders(PostgresBackend, ReminderSchedulerContract):
    """As the app role: row-level security is on for the whole suite."""
