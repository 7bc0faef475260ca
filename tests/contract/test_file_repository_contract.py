"""The FileRepository contract (`uow.files`) against memory, SQLite and PostgreSQL (as the
app role, row-level security on)."""

from __future__ import annotations

import pytest

from adapters.memory.uow import MemoryStore
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import UnitOfWorkFactory
from tailtracker_core.testing.file_repository_contract import FileRepositoryContract
from tests.fixtures.backends import PostgresBackend, SqliteBackend


class TestMemoryFiles(FileRepositoryContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore(Uuid7Generator(), SystemClock()).uow_factory


class TestSqliteFiles(SqliteBackend, FileRepositoryContract):
    """On a migrated SQLite file."""


@pytest.mark.postgres
class TestPostgresFiles(PostgresBackend, FileRepositoryContract):
    """As the app role: row-level security is on for the whole suite."""
