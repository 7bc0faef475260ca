"""The GeoIndex contract: one suite, the same fixtures, for every adapter."""

from __future__ import annotations

import pytest
import redis

from adapters.memory.geo import MemoryGeoIndex
from adapters.memory.uow import MemoryStore
from adapters.redis import RedisGeoIndex
from adapters.sql import Database
from tailtracker_core.ports import GeoIndex, UnitOfWorkFactory
from tailtracker_core.testing.geo_contract import GeoIndexContract
from tests.fixtures.backends import MemoryBackend, PostgresBackend, SqliteBackend
from tests.fixtures.sql import PostgresDatabase


class TestMemoryGeoIndex(MemoryBackend, GeoIndexContract):
    @pytest.fixture
    def geo_index(self, store: MemoryStore) -> GeoIndex:
        return MemoryGeoIndex(store)


class TestSqliteGeoIndex(SqliteBackend, GeoIndexContract):
    """The portable adapter: a bounding box on indexed lat/lon, exact distance after."""

    @pytest.fixture
    def geo_index(self, sqlite_db: Database) -> GeoIndex:
        return sqlite_db.geo_index()


@pytest.mark.postgres
class TestPostgisGeoIndex(PostgresBackend, GeoIndexContract):
    """PostGIS (geography, GiST, ST_DWithin, <->), as the app role with row-level security."""

    @pytest.fixture
    def geo_index(self, postgres_db: Database) -> GeoIndex:
        return postgres_db.geo_index()


class _RedisOver:
    """Redis GEO over an authoritative database: the cache under test, the database behind it."""

    @pytest.fixture
    def geo_index(self, redis_client: redis.Redis, redis_prefix: str, authority: Database) -> GeoIndex:
        index = RedisGeoIndex(redis_client, authority.geo_index(), authority.uow_factory, prefix=redis_prefix)
        assert index.rebuild() == 0  # an empty database: the cache is complete, reads use it
        return index


class TestRedisGeoIndexOverSqlite(SqliteBackend, _RedisOver, GeoIndexContract):
    @pytest.fixture
    def authority(self, sqlite_db: Database) -> Database:
        return sqlite_db


@pytest.mark.postgres
class TestRedisGeoIndexOverPostgis(_RedisOver, GeoIndexContract):
    @pytest.fixture
    def authority(self, postgres_database: PostgresDatabase, postgres_db: Database) -> Database:
        postgres_database.truncate()
        return postgres_db

    @pytest.fixture
    def uow_factory(self, authority: Database) -> UnitOfWorkFactory:
        return authority.uow_factory
