"""The lost-and-found repositories' contract (lost_reports, found_reports, sightings, matches),
run against every adapter of the unit of work."""

from __future__ import annotations

import pytest

from adapters.memory.uow import MemoryStore
from adapters.sql import Database
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import UnitOfWorkFactory
from tailtracker_core.testing.lost_found_contract import LostFoundContract
from tests.fixtures.sql import PostgresDatabase


class TestMemoryLostFound(LostFoundContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore(Uuid7Generator(), SystemClock()).uow_factory


class TestSqliteLostFound(LostFoundContract):
    @pytest.fixture
    def uow_factory(self, sqlite_db: Database) -> UnitOfWorkFactory:
        return sqlite_db.uow_factory


@pytest.mark.postgres
class TestPostgresLostFound(LostFoundContract):
    """As the app role: row-level security is on for the whole suite."""

    @pytest.fixture
    def uow_factory(self, postgres_database: PostgresDatabase, postgres_db: Database) -> UnitOfWorkFactory:
        postgres_database.truncate()
        return postgres_db.uow_factory
