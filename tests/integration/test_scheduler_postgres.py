"""The reminder scheduler on PostgreSQL as the app role: claims take row locks and skip rows
another scheduler holds (FOR UPDATE SKIP LOCKED), two concurrent passes split the work and
enqueue every reminder once, and only the app role may call the scheduler's functions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from adapters.sql import Database
from tailtracker_core.model.accounts import User
from tailtracker_core.model.care import CareKind, CareSchedule
from tailtracker_core.model.cursors import care_next_fire_at
from tailtracker_core.model.families import Family
from tailtracker_core.model.pets import Pet, Sex, Species
from tailtracker_core.testing.ids import TestIds
from tailtracker_core.testing.reminder_contract import StepClock
from tailtracker_core.usecases.reminders import PassResult, SchedulerSettings, run_pass
from tests.fixtures.sql import PostgresDatabase

pytestmark = pytest.mark.postgres

ids = TestIds()
T0 = datetime(2026, 12, 1, 7, 59, 30, tzinfo=UTC)
N = 120


def _owner_sql(db: PostgresDatabase, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(
        db.owner_url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool
    )
    try:
        with engine.begin() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


@pytest.fixture
def schedules(postgres_database: PostgresDatabase, postgres_db: Database) -> list[UUID]:
    """N medication schedules due at 08:00Z, in N families of one owner each."""
    postgres_database.truncate()
    out = []
    for i in range(N):
        user = User(ids.new_id(), f"s{i}-{ids.new_id().hex[:8]}@example.org", f"S{i}", "h", T0, "en", "UTC")
        family = Family.found(ids.new_id(), f"F{i}", user.id, T0)
        pet = Pet(ids.new_id(), family.id, f"P{i}", Species.CAT, Sex.FEMALE, T0, T0)
        s = CareSchedule.create(
            ids.new_id(),
            pet.id,
            CareKind.MEDICATION,
            "Pill",
            "FREQ=DAILY",
            datetime(2026, 11, 1, 8, 0),
            "UTC",
        )
        with postgres_db.uow_factory(user.id) as uow:
            uow.users.add(user)
            uow.families.add(family)
            uow.pets.add(pet)
            uow.care_schedules.add(s, family.id, care_next_fire_at(s, T0))
            uow.commit()
        out.append(s.id)
    return out


def test_a_claim_skips_rows_another_scheduler_holds(postgres_db: Database, schedules: list[UUID]) -> None:
    horizon = T0 + timedelta(minutes=1)
    with postgres_db.uow_factory(None) as first:
        a = first.reminders.claim_care_schedules(horizon, 50)
        with postgres_db.uow_factory(None) as second:
            # Not blocked (a 2 s lock timeout would fail this): the held rows are skipped.
            second.reminders._conn().execute(text("SET LOCAL lock_timeout = '2s'"))  # type: ignore[attr-defined]
            b = second.reminders.claim_care_schedules(horizon, 500)
        first.rollback()
    assert len(a) == 50 and len(b) == N - 50
    assert not {d.schedule.id for d in a} & {d.schedule.id for d in b}
    # Rolled back: nothing was advanced, everything is due again.
    with postgres_db.uow_factory(None) as again:
        assert len(again.reminders.claim_care_schedules(horizon, 500)) == N


def test_two_concurrent_passes_split_the_work_and_enqueue_each_reminder_once(
    postgres_database: PostgresDatabase, postgres_db: Database, schedules: list[UUID]
) -> None:
    settings = SchedulerSettings(batch=10)
    barrier = threading.Barrier(2)
    results: list[PassResult] = []
    lock = threading.Lock()

    def scheduler() -> None:
        barrier.wait()
        r = run_pass(postgres_db.uow_factory, ids, StepClock(T0), settings)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.care_rows for r in results) == N  # every row claimed by exactly one of them
    assert sum(r.enqueued for r in results) == N  # one in-app reminder per owner
    rows = _owner_sql(postgres_database, "SELECT count(*), count(DISTINCT key) FROM deliveries")
    assert rows == [(N, N)]
    cursors = _owner_sql(postgres_database, "SELECT DISTINCT next_fire_at FROM care_schedules")
    assert cursors == [(datetime(2026, 12, 2, 8, 0, tzinfo=UTC),)]
    # A third pass, later, finds nothing to claim and queues the deliveries now due.
    later = run_pass(postgres_db.uow_factory, ids, StepClock(T0 + timedelta(minutes=1)), settings)
    assert (later.care_rows, later.enqueued, later.dispatched) == (0, 0, N)


def test_only_the_app_role_may_call_the_scheduler_functions(postgres_database: PostgresDatabase) -> None:
    rows = _owner_sql(
        postgres_database,
        "SELECT p.proname, p.prosecdef, has_function_privilege('public', p.oid, 'EXECUTE') "
        "FROM pg_proc p WHERE p.proname IN ('tt_claim_due_care_schedules', 'tt_claim_due_vaccinations', "
        "'tt_advance_care_schedules', 'tt_advance_vaccinations', "
        "'tt_reminder_audiences', 'tt_reminder_completions') ORDER BY 1",
    )
    assert [(name, definer, public) for name, definer, public in rows] == [
        ("tt_advance_care_schedules", True, False),
        ("tt_advance_vaccinations", True, False),
        ("tt_claim_due_care_schedules", True, False),
        ("tt_claim_due_vaccinations", True, False),
        ("tt_reminder_audiences", True, False),
        ("tt_reminder_completions", True, False),
    ]
