"""The PetReader and SessionReader contracts, run against every adapter.

Pets: memory, SQLite (the sync repositories in a thread) and PostgreSQL (asyncpg, as the app
role: row-level security applies). Sessions: the in-process store and Redis (redis.asyncio).
"""

from __future__ import annotations

import asyncio
from datetime import date
from uuid import UUID

import pytest
import redis

from adapters.memory.reads import MemoryPetReader
from adapters.memory.sessions import MemorySessionReader, MemorySessionStore
from adapters.memory.uow import MemoryStore
from adapters.redis import AsyncRedisSessionReader, RedisSessionStore
from adapters.sql import Database
from adapters.sql.mapping import pet_from
from adapters.sql.reads import AsyncpgPetReader, ThreadedPetReader, pet_from_record, pet_reader_for
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Pet, Sex, Size, Species
from tailtracker_core.ports import PetReader, UnitOfWorkFactory
from tailtracker_core.testing.reader_contract import PetReaderContract, SessionReaderContract
from tests.fixtures.backends import MemoryBackend, PostgresBackend, SqliteBackend
from tests.fixtures.kv import FakeClock
from tests.fixtures.sql import PostgresDatabase


class TestMemoryPetReader(MemoryBackend, PetReaderContract):
    @pytest.fixture
    def pet_reader(self, store: MemoryStore) -> PetReader:
        return MemoryPetReader(store)


class TestSqlitePetReader(SqliteBackend, PetReaderContract):
    @pytest.fixture
    def pet_reader(self, sqlite_url: str, sqlite_db: Database) -> PetReader:
        reader = pet_reader_for(sqlite_url, sqlite_db)
        assert isinstance(reader, ThreadedPetReader)
        return reader


@pytest.mark.postgres
class TestPostgresPetReader(PostgresBackend, PetReaderContract):
    @pytest.fixture
    def pet_reader(self, postgres_database: PostgresDatabase, postgres_db: Database) -> PetReader:
        reader = pet_reader_for(postgres_database.app_url, postgres_db, max_size=4)
        assert isinstance(reader, AsyncpgPetReader)
        return reader

    def test_the_asyncpg_row_maps_as_the_sql_mapping_does(
        self, postgres_database: PostgresDatabase, uow_factory: UnitOfWorkFactory, pet_reader: PetReader
    ) -> None:
        """The record asyncpg returns and the row SQLAlchemy returns make the same Pet."""
        owner = self.user(uow_factory)
        family = self.family(uow_factory, owner)
        full = self.pet(
            uow_factory,
            owner,
            family,
            species=Species.CAT,
            sex=Sex.FEMALE,
            breed="Maine Coon",
            birth_date=date(2020, 5, 1),
            colors=["black", "white"],
            size=Size.SMALL,
            weight_kg=3.5,
            microchip=Microchip("985112345678901"),
            neutered=False,
            notes="n",
            version=4,
        )
        for pet in (full, self.pet(uow_factory, owner, family)):
            self._agree(postgres_database, uow_factory, owner.id, pet)

    def _agree(
        self, postgres_database: PostgresDatabase, uow_factory: UnitOfWorkFactory, owner: UUID, pet: Pet
    ) -> None:
        with uow_factory(owner) as uow:
            from sqlalchemy import select

            from adapters.sql.tables import pets

            row = uow.pets._conn().execute(select(pets).where(pets.c.id == pet.id)).mappings().one()  # type: ignore[attr-defined]
            via_sqlalchemy = pet_from(row)

        async def via_asyncpg() -> Pet:
            import asyncpg

            conn = await asyncpg.connect(postgres_database.owner_url)
            try:
                from adapters.sql.reads import PET_WITH_ROLE, _init_connection

                await _init_connection(conn)
                return pet_from_record(await conn.fetchrow(PET_WITH_ROLE, pet.id, owner))
            finally:
                await conn.close()

        assert asyncio.run(via_asyncpg()) == via_sqlalchemy == pet

    def test_the_connection_comes_back_without_the_actor(
        self, uow_factory: UnitOfWorkFactory, pet_reader: PetReader, aio: asyncio.Runner
    ) -> None:
        owner = self.user(uow_factory)
        pet = self.pet(uow_factory, owner, self.family(uow_factory, owner))
        assert isinstance(pet_reader, AsyncpgPetReader)

        async def leftover() -> object:
            assert await pet_reader.pet_with_role(owner.id, pet.id) is not None
            pool = await pet_reader._get_pool()
            async with pool.acquire() as conn:
                return await conn.fetchval("SELECT current_setting('tailtracker.user_id', true)")

        assert aio.run(leftover()) in (None, "")


class TestMemorySessionReader(SessionReaderContract):
    @pytest.fixture
    def sessions(self, fake_clock: FakeClock) -> MemorySessionStore:
        return MemorySessionStore(clock=fake_clock)

    @pytest.fixture
    def session_reader(self, sessions: MemorySessionStore) -> MemorySessionReader:
        return MemorySessionReader(sessions)


@pytest.mark.redis
class TestRedisSessionReader(SessionReaderContract):
    @pytest.fixture
    def sessions(self, redis_client: redis.Redis, redis_prefix: str) -> RedisSessionStore:
        return RedisSessionStore(redis_client, prefix=redis_prefix)

    @pytest.fixture
    def session_reader(self, redis_url: str, redis_prefix: str) -> AsyncRedisSessionReader:
        return AsyncRedisSessionReader(redis_url, prefix=redis_prefix)
