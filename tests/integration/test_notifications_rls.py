"""Row-level security of the notification tables on PostgreSQL, and the two cross-user paths.

Raw SQL as the app role with no user filter: what comes back is what the policies allow.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from uuid import UUID

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from adapters.sql import Database
from adapters.system import Uuid7Generator
from tailtracker_core.model.accounts import User
from tailtracker_core.model.notifications import DeliveryRequest, Notification, delivery_key
from tailtracker_core.model.reminders import Category, Channel, NotificationPreferences, QuietHours
from tailtracker_core.usecases.notifications import enqueue
from tests.fixtures.sql import PostgresDatabase

pytestmark = pytest.mark.postgres

ids = Uuid7Generator()
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
USER_TABLES = ("deliveries", "notifications", "notification_preferences")


@pytest.fixture(scope="module")
def people(postgres_database: PostgresDatabase, postgres_db: Database) -> tuple[User, User]:
    postgres_database.truncate()
    alice, bob = (User(ids.new_id(), f"{n}@example.org", n, "hash", T0) for n in ("alice", "bob"))
    for u in (alice, bob):
        with postgres_db.uow_factory(u.id) as uow:
            uow.users.add(u)
            uow.notification_preferences.put(
                u.id, NotificationPreferences(quiet_hours=QuietHours(*_quiet())), T0
            )
            enqueue(
                uow, ids, T0, [_request(u, "occ:now", T0), _request(u, "occ:later", T0 + timedelta(hours=1))]
            )
            uow.notifications.add(
                Notification(ids.new_id(), u.id, ids.new_id(), Category.FAMILY, "t", "b", {}, T0)
            )
            uow.commit()
    return alice, bob


def _quiet() -> tuple[time, time]:
    return time(22), time(7)


def _request(user: User, subject: str, at: datetime) -> DeliveryRequest:
    return DeliveryRequest(
        delivery_key(subject, user.id, Channel.IN_APP),
        user.id,
        Category.CARE_REMINDER,
        Channel.IN_APP,
        "care_reminder.task",
        {},
        subject,
        at,
    )


@pytest.fixture(scope="module")
def app_engine(postgres_database: PostgresDatabase) -> Iterator[Engine]:
    engine = create_engine(postgres_database.app_url.replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


@pytest.fixture
def as_user(app_engine: Engine) -> Iterator[object]:
    opened: list[Connection] = []

    def open_as(user_id: UUID | None) -> Connection:
        conn = app_engine.connect()
        opened.append(conn)
        conn.begin()
        conn.execute(text("SELECT set_config('tailtracker.user_id', :u, true)"), {"u": str(user_id or "")})
        return conn

    yield open_as
    for conn in opened:
        conn.rollback()
        conn.close()


@pytest.mark.parametrize("table", USER_TABLES)
def test_each_user_sees_only_their_own_rows(as_user, people: tuple[User, User], table: str) -> None:
    alice, bob = people
    for me in (alice, bob):
        owners = set(as_user(me.id).execute(text(f"SELECT user_id FROM {table}")).scalars())
        assert owners == {me.id}
    assert as_user(None).execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0


@pytest.mark.parametrize("table", USER_TABLES)
def test_nobody_changes_or_deletes_another_users_rows(as_user, people: tuple[User, User], table: str) -> None:
    alice, bob = people
    conn = as_user(alice.id)
    assert conn.execute(text(f"DELETE FROM {table} WHERE user_id = :b"), {"b": bob.id}).rowcount == 0
    column = {"deliveries": "attempts = 99", "notifications": "read_at = now()"}.get(
        table, "updated_at = now()"
    )
    assert conn.execute(text(f"UPDATE {table} SET {column} WHERE user_id = :b"), {"b": bob.id}).rowcount == 0


def test_nobody_stores_notifications_or_preferences_for_someone_else(
    as_user, people: tuple[User, User]
) -> None:
    alice, bob = people
    conn = as_user(alice.id)
    with pytest.raises(ProgrammingError, match="row-level security"):
        conn.execute(
            text(
                "INSERT INTO notifications (id, user_id, delivery_id, category, title, body, data,"
                " created_at) VALUES (:i, :u, :d, 'family', 't', 'b', '{}', now())"
            ),
            {"i": ids.new_id(), "u": bob.id, "d": ids.new_id()},
        )
    conn = as_user(alice.id)
    with pytest.raises(ProgrammingError, match="row-level security"):
        conn.execute(
            text(
                "INSERT INTO notification_preferences (user_id, choices, updated_at) VALUES (:u, '{}', now())"
            ),
            {"u": bob.id},
        )


def test_moving_a_delivery_to_another_user_is_refused(as_user, people: tuple[User, User]) -> None:
    alice, bob = people
    conn = as_user(alice.id)
    with pytest.raises(ProgrammingError, match="row-level security"):
        conn.execute(
            text("UPDATE deliveries SET user_id = :b WHERE user_id = :a"), {"a": alice.id, "b": bob.id}
        )


def test_the_cross_user_functions_answer_for_nobody(as_user, people: tuple[User, User]) -> None:
    alice, bob = people
    conn = as_user(None)
    prefs = conn.execute(
        text("SELECT user_id FROM tt_notification_preferences(:ids)"), {"ids": [alice.id, bob.id]}
    )
    assert set(prefs.scalars()) == {alice.id, bob.id}
    # Only scheduled rows whose time has come move, for every user; the function is the path.
    moved = conn.execute(
        text("SELECT user_id FROM tt_queue_due_deliveries(:now, 100)"), {"now": T0 + timedelta(hours=2)}
    )
    assert sorted(moved.scalars()) == sorted([alice.id, bob.id])


def test_a_fan_out_inserts_for_others_in_bulk_but_cannot_read_them_back(
    as_user, people: tuple[User, User]
) -> None:
    alice, bob = people
    conn = as_user(alice.id)
    row = {
        "id": str(ids.new_id()),
        "key": f"bulk|{bob.id}|in_app",
        "user_id": str(bob.id),
        "category": "sighting",
        "channel": "in_app",
        "template": "sighting",
        "params": {},
        "subject": "bulk",
        "status": "queued",
        "deliver_at": T0.isoformat(),
        "created_at": T0.isoformat(),
        "attempts": 0,
        "version": 1,
    }
    inserted = conn.execute(
        text("SELECT * FROM tt_insert_deliveries(CAST(:r AS jsonb))"), {"r": json.dumps([row, row])}
    )
    assert [str(i) for i in inserted.scalars()] == [row["id"]]
    assert (
        conn.execute(text("SELECT count(*) FROM deliveries WHERE key = :k"), {"k": row["key"]}).scalar_one()
        == 0
    )
    with pytest.raises(ProgrammingError, match="row-level security"):
        conn.execute(
            text(
                "INSERT INTO deliveries (id, key, user_id, category, channel, template, params, subject,"
                " status, deliver_at, created_at, attempts, version) VALUES (:i, 'x', :u, 'sighting',"
                " 'in_app', 't', '{}', 's', 'queued', now(), now(), 0, 1) RETURNING id"
            ),
            {"i": ids.new_id(), "u": bob.id},
        )


def test_two_schedulers_take_disjoint_batches(
    postgres_database: PostgresDatabase, postgres_db: Database, people: tuple[User, User]
) -> None:
    alice, _ = people
    with postgres_db.uow_factory(alice.id) as uow:
        enqueue(
            uow, ids, T0, [_request(alice, f"occ:batch:{i}", T0 + timedelta(minutes=1)) for i in range(40)]
        )
        uow.commit()
    barrier = threading.Barrier(2)
    got: list[list[UUID]] = []
    lock = threading.Lock()

    def scheduler() -> None:
        with postgres_db.uow_factory(None) as uow:
            barrier.wait()
            batch = uow.deliveries.queue_due(T0 + timedelta(minutes=5), 25)
            barrier.wait()  # both hold their row locks here
            uow.commit()
        with lock:
            got.append([d.id for d in batch])

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first, second = got
    assert not set(first) & set(second)
    assert len(first) + len(second) == 40


def test_the_batch_delivery_functions_change_state_only_and_lock_the_chunk(
    as_user, people: tuple[User, User]
) -> None:
    alice, bob = people
    nobody = as_user(None)
    rows = nobody.execute(text("SELECT id, user_id, version FROM deliveries")).all()
    assert rows == []  # nobody sees deliveries directly...
    bobs = as_user(bob.id).execute(text("SELECT id, version, params FROM deliveries ORDER BY id")).all()
    locked = nobody.execute(
        text("SELECT id, user_id FROM tt_lock_deliveries(:ids)"), {"ids": [r.id for r in bobs]}
    )
    assert [(r.id, r.user_id) for r in locked] == [(r.id, bob.id) for r in bobs]  # ...the function does
    first = bobs[0]
    change = {
        "id": str(first.id),
        "status": "sent",
        "attempts": 1,
        "version": first.version + 1,
        "user_id": str(alice.id),  # not a state column: ignored
        "params": {"pet_name": "x"},  # ditto
    }
    saved = nobody.execute(
        text("SELECT * FROM tt_save_deliveries(CAST(:r AS jsonb))"), {"r": json.dumps([change])}
    )
    assert list(saved.scalars()) == [first.id]
    stale = nobody.execute(
        text("SELECT * FROM tt_save_deliveries(CAST(:r AS jsonb))"), {"r": json.dumps([change])}
    )
    assert list(stale.scalars()) == []  # the version moved on
    row = nobody.execute(
        text("SELECT user_id, status, params FROM tt_lock_deliveries(:ids)"), {"ids": [first.id]}
    ).one()
    assert (row.user_id, row.status, row.params) == (bob.id, "sent", first.params)
    # Another transaction asking for the same rows waits for this one (here: gives up waiting).
    other = as_user(None)
    other.execute(text("SET LOCAL lock_timeout = '200ms'"))
    with pytest.raises(OperationalError, match="lock"):
        other.execute(text("SELECT id FROM tt_lock_deliveries(:ids)"), {"ids": [first.id]}).all()
