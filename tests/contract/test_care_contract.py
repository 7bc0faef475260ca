"""The care and health repositories' contract, run against memory, SQLite and PostgreSQL.

PostgreSQL runs as the app role, so row-level security is on; `due`/`advance` without an
acting user go through the scheduler's SECURITY DEFINER functions.
"""

from __future__ import annotations

import pytest

from adapters.memory.uow import MemoryStore
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import IdGenerator, UnitOfWorkFactory
from tailtracker_core.testing.care_contract import CareRepositoriesContract
from tests.fixtures.backends import PostgresBackend, SqliteBackend


class TestMemoryCare(CareRepositoriesContract):
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return Uuid7Generator()

    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore(Uuid7Generator(), SystemClock()).uow_factory


class TestSqliteCare(SqliteBackend, CareRepositoriesContract):
    """On a migrated SQLite file."""


@pytest.mark.postgres
class TestPostgresCare(PostgresBackend, CareRepositoriesContract):
    """As the app role: row-level security is on for the whole suite."""
