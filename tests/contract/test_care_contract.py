"""The care and health repositories' contract, run against memory, SQLite and PostgreSQL.

PostgreSQL runs as the app role, so row-level security is on; `due`/`advance` without an
acting user go through the scheduler's SECURITY DEFINER functions.
"""

from __future__ import annotations

import pytest

from adapters.memory.uow import MemoryStore
from adapters.sql import Database
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import IdGenerator, UnitOfWorkFactory
from tailtracker_core.testing.care_contract import CareRepositoriesContract
from tests.fixtures.sql import PostgresDatabase


class TestMemoryCare(CareRepositoriesContract):
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return Uuid7Generator()

    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore(Uuid7Generator(), SystemClock()).uow_factory


class TestSqliteCare(CareRepositoriesContract):
    @pytest.fixture
    def uow_factory(self, sqlite_db: Database) -> UnitOfWorkFactory:
        return sqlite_db.uow_factory


@pytest.mark.postgres
class TestPostgresCare(CareRepositoriesContract):
    @pytest.fixture
    def uow_factory(self, postgres_database: PostgresDatabase, postgres_db: Database) -> UnitOfWorkFactory:
        postgres_database.truncate()
        return postgres_db.uow_factory
