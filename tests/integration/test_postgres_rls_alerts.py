"""Row-level security of the alert ledger on PostgreSQL, as the app role: nobody writes it
but through `tt_claim_lost_pet_alert`, a user reads only their own rows, and
`tt_family_member_ids` answers member ids only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError

from adapters.sql import Database
from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.testing.lost_found_contract import (
    arrange_family,
    arrange_lost_report,
    arrange_pet,
    arrange_user,
)
from tests.fixtures.sql import PostgresDatabase

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_conn(postgres_database: PostgresDatabase) -> Iterator[Connection]:
    engine = create_engine(postgres_database.app_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            yield conn
            conn.rollback()
    finally:
        engine.dispose()


def _as(conn: Connection, user: object) -> Connection:
    conn.rollback()
    conn.execute(text("SELECT set_config('tailtracker.user_id', :u, true)"), {"u": str(user) if user else ""})
    return conn


def test_the_ledger_is_written_by_the_claim_function_only_and_read_by_its_user(
    postgres_database: PostgresDatabase, postgres_db: Database, app_conn: Connection
) -> None:
    postgres_database.truncate()
    uow = postgres_db.uow_factory
    owner, alice, bob = arrange_user(uow), arrange_user(uow), arrange_user(uow)
    family = arrange_family(uow, owner)
    report = arrange_lost_report(uow, owner, arrange_pet(uow, owner, family), GeoPoint(51.5, -0.1))
    day = date(2026, 11, 21)

    conn = _as(app_conn, None)
    claim = text("SELECT tt_claim_lost_pet_alert(:u, :r, :d, 10, now())")
    assert conn.execute(claim, {"u": alice.id, "r": report.id, "d": day}).scalar_one() is True
    assert conn.execute(claim, {"u": alice.id, "r": report.id, "d": day}).scalar_one() is False
    assert conn.execute(claim, {"u": bob.id, "r": report.id, "d": day}).scalar_one() is True
    conn.commit()

    assert _as(app_conn, alice.id).execute(
        text("SELECT user_id FROM lost_pet_alert_ledger")
    ).scalars().all() == [alice.id]
    assert _as(app_conn, None).execute(text("SELECT count(*) FROM lost_pet_alert_ledger")).scalar_one() == 0
    conn = _as(app_conn, bob.id)
    assert conn.execute(text("DELETE FROM lost_pet_alert_ledger")).rowcount == 0
    with pytest.raises(DBAPIError, match="row-level security"):
        conn.execute(
            text(
                "INSERT INTO lost_pet_alert_ledger (user_id, report_id, day, created_at)"
                " VALUES (:u, :r, :d, now())"
            ),
            {"u": bob.id, "r": report.id, "d": date(2026, 11, 22)},
        )


def test_family_member_ids_for_anyone_but_nothing_else(
    postgres_database: PostgresDatabase, postgres_db: Database, app_conn: Connection
) -> None:
    postgres_database.truncate()
    uow = postgres_db.uow_factory
    owner, stranger = arrange_user(uow), arrange_user(uow)
    family = arrange_family(uow, owner)
    conn = _as(app_conn, stranger.id)
    assert conn.execute(text("SELECT count(*) FROM memberships")).scalar_one() == 0  # RLS still holds
    ids = conn.execute(text("SELECT tt_family_member_ids(:f)"), {"f": family.id}).scalars().all()
    assert ids == [owner.id]
