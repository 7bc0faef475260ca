"""The alert ledger's and member_ids' contract, run against every unit-of-work adapter."""

from __future__ import annotations

import pytest

from adapters.memory.uow import MemoryStore
from adapters.sql import Database
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import UnitOfWorkFactory
from tailtracker_core.testing.alert_ledger_contract import AlertLedgerContract
from tests.fixtures.sql import PostgresDatabase


class TestMemoryAlertLedger(AlertLedgerContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore(Uuid7Generator(), SystemClock()).uow_factory


class TestSqliteAlertLedger(AlertLedgerContract):
    @pytest.fixture
    def uow_factory(self, sqlite_db: Database) -> UnitOfWorkFactory:
        return sqlite_db.uow_factory


@pytest.mark.postgres
class TestPostgresAlertLedger(AlertLedgerContract):
    """As the app role: row-level security is on for the whole suite."""

    @pytest.fixture
    def uow_factory(self, postgres_database: PostgresDatabase, postgres_db: Database) -> UnitOfWorkFactory:
        postgres_database.truncate()
        return postgres_db.uow_factory
