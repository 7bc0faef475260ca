"""The NearbyReader contract (the public lost-report search's read side), run against every
adapter: memory (inline), SQLite (the geo index and public views in a thread), PostgreSQL
(asyncpg, one statement: `tt_nearby_public_reports`, as the app role), and the threaded reader
over the Redis geo cache (D24) in front of SQLite and of PostGIS."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import redis

from adapters.memory.lost_reads import MemoryNearbyReader
from adapters.memory.uow import MemoryStore
from adapters.redis import RedisGeoIndex
from adapters.sql import Database, lost_reads
from adapters.sql.lost_reads import AsyncpgNearbyReader, ThreadedNearbyReader, nearby_reader_for
from adapters.sql.reads import AsyncpgPetReader, pet_reader_for
from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.model.lost_found import NearbyReport
from tailtracker_core.ports import GeoIndex, NearbyReader, UnitOfWorkFactory
from tailtracker_core.testing.nearby_contract import NearbyReaderContract
from tests.fixtures.backends import MemoryBackend, PostgresBackend, SqliteBackend
from tests.fixtures.sql import PostgresDatabase


class TestMemoryNearbyReader(MemoryBackend, NearbyReaderContract):
    @pytest.fixture
    def nearby_reader(self, store: MemoryStore) -> NearbyReader:
        return MemoryNearbyReader(store)


class TestSqliteNearbyReader(SqliteBackend, NearbyReaderContract):
    @pytest.fixture
    def nearby_reader(self, sqlite_url: str, sqlite_db: Database) -> NearbyReader:
        pets = pet_reader_for(sqlite_url, sqlite_db)
        reader = nearby_reader_for(sqlite_url, sqlite_db, sqlite_db.geo_index(), pets)
        assert isinstance(reader, ThreadedNearbyReader)
        return reader


@pytest.mark.postgres
class TestPostgresNearbyReader(PostgresBackend, NearbyReaderContract):
    @pytest.fixture
    def nearby_reader(self, postgres_database: PostgresDatabase, postgres_db: Database) -> NearbyReader:
        pets = pet_reader_for(postgres_database.app_url, postgres_db, max_size=4)
        reader = nearby_reader_for(postgres_database.app_url, postgres_db, postgres_db.geo_index(), pets)
        assert isinstance(reader, AsyncpgNearbyReader)
        return reader

    def test_one_statement_and_no_transaction_left_open(
        self,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,
        owner: object,
        aio: asyncio.Runner,
    ) -> None:
        """The search is one statement outside any transaction: the connection goes back idle."""
        assert isinstance(nearby_reader, AsyncpgNearbyReader)

        async def state() -> tuple[int, bool]:
            await nearby_reader.nearby(GeoPoint(52.52, 13.405), 5.0, None, 20)
            pool = await nearby_reader._pools.pool()
            async with pool.acquire() as conn:
                return pool.get_size(), conn.is_in_transaction()

        size, in_transaction = aio.run(state())
        assert size >= 1 and not in_transaction

    def test_searches_in_one_turn_of_the_loop_go_out_as_one_statement(
        self,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,
        owner: object,
        aio: asyncio.Runner,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        assert isinstance(nearby_reader, AsyncpgNearbyReader)
        for k in range(12):
            self.open_report(uow_factory, None, owner, GeoPoint(52.52 + k / 1000, 13.405))  # type: ignore[arg-type]
        sizes: list[int] = []
        send = lost_reads._FirstPages._run

        async def counted(pages: lost_reads._FirstPages, asks: list[lost_reads._Ask]) -> None:
            sizes.append(len(asks))
            await send(pages, asks)

        monkeypatch.setattr(lost_reads._FirstPages, "_run", counted)
        centres = [GeoPoint(52.52 + k / 500, 13.405) for k in range(20)]
        one_by_one = [self.ids(self.search(aio, nearby_reader, c, 5.0, limit=5)) for c in centres]
        assert sizes == [1] * 20
        sizes.clear()

        async def together() -> list[list[NearbyReport]]:
            return list(await asyncio.gather(*(nearby_reader.nearby(c, 5.0, None, 5) for c in centres)))

        assert [self.ids(hits) for hits in aio.run(together())] == one_by_one
        assert sizes == [16, 4]  # at most 16 a statement (the default max_batch)

    def test_a_caller_that_goes_away_leaves_the_others_answered(
        self, nearby_reader: NearbyReader, uow_factory: UnitOfWorkFactory, owner: object, aio: asyncio.Runner
    ) -> None:
        report = self.open_report(uow_factory, None, owner, GeoPoint(52.52, 13.405))  # type: ignore[arg-type]

        async def one_cancelled() -> list[object]:
            tasks = [
                asyncio.ensure_future(nearby_reader.nearby(GeoPoint(52.52, 13.405), 5.0, None, 5))
                for _ in range(5)
            ]
            await asyncio.sleep(0)  # every search has queued its first page
            tasks[2].cancel()
            return await asyncio.gather(*tasks, return_exceptions=True)

        answers = aio.run(one_cancelled())
        assert isinstance(answers[2], asyncio.CancelledError)
        assert [self.ids(a) for i, a in enumerate(answers) if i != 2] == [[report.id]] * 4  # type: ignore[arg-type]

    def test_a_failed_statement_fails_each_caller_of_its_batch_and_nothing_else(
        self,
        nearby_reader: NearbyReader,
        uow_factory: UnitOfWorkFactory,  # an empty database
        aio: asyncio.Runner,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        centres = [GeoPoint(52.52 + k / 500, 13.405) for k in range(3)]

        async def together() -> list[object]:
            searches = (nearby_reader.nearby(c, 5.0, None, 5) for c in centres)
            return list(await asyncio.gather(*searches, return_exceptions=True))

        monkeypatch.setattr(
            lost_reads, "NEARBY_PLANAR_MANY", "SELECT no_such_column FROM tt_public_open_reports"
        )
        assert all(isinstance(a, asyncpg.PostgresError) for a in aio.run(together()))
        monkeypatch.undo()
        assert aio.run(together()) == [[], [], []]


class _RedisOver:
    """The threaded reader over Redis GEO (the cache) in front of a database (the authority)."""

    @pytest.fixture
    def geo_feed(self, redis_client: redis.Redis, redis_prefix: str, authority: Database) -> GeoIndex:
        index = RedisGeoIndex(redis_client, authority.geo_index(), authority.uow_factory, prefix=redis_prefix)
        assert index.rebuild() == 0  # an empty database: the cache is complete, reads use it
        return index

    @pytest.fixture
    def nearby_reader(self, geo_feed: GeoIndex, authority: Database) -> NearbyReader:
        return ThreadedNearbyReader(geo_feed, authority.uow_factory)


@pytest.mark.redis
class TestRedisNearbyReaderOverSqlite(_RedisOver, SqliteBackend, NearbyReaderContract):
    @pytest.fixture
    def authority(self, sqlite_db: Database) -> Database:
        return sqlite_db


def test_the_postgres_reader_shares_the_pet_readers_pool() -> None:
    pets = AsyncpgPetReader("postgresql://nobody@127.0.0.1:1/none")
    reader = AsyncpgNearbyReader(pets)
    assert reader._pools is pets
