"""The FileRepository contract (`uow.files`) against memory, SQLite and PostgreSQL (as the
app role, row-level security on)."""

from __future__ import annotations

import pytest

from adapters.memory.uow import MemoryStore
from adapters.sql import Database
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import UnitOfWorkFactory
from tailtracker_core.testing.file_repository_contract import FileRepositoryContract
from tests.fixtures.sql import PostgresDatabase


class TestMemoryFiles(FileRepositoryContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore(Uuid7Generator(), SystemClock()).uow_factory


class TestSqliteFiles(FileRepositoryContract):
    @pytest.fixture
    def uow_factory(self, sqlite_db: Database) -> UnitOfWorkFactory:
        return sqlite_db.uow_factory


@pytest.mark.postgres
class TestPostgresFiles(FileRepositoryContract):
    @pytest.fixture
    def uow_factory(self, postgres_database: PostgresDatabase, postgres_db: Database) -> UnitOfWorkFactory:
        postgres_database.truncate()
        return postgres_db.uow_factory
