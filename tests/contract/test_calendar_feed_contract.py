"""The CalendarFeedRepository contract, run against every adapter: memory, SQLite, PostgreSQL.

PostgreSQL runs as the app role, so row-level security is on for the whole suite and the
token look-up goes through its SECURITY DEFINER function.
"""

from __future__ import annotations

import pytest

from adapters.memory.uow import MemoryStore
from adapters.sql import Database
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import IdGenerator, UnitOfWorkFactory
from tailtracker_core.testing.calendar_contract import CalendarFeedContract
from tests.fixtures.sql import PostgresDatabase


class TestMemoryCalendarFeeds(CalendarFeedContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore(Uuid7Generator(), SystemClock()).uow_factory


class TestSqliteCalendarFeeds(CalendarFeedContract):
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return Uuid7Generator()

    @pytest.fixture
    def uow_factory(self, sqlite_db: Database) -> UnitOfWorkFactory:
        return sqlite_db.uow_factory


@pytest.mark.postgres
class TestPostgresCalendarFeeds(CalendarFeedContract):
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return Uuid7Generator()

    @pytest.fixture
    def uow_factory(self, postgres_database: PostgresDatabase, postgres_db: Database) -> UnitOfWorkFactory:
        postgres_database.truncate()
        return postgres_db.uow_factory
