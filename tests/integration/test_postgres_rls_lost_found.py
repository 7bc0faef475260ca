"""Row-level security of the lost-and-found tables on PostgreSQL, as the app role.

Raw SQL without a family filter shows what the policies let through; the repositories then
show that the documented cross-family paths (SECURITY DEFINER functions) answer only what
they promise.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from attrs import frozen
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError

from adapters.sql import Database
from tailtracker_core.model.accounts import User
from tailtracker_core.model.geo import GeoPoint, rounded
from tailtracker_core.model.lost_found import FoundReport, LostReport, Sighting
from tailtracker_core.model.matching import Match
from tailtracker_core.model.pets import Pet, Species
from tailtracker_core.model.roles import Role
from tailtracker_core.testing.ids import TestIds
from tailtracker_core.testing.lost_found_contract import (
    arrange_family,
    arrange_lost_report,
    arrange_pet,
    arrange_user,
)
from tests.fixtures.sql import PostgresDatabase

pytestmark = pytest.mark.postgres

_ids = TestIds()
_T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_SPOT = GeoPoint(51.5073519, -0.1277589)


@frozen
class World:
    owner: User  # Alice's family: the pet and its lost report
    member: User
    finder: User  # filed a found report matched with the lost report, and a sighting
    stranger: User  # nothing to do with any of it
    pet: Pet
    report: LostReport
    found: FoundReport
    other_found: FoundReport  # filed by the stranger, unmatched
    sighting: Sighting


@pytest.fixture(scope="module")
def world(postgres_database: PostgresDatabase, postgres_db: Database) -> World:
    postgres_database.truncate()
    uow = postgres_db.uow_factory
    owner, member, finder, stranger = (arrange_user(uow) for _ in range(4))
    family = arrange_family(uow, owner)
    with uow(owner.id) as u:
        fam = u.families.get(family.id)
        assert fam is not None
        u.families.add_member(fam.join(member.id, Role.MEMBER, _T0))
        u.commit()
    pet = arrange_pet(uow, owner, family, name="Biscuit", breed="Beagle", colors=["tan"])
    report = arrange_lost_report(uow, owner, pet, _SPOT, description="call 07700 900123", reward="£100")
    found = FoundReport(_ids.new_id(), finder.id, Species.DOG, ("tan",), _T0, _SPOT, _T0)
    other_found = FoundReport(_ids.new_id(), stranger.id, Species.CAT, (), _T0, _SPOT, _T0)
    sighting = Sighting.record(_ids.new_id(), report, finder.id, _T0, _SPOT, "by the canal", _T0)
    with uow(finder.id) as u:
        u.found_reports.add(found)
        u.sightings.add(sighting)
        u.matches.upsert(Match(report.id, found.id, 0.7, False, 0.0, 0.1, None, True))
        u.commit()
    with uow(stranger.id) as u:
        u.found_reports.add(other_found)
        u.commit()
    return World(owner, member, finder, stranger, pet, report, found, other_found, sighting)


@pytest.fixture
def app_conn(postgres_database: PostgresDatabase) -> Iterator[Connection]:
    engine = create_engine(postgres_database.app_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            yield conn
            conn.rollback()
    finally:
        engine.dispose()


def _as(conn: Connection, user: UUID | None) -> Connection:
    conn.rollback()
    conn.execute(text("SELECT set_config('tailtracker.user_id', :u, true)"), {"u": str(user) if user else ""})
    return conn


def _ids_of(conn: Connection, sql: str) -> set[UUID]:
    return {r[0] for r in conn.execute(text(sql))}


def test_lost_reports_are_the_familys_only(world: World, app_conn: Connection) -> None:
    for user in (world.owner, world.member):
        assert _ids_of(_as(app_conn, user.id), "SELECT id FROM lost_reports") == {world.report.id}
    for user in (world.finder.id, world.stranger.id, None):
        assert _ids_of(_as(app_conn, user), "SELECT id FROM lost_reports") == set()


def test_an_outsider_cannot_open_or_change_a_report_for_another_family(
    world: World, app_conn: Connection
) -> None:
    conn = _as(app_conn, world.stranger.id)
    updated = conn.execute(text("UPDATE lost_reports SET status = 'closed'")).rowcount
    assert updated == 0
    with pytest.raises(DBAPIError, match="row-level security"):
        conn.execute(
            text(
                "INSERT INTO lost_reports (id, pet_id, family_id, species, last_seen_at, lat, lon,"
                " public_lat, public_lon, radius_km, opened_at, status, version)"
                " VALUES (:id, :pet, :fam, 'dog', now(), 0, 0, 0, 0, 5, now(), 'open', 1)"
            ),
            {"id": _ids.new_id(), "pet": world.pet.id, "fam": world.pet.family_id},
        )


def test_sightings_are_for_the_family_and_their_reporter(world: World, app_conn: Connection) -> None:
    for user in (world.owner, world.member, world.finder):
        assert _ids_of(_as(app_conn, user.id), "SELECT id FROM sightings") == {world.sighting.id}
    assert _ids_of(_as(app_conn, world.stranger.id), "SELECT id FROM sightings") == set()


def test_a_sighting_cannot_be_aimed_at_another_family(world: World, app_conn: Connection) -> None:
    conn = _as(app_conn, world.stranger.id)
    with pytest.raises(DBAPIError, match="row-level security"):
        conn.execute(
            text(
                "INSERT INTO sightings (id, report_id, family_id, reporter_id, seen_at, lat, lon,"
                " recorded_at) VALUES (:id, :report, :family, :me, now(), 0, 0, now())"
            ),
            {
                "id": _ids.new_id(),
                "report": world.report.id,
                "family": _ids.new_id(),
                "me": world.stranger.id,
            },
        )


def test_found_reports_for_their_reporter_and_the_matched_family(world: World, app_conn: Connection) -> None:
    assert _ids_of(_as(app_conn, world.finder.id), "SELECT id FROM found_reports") == {world.found.id}
    assert _ids_of(_as(app_conn, world.owner.id), "SELECT id FROM found_reports") == {world.found.id}
    assert _ids_of(_as(app_conn, world.stranger.id), "SELECT id FROM found_reports") == {world.other_found.id}
    assert _ids_of(_as(app_conn, None), "SELECT id FROM found_reports") == set()


def test_matches_for_both_sides_only(world: World, app_conn: Connection) -> None:
    sql = "SELECT lost_report_id FROM matches"
    for user in (world.owner, world.member, world.finder):
        assert _ids_of(_as(app_conn, user.id), sql) == {world.report.id}
    assert _ids_of(_as(app_conn, world.stranger.id), sql) == set()


def test_the_public_path_returns_public_columns_only(world: World, app_conn: Connection) -> None:
    conn = _as(app_conn, None)
    row = (
        conn.execute(
            text("SELECT * FROM tt_public_lost_reports(CAST(:ids AS uuid[]))"),
            {"ids": [str(world.report.id)]},
        )
        .mappings()
        .one()
    )
    public = "id status pet_name species breed colors size public_lat public_lon last_seen_at"
    assert set(row.keys()) == set(public.split())
    cell = rounded(_SPOT, 100.0)
    assert (row["public_lat"], row["public_lon"]) == (cell.lat, cell.lon)
    assert (row["pet_name"], row["breed"]) == ("Biscuit", "Beagle")


def test_repositories_cross_families_only_through_the_documented_paths(
    world: World, postgres_db: Database
) -> None:
    with postgres_db.uow_factory(world.stranger.id) as uow:
        assert uow.lost_reports.get(world.report.id) is None
        assert uow.lost_reports.open_for_pet(world.pet.id) is None
        assert uow.sightings.list_for_report(world.report.id, None, 10) == []
        assert uow.matches.for_lost_report(world.report.id, 10) == []
        assert uow.found_reports.get(world.found.id) is None
        [view] = uow.lost_reports.public([world.report.id])
        assert view.location == rounded(_SPOT, 100.0)
        [lost_pet] = uow.lost_reports.open_lost_pets([world.report.id])
        assert lost_pet.report == world.report
        got = uow.found_reports.candidates(_SPOT, 5.0, Species.DOG, _T0 - timedelta(days=1), _T0, 10)
        assert [f.id for f in got] == [world.found.id]


def test_the_app_role_cannot_call_the_functions_it_was_not_granted(
    postgres_database: PostgresDatabase, app_conn: Connection
) -> None:
    owner = create_engine(postgres_database.owner_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with owner.connect() as conn:
            acl = conn.execute(
                text(
                    "SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') FROM pg_proc p "
                    "WHERE p.proname LIKE 'tt\\_%' AND p.proname IN ('tt_public_lost_reports', "
                    "'tt_open_lost_reports', 'tt_nearby_open_reports', 'tt_found_report_candidates', "
                    "'tt_open_report_ids_with_chip', 'tt_found_reports_with_chip')"
                )
            ).all()
            view = conn.execute(
                text(
                    "SELECT has_table_privilege('public', 'tt_public_open_reports', 'SELECT'), "
                    "has_table_privilege(:app, 'tt_public_open_reports', 'SELECT'), "
                    "has_table_privilege(:app, 'tt_public_open_reports', 'INSERT, UPDATE, DELETE')"
                ),
                {"app": app_conn.execute(text("SELECT current_user")).scalar_one()},
            ).one()
    finally:
        owner.dispose()
    assert len(acl) == 6
    assert not any(public for _, public in acl)  # PUBLIC has no EXECUTE: only the app role
    assert tuple(view) == (
        False,
        True,
        False,
    )  # the public search's view: the app role reads it, no one writes
