"""The alert ledger's and member_ids' contract, run against every unit-of-work adapter."""

from __future__ import annotations

import pytest

from adapters.memory.uow import MemoryStore
from adapters.system import SystemClock, Uuid7Generator
from tailtracker_core.ports import UnitOfWorkFactory
from tailtracker_core.testing.alert_ledger_contract import AlertLedgerContract
from tests.fixtures.backends import PostgresBackend, SqliteBackend


class TestMemoryAlertLedger(AlertLedgerContract):
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        return MemoryStore(Uuid7Generator(), SystemClock()).uow_factory


class TestSqliteAlertLedger(SqliteBackend, AlertLedgerContract):
    """On a migrated SQLite file."""


@pytest.mark.postgres
class TestPostgresAlertLedger(PostgresBackend, AlertLedgerContract):
    """As the app role: row-level security is on for the whole suite."""
