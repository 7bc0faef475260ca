"""The CalendarFeedRepository contract, run against every adapter: memory, SQLite, PostgreSQL.

PostgreSQL runs as the app role, so row-level security is on for the whole suite and the
token look-up goes through its SECURITY DEFINER function.
"""

from __future__ import annotations

import pytest

from adapters.memory.uow import MemoryStore
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import IdGenerator, UnitOfWorkFactory
from tailtracker_core.testing.calendar_contract import CalendarFeedContract
from tests.fixtures.backends import PostgresBackend, SqliteBackend


class TestMemoryCalendarFeeds(CalendarFeedContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore(Uuid7Generator(), SystemClock()).uow_factory


class TestSqliteCalendarFeeds(SqliteBackend, CalendarFeedContract):
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return Uuid7Generator()


@pytest.mark.postgres
class TestPostgresCalendarFeeds(PostgresBackend, CalendarFeedContract):
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return Uuid7Generator()
