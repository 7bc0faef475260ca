"""The lost-and-found repositories' contract (lost_reports, found_reports, sightings, matches),
run against every adapter of the unit of work."""

from __future__ import annotations

import pytest

from adapters.memory.uow import MemoryStore
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import UnitOfWorkFactory
from tailtracker_core.testing.lost_found_contract import LostFoundContract
from tests.fixtures.backends import PostgresBackend, SqliteBackend


class TestMemoryLostFound(LostFoundContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore(Uuid7Generator(), SystemClock()).uow_factory


class TestSqliteLostFound(SqliteBackend, LostFoundContract):
    """On a migrated SQLite file."""


@pytest.mark.postgres
class TestPostgresLostFound(PostgresBackend, LostFoundContract):
    """As the app role: row-level security is on for the whole suite."""
