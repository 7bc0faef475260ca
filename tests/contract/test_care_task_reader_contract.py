"""The CareTaskReader contract, run against every adapter: memory, SQLite (the sync
repositories in a thread) and PostgreSQL (asyncpg, as the app role: row-level security
applies, on the pet reader's pool as in production)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from adapters.memory.care_reads import MemoryCareTaskReader
from adapters.memory.uow import MemoryStore
from adapters.sql import Database
from adapters.sql.care_reads import AsyncpgCareTaskReader, ThreadedCareTaskReader, care_task_reader_for
from adapters.sql.reads import AsyncpgPetReader, pet_reader_for
from tailtracker_core.model.roles import Role
from tailtracker_core.ports import CareTaskReader, UnitOfWorkFactory
from tailtracker_core.testing.care_reader_contract import MARCH, CareTaskReaderContract
from tests.fixtures.backends import MemoryBackend, PostgresBackend, SqliteBackend
from tests.fixtures.sql import PostgresDatabase


class TestMemoryCareTaskReader(MemoryBackend, CareTaskReaderContract):
    @pytest.fixture
    def care_task_reader(self, store: MemoryStore) -> CareTaskReader:
        return MemoryCareTaskReader(store)


class TestSqliteCareTaskReader(SqliteBackend, CareTaskReaderContract):
    @pytest.fixture
    def care_task_reader(self, sqlite_url: str, sqlite_db: Database) -> CareTaskReader:
        reader = care_task_reader_for(sqlite_url, sqlite_db, pet_reader_for(sqlite_url, sqlite_db))
        assert isinstance(reader, ThreadedCareTaskReader)
        return reader


@pytest.mark.postgres
class TestPostgresCareTaskReader(PostgresBackend, CareTaskReaderContract):
    @pytest.fixture
    def pet_reader(self, postgres_database: PostgresDatabase, postgres_db: Database) -> AsyncpgPetReader:
        reader = pet_reader_for(postgres_database.app_url, postgres_db, max_size=4)
        assert isinstance(reader, AsyncpgPetReader)
        return reader

    @pytest.fixture
    def care_task_reader(
        self, postgres_database: PostgresDatabase, postgres_db: Database, pet_reader: AsyncpgPetReader
    ) -> CareTaskReader:
        reader = care_task_reader_for(postgres_database.app_url, postgres_db, pet_reader)
        assert isinstance(reader, AsyncpgCareTaskReader)
        return reader

    def test_row_level_security_alone_hides_another_familys_care(
        self, uow_factory: UnitOfWorkFactory, care_task_reader: CareTaskReader, aio: asyncio.Runner
    ) -> None:
        """The statement has no membership filter of its own: a non-member gets no row because
        the app role reads under RLS as the actor, not because of the core's policy check."""
        owner, stranger = self.user(uow_factory), self.user(uow_factory)
        self.family(uow_factory, stranger)
        pet = self.pet(uow_factory, owner, self.family(uow_factory, owner))
        self.schedule(uow_factory, owner, pet, "FREQ=DAILY", datetime(2026, 1, 1, 9, 0), "UTC")
        assert self.run(aio, care_task_reader.care_source(stranger.id, pet.id, *MARCH)) is None
        found = self.run(aio, care_task_reader.care_source(owner.id, pet.id, *MARCH))
        assert found is not None and found.role is Role.OWNER and len(found.schedules) == 1

    def test_a_reader_of_its_own_makes_and_closes_its_pool(
        self, postgres_database: PostgresDatabase, uow_factory: UnitOfWorkFactory
    ) -> None:
        owner = self.user(uow_factory)
        pet = self.pet(uow_factory, owner, self.family(uow_factory, owner))
        reader = AsyncpgCareTaskReader(postgres_database.app_url, max_size=2)

        async def read_then_close() -> object:
            found = await reader.care_source(owner.id, pet.id, *MARCH)
            await reader.close()
            return found

        found = asyncio.run(read_then_close())
        assert found is not None and found.role is Role.OWNER
