"""The Redis geo cache beyond the shared contract: how it stays in step with the database.

The authority is SQLite here (the contract suite also runs the cache over PostGIS).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
import redis

from adapters.memory.cache import MemoryCache
from adapters.messaging import FileEmailSender
from adapters.redis import RedisGeoIndex
from adapters.sql import Database
from adapters.system import SystemClock
from entrypoints.tasks import EventHandlers
from tailtracker_core.events import LostReportOpened, LostReportResolved, event_to_json
from tailtracker_core.model.accounts import User
from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.model.lost_found import LostReport
from tailtracker_core.model.pets import Species
from tailtracker_core.ports import IndexedReport
from tailtracker_core.testing.lost_found_contract import (
    arrange_family,
    arrange_lost_report,
    arrange_pet,
    arrange_user,
)

pytestmark = pytest.mark.redis

_CENTRE = GeoPoint(59.3293, 18.0686)
_NEAR = GeoPoint(59.33, 18.07)


@pytest.fixture
def index(redis_client: redis.Redis, redis_prefix: str, sqlite_db: Database) -> RedisGeoIndex:
    return RedisGeoIndex(redis_client, sqlite_db.geo_index(), sqlite_db.uow_factory, prefix=redis_prefix)


@pytest.fixture
def owner(sqlite_db: Database) -> User:
    return arrange_user(sqlite_db.uow_factory)


def _open(db: Database, owner: User, where: GeoPoint, species: Species = Species.DOG) -> LostReport:
    family = arrange_family(db.uow_factory, owner)
    pet = arrange_pet(db.uow_factory, owner, family, species=species)
    return arrange_lost_report(db.uow_factory, owner, pet, where)


def _close(db: Database, owner: User, report: LostReport) -> None:
    with db.uow_factory(owner.id) as uow:
        stored = uow.lost_reports.get(report.id)
        assert stored is not None
        stored.close(datetime.now(UTC))
        uow.lost_reports.save(stored)
        uow.commit()


def _cached(client: redis.Redis, prefix: str) -> set[UUID]:
    return {UUID(m.decode()) for m in client.zrange(f"{prefix}open:all", 0, -1)}


def _ids(hits: list[tuple[UUID, float]]) -> list[UUID]:
    return [h[0] for h in hits]


def test_an_unbuilt_cache_reads_the_database(
    index: RedisGeoIndex, sqlite_db: Database, owner: User, redis_client: redis.Redis, redis_prefix: str
) -> None:
    report = _open(sqlite_db, owner, _NEAR)  # never put: the event has not been handled
    assert not index.is_built()
    assert _ids(index.nearby_open_reports(_CENTRE, 5.0, None, 10)) == [report.id]
    assert index.rebuild() == 1
    assert index.is_built()
    assert _cached(redis_client, redis_prefix) == {report.id}
    assert index.ensure_built() is None  # already complete: nothing to do


def test_a_flushed_cache_falls_back_until_rebuilt(
    index: RedisGeoIndex, sqlite_db: Database, owner: User, redis_client: redis.Redis, redis_prefix: str
) -> None:
    index.rebuild()
    report = _open(sqlite_db, owner, _NEAR)
    index.put(IndexedReport(report.id, _NEAR, Species.DOG))
    for key in redis_client.scan_iter(match=f"{redis_prefix}*"):
        redis_client.delete(key)  # Redis restarted empty
    assert _ids(index.nearby_open_reports(_CENTRE, 5.0, None, 10)) == [report.id]
    assert index.ensure_built() == 1
    assert _cached(redis_client, redis_prefix) == {report.id}


def test_rebuild_drops_what_the_database_no_longer_has_open(
    index: RedisGeoIndex, sqlite_db: Database, owner: User, redis_client: redis.Redis, redis_prefix: str
) -> None:
    kept = _open(sqlite_db, owner, _NEAR)
    closed = _open(sqlite_db, owner, _NEAR, Species.CAT)
    polar = _open(sqlite_db, owner, GeoPoint(89.5, 0.0))
    for r, sp in ((kept, Species.DOG), (closed, Species.CAT), (polar, Species.DOG)):
        index.put(IndexedReport(r.id, r.location, sp))
    _close(sqlite_db, owner, closed)
    _close(sqlite_db, owner, polar)
    ghost = IndexedReport(UUID(int=7), _NEAR, Species.DOG)  # never in the database
    index.put(ghost)
    assert index.rebuild() == 1
    assert _cached(redis_client, redis_prefix) == {kept.id}
    assert redis_client.zrange(f"{redis_prefix}open:cat", 0, -1) == []
    assert redis_client.hgetall(f"{redis_prefix}polar") == {}


def test_a_search_repairs_the_entries_it_finds_resolved(
    index: RedisGeoIndex, sqlite_db: Database, owner: User, redis_client: redis.Redis, redis_prefix: str
) -> None:
    index.rebuild()
    reports = [_open(sqlite_db, owner, _NEAR) for _ in range(3)]
    for r in reports:
        index.put(IndexedReport(r.id, r.location, Species.DOG))
    _close(sqlite_db, owner, reports[1])  # its event is still in flight
    assert _ids(index.nearby_open_reports(_CENTRE, 5.0, None, 10)) == sorted([reports[0].id, reports[2].id])
    assert _cached(redis_client, redis_prefix) == {reports[0].id, reports[2].id}
    assert redis_client.zrange(f"{redis_prefix}open:dog", 0, -1) == sorted(
        str(r.id).encode() for r in (reports[0], reports[2])
    )


def test_put_moves_a_report_between_species_and_across_the_polar_limit(
    index: RedisGeoIndex, redis_client: redis.Redis, redis_prefix: str
) -> None:
    rid = UUID(int=42)
    index.put(IndexedReport(rid, _NEAR, Species.DOG))
    index.put(IndexedReport(rid, _NEAR, Species.CAT))
    assert redis_client.zrange(f"{redis_prefix}open:dog", 0, -1) == []
    assert redis_client.zrange(f"{redis_prefix}open:cat", 0, -1) == [str(rid).encode()]
    index.put(IndexedReport(rid, GeoPoint(86.0, 10.0), Species.CAT))  # beyond Redis GEO's 85.05°
    assert redis_client.zrange(f"{redis_prefix}open:all", 0, -1) == []
    assert redis_client.hget(f"{redis_prefix}polar", str(rid)) is not None
    index.remove(rid)
    index.remove(rid)
    assert redis_client.hgetall(f"{redis_prefix}polar") == {}


def test_the_outbox_events_keep_the_cache_in_step(
    index: RedisGeoIndex,
    sqlite_db: Database,
    owner: User,
    redis_client: redis.Redis,
    redis_prefix: str,
    tmp_path,
) -> None:
    handlers = EventHandlers(
        email=FileEmailSender(tmp_path / "mail"),
        sent_marks=MemoryCache(SystemClock()),
        accept_url_base="http://localhost",
        geo_index=index,
    )
    report = _open(sqlite_db, owner, _NEAR, Species.CAT)
    opened = LostReportOpened(
        report.id, report.pet_id, report.family_id, "cat", _NEAR.lat, _NEAR.lon, 5.0, owner.id
    )
    for _ in range(2):  # at-least-once delivery: a redelivery changes nothing
        handlers.handle(opened.topic, event_to_json(opened))
    assert _cached(redis_client, redis_prefix) == {report.id}
    assert redis_client.zrange(f"{redis_prefix}open:cat", 0, -1) == [str(report.id).encode()]
    resolved = LostReportResolved(report.id, report.pet_id, report.family_id, "found", owner.id)
    handlers.handle(resolved.topic, event_to_json(resolved))
    assert _cached(redis_client, redis_prefix) == set()
    assert redis_client.zrange(f"{redis_prefix}open:cat", 0, -1) == []
