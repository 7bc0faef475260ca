"""Row-level security on the care tables, as the app role: raw SQL with no family filter sees
only the acting user's families; writes into another family are refused by the database; the
scheduler's functions are the only cross-family path, and they are not granted to PUBLIC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from adapters.sql import Database
from adapters.system import Uuid7Generator
from tailtracker_core.model.accounts import User
from tailtracker_core.model.care import CareKind, CareSchedule
from tailtracker_core.model.families import Family
from tailtracker_core.model.medical import MedicalRecord, MedicalRecordKind
from tailtracker_core.model.pets import Pet, Sex, Species
from tailtracker_core.model.vaccines import Vaccination, Vaccine
from tests.fixtures.sql import PostgresDatabase

pytestmark = pytest.mark.postgres

CARE_TABLES = ("vaccinations", "medical_records", "care_schedules", "care_completions")
ids = Uuid7Generator()
T0 = datetime(2026, 11, 25, 8, tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="module")
def world(postgres_db: Database) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in ("alice", "bob"):
        user = User(ids.new_id(), f"{name}-care@example.org", name.title(), "hash", _now())
        family = Family.found(ids.new_id(), name, user.id, _now())
        pet = Pet(ids.new_id(), family.id, "Rex", Species.DOG, Sex.MALE, _now(), _now())
        dose = Vaccination(
            ids.new_id(), pet.id, Vaccine("rabies", "Rabies"), date(2026, 1, 1), date(2027, 1, 1)
        )
        record = MedicalRecord.create(
            ids.new_id(), pet.id, MedicalRecordKind.VISIT, date(2026, 1, 1), "Visit", user.id, _now()
        )
        schedule = CareSchedule.create(
            ids.new_id(), pet.id, CareKind.MEDICATION, "Pill", "FREQ=DAILY", datetime(2026, 11, 1, 8), "UTC"
        )
        occ = schedule.occurrences_between(T0, T0 + timedelta(days=1))[0]
        with postgres_db.uow_factory(user.id) as uow:
            uow.users.add(user)
            uow.families.add(family)
            uow.pets.add(pet)
            uow.vaccinations.add(dose, family.id, T0)
            uow.medical_records.add(record, family.id)
            uow.care_schedules.add(schedule, family.id, T0)
            uow.care_schedules.add_completion(schedule.complete(occ.key, user.id, occ.starts_at))
            uow.commit()
        out[name] = user
        out[f"{name}_family"] = family
        out[f"{name}_pet"] = pet
        out[f"{name}_schedule"] = schedule
    return out


@pytest.fixture
def app_conn(postgres_database: PostgresDatabase) -> Iterator[Connection]:
    engine = create_engine(
        postgres_database.app_url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool
    )
    with engine.connect() as conn:
        yield conn
    engine.dispose()


def _as(conn: Connection, user: object | None) -> None:
    uid = str(user.id) if user is not None else ""  # type: ignore[attr-defined]
    conn.execute(text("SELECT set_config('tailtracker.user_id', :uid, true)"), {"uid": uid})


@pytest.mark.parametrize("table", CARE_TABLES)
def test_each_member_sees_only_their_familys_care_rows(
    world: dict[str, object], app_conn: Connection, table: str
) -> None:
    for who in ("alice", "bob"):
        with app_conn.begin():
            _as(app_conn, world[who])
            families = {r[0] for r in app_conn.execute(text(f"SELECT family_id FROM {table}"))}
            assert families == {world[f"{who}_family"].id}  # type: ignore[attr-defined]
    with app_conn.begin():
        _as(app_conn, None)
        assert app_conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0


def test_writing_into_another_family_is_refused_by_the_database(
    world: dict[str, object], app_conn: Connection
) -> None:
    bob_pet, bob_family = world["bob_pet"], world["bob_family"]
    insert = text(
        "INSERT INTO vaccinations (id, pet_id, family_id, vaccine_code, vaccine_name, "
        "administered_on, version) VALUES (:id, :pet, :family, 'rabies', 'Rabies', '2026-01-01', 1)"
    )
    values = {"id": ids.new_id(), "pet": bob_pet.id, "family": bob_family.id}  # type: ignore[attr-defined]
    with app_conn.begin():
        _as(app_conn, world["alice"])
        with pytest.raises(DBAPIError, match="row-level security"):
            app_conn.execute(insert, values)
    with app_conn.begin():
        _as(app_conn, world["alice"])
        changed = app_conn.execute(
            text("UPDATE care_schedules SET title = 'mine' WHERE family_id = :f"),
            {"f": bob_family.id},  # type: ignore[attr-defined]
        )
        assert changed.rowcount == 0


def test_only_the_scheduler_functions_cross_families(world: dict[str, object], app_conn: Connection) -> None:
    with app_conn.begin():
        _as(app_conn, None)  # the scheduler: no acting user
        due = app_conn.execute(text("SELECT family_id FROM tt_due_care_schedules(:t, 100)"), {"t": T0}).all()
        assert {r[0] for r in due} == {world["alice_family"].id, world["bob_family"].id}  # type: ignore[attr-defined]
    privileges = app_conn.execute(
        text(
            "SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') "
            "FROM pg_proc p WHERE p.proname LIKE 'tt_due_%' OR p.proname LIKE 'tt_advance_%'"
        )
    ).all()
    # care's four, and the reminder scheduler's two batch advances (migration reminders)
    assert len(privileges) == 6
    assert not any(granted for _, granted in privileges)
