"""SQL repositories of notifications, deliveries, preferences and email suppressions, with
their row mapping. They run on the unit of work's connection like the other repositories.

PostgreSQL: row-level security lets a user see only their own rows; `queue_due` and
`get_many` of preferences go through SECURITY DEFINER functions (see the migration
0004_notifications), the only cross-user paths.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, time
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Insert, Uuid, bindparam, column, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql.tables import deliveries, email_suppressions, notification_preferences, notifications
from tailtracker_core.errors import Conflict
from tailtracker_core.model.notifications import (
    DELIVERY_STATE_FIELDS,
    Delivery,
    DeliveryStatus,
    DueDelivery,
    Notification,
)
from tailtracker_core.model.reminders import Category, Channel, NotificationPreferences, QuietHours

__all__ = ["SqlDeliveries", "SqlEmailSuppressions", "SqlNotificationPreferences", "SqlNotifications"]

ConnectionSource = Callable[[], Connection]
Row = Mapping[Any, Any]


def _insert_ignoring_duplicates(conn: Connection, table: Any, row: dict[str, Any]) -> bool:
    stmt: Insert
    if conn.dialect.name == "postgresql":
        stmt = postgresql.insert(table).values(row).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(table).values(row).on_conflict_do_nothing()
    return conn.execute(stmt.execution_options(preserve_rowcount=True)).rowcount == 1


# --- mapping ----------------------------------------------------------------------------------


def delivery_row(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "key": d.key,
        "user_id": d.user_id,
        "category": d.category.value,
        "channel": d.channel.value,
        "template": d.template,
        "params": dict(d.params),
        "subject": d.subject,
        "status": d.status.value,
        "deliver_at": d.deliver_at,
        "created_at": d.created_at,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "sent_at": d.sent_at,
        "lease_until": d.lease_until,
        "version": d.version,
    }


def delivery_from(r: Row) -> Delivery:
    return Delivery(
        id=r["id"],
        key=r["key"],
        user_id=r["user_id"],
        category=Category(r["category"]),
        channel=Channel(r["channel"]),
        template=r["template"],
        params=dict(r["params"]),
        subject=r["subject"],
        status=DeliveryStatus(r["status"]),
        deliver_at=r["deliver_at"],
        created_at=r["created_at"],
        attempts=r["attempts"],
        last_error=r["last_error"],
        sent_at=r["sent_at"],
        lease_until=r["lease_until"],
        version=r["version"],
    )


def notification_row(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "user_id": n.user_id,
        "delivery_id": n.delivery_id,
        "category": n.category.value,
        "title": n.title,
        "body": n.body,
        "data": dict(n.data),
        "created_at": n.created_at,
        "read_at": n.read_at,
    }


def notification_from(r: Row) -> Notification:
    return Notification(
        id=r["id"],
        user_id=r["user_id"],
        delivery_id=r["delivery_id"],
        category=Category(r["category"]),
        title=r["title"],
        body=r["body"],
        data=dict(r["data"]),
        created_at=r["created_at"],
        read_at=r["read_at"],
    )


def preferences_row(user_id: UUID, p: NotificationPreferences, now: datetime) -> dict[str, Any]:
    choices: dict[str, dict[str, bool]] = {}
    for (category, channel), on in sorted(p.choices.items()):
        choices.setdefault(category.value, {})[channel.value] = on
    quiet = p.quiet_hours
    return {
        "user_id": user_id,
        "choices": choices,
        "quiet_start": quiet.start.isoformat() if quiet else None,
        "quiet_end": quiet.end.isoformat() if quiet else None,
        "updated_at": now,
    }


def preferences_from(r: Row) -> NotificationPreferences:
    choices = {
        (Category(cat), Channel(ch)): bool(on)
        for cat, per_channel in dict(r["choices"]).items()
        for ch, on in per_channel.items()
    }
    quiet = None
    if r["quiet_start"] is not None and r["quiet_end"] is not None:
        quiet = QuietHours(time.fromisoformat(r["quiet_start"]), time.fromisoformat(r["quiet_end"]))
    return NotificationPreferences(choices=choices, quiet_hours=quiet)


# --- repositories -------------------------------------------------------------------------------

# PostgreSQL: one statement moves due rows for every user (the owner's SECURITY DEFINER
# function; SKIP LOCKED keeps two schedulers apart).
_QUEUE_DUE_PG = text("SELECT id, user_id FROM tt_queue_due_deliveries(:now, :lim)").columns(
    column("id", Uuid), column("user_id", Uuid)
)
# PostgreSQL: a batch in one statement; RETURNING would be filtered by the SELECT policy
# (other users' rows), so a SECURITY DEFINER function inserts and says which ids went in.
_INSERT_MANY_PG = text("SELECT id FROM tt_insert_deliveries(CAST(:rows AS jsonb)) AS id").columns(
    column("id", Uuid)
)
_CHUNK = 500
# PostgreSQL, the batch delivery worker's cross-user steps (migration 0014): lock a chunk,
# write state columns with the version check, insert in-app notifications.
_LOCK_MANY_PG = text("SELECT * FROM tt_lock_deliveries(:ids)").bindparams(
    bindparam("ids", type_=postgresql.ARRAY(Uuid))
)
_SAVE_MANY_PG = text("SELECT id FROM tt_save_deliveries(CAST(:rows AS jsonb)) AS id").columns(
    column("id", Uuid)
)
_NOTIFY_MANY_PG = text("SELECT id FROM tt_insert_notifications(CAST(:rows AS jsonb)) AS id").columns(
    column("id", Uuid)
)


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(v, UUID) else v
        for k, v in row.items()
    }


_PREFS_PG = text("SELECT * FROM tt_notification_preferences(:ids)").bindparams(
    bindparam("ids", type_=postgresql.ARRAY(Uuid))
)


class SqlDeliveries:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, delivery: Delivery) -> bool:
        return _insert_ignoring_duplicates(self._conn(), deliveries, delivery_row(delivery))

    def add_many(self, batch: Sequence[Delivery]) -> set[UUID]:
        conn = self._conn()
        added: set[UUID] = set()
        for start in range(0, len(batch), _CHUNK):
            rows = [delivery_row(d) for d in batch[start : start + _CHUNK]]
            if conn.dialect.name == "postgresql":
                result = conn.execute(_INSERT_MANY_PG, {"rows": json.dumps([_json_row(r) for r in rows])})
            else:
                stmt = (
                    sqlite.insert(deliveries).values(rows).on_conflict_do_nothing().returning(deliveries.c.id)
                )
                result = conn.execute(stmt)
            added.update(result.scalars())
        return added

    def get(self, delivery_id: UUID) -> Delivery | None:
        row = (
            self._conn().execute(select(deliveries).where(deliveries.c.id == delivery_id)).mappings().first()
        )
        return delivery_from(row) if row else None

    def get_by_key(self, key: str) -> Delivery | None:
        row = self._conn().execute(select(deliveries).where(deliveries.c.key == key)).mappings().first()
        return delivery_from(row) if row else None

    def save(self, delivery: Delivery) -> None:
        conn = self._conn()
        stmt = update(deliveries).where(
            deliveries.c.id == delivery.id, deliveries.c.version == delivery.version - 1
        )
        if conn.execute(stmt.values(delivery_row(delivery))).rowcount == 0:
            if (
                conn.execute(select(deliveries.c.id).where(deliveries.c.id == delivery.id)).first()
                is not None
            ):
                raise Conflict("this delivery was changed by another worker at the same time")
            self.add(delivery)

    def queue_due(self, now: datetime, limit: int) -> list[DueDelivery]:
        if limit <= 0:
            return []
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            rows = conn.execute(_QUEUE_DUE_PG, {"now": now, "lim": limit}).all()
        else:  # SQLite: the unit of work's BEGIN IMMEDIATE serialises schedulers
            t = deliveries
            rows = conn.execute(
                select(t.c.id, t.c.user_id)
                .where(t.c.status == DeliveryStatus.SCHEDULED.value, t.c.deliver_at <= now)
                .order_by(t.c.deliver_at, t.c.id)
                .limit(limit)
            ).all()
            if rows:
                conn.execute(
                    update(t)
                    .where(t.c.id.in_([r.id for r in rows]))
                    .values(status=DeliveryStatus.QUEUED.value, version=t.c.version + 1)
                )
        return [DueDelivery(r.id, r.user_id) for r in rows]

    def lock_many(self, delivery_ids: Sequence[UUID]) -> list[Delivery]:
        wanted = list(dict.fromkeys(delivery_ids))
        if not wanted:
            return []
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            rows = conn.execute(_LOCK_MANY_PG, {"ids": wanted}).mappings().all()
            # A function returning the table's row type hands back raw values: map them as
            # the table would (JSONB params arrive decoded; timestamps are aware already).
            return [delivery_from(r) for r in rows]
        # SQLite: every unit of work is a BEGIN IMMEDIATE transaction, so reading is locking.
        stmt = select(deliveries).where(deliveries.c.id.in_(wanted)).order_by(deliveries.c.id)
        return [delivery_from(r) for r in conn.execute(stmt).mappings()]

    def save_many(self, batch: Sequence[Delivery]) -> set[UUID]:
        if not batch:
            return set()
        conn = self._conn()
        saved: set[UUID] = set()
        if conn.dialect.name == "postgresql":
            for start in range(0, len(batch), _CHUNK):
                rows = [_json_row({"id": d.id, **_state_row(d)}) for d in batch[start : start + _CHUNK]]
                saved.update(conn.execute(_SAVE_MANY_PG, {"rows": json.dumps(rows)}).scalars())
            return saved
        t = deliveries
        for d in batch:
            stmt = update(t).where(t.c.id == d.id, t.c.version == d.version - 1)
            if conn.execute(stmt.values(_state_row(d))).rowcount == 1:
                saved.add(d.id)
        return saved


def _state_row(d: Delivery) -> dict[str, Any]:
    """The columns a bulk save writes: the state an attempt changes."""
    row = delivery_row(d)
    return {k: row[k] for k in DELIVERY_STATE_FIELDS}


class SqlNotifications:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, notification: Notification) -> bool:
        return _insert_ignoring_duplicates(self._conn(), notifications, notification_row(notification))

    def add_many(self, batch: Sequence[Notification]) -> set[UUID]:
        if not batch:
            return set()
        conn = self._conn()
        added: set[UUID] = set()
        for start in range(0, len(batch), _CHUNK):
            part = batch[start : start + _CHUNK]
            if conn.dialect.name == "postgresql":
                rows = json.dumps([_json_row(notification_row(n)) for n in part])
                added.update(conn.execute(_NOTIFY_MANY_PG, {"rows": rows}).scalars())
                continue
            d = deliveries
            owners = {
                r.id: (r.user_id, r.channel)
                for r in conn.execute(
                    select(d.c.id, d.c.user_id, d.c.channel).where(d.c.id.in_([n.delivery_id for n in part]))
                )
            }
            ok = [
                notification_row(n)
                for n in part
                if owners.get(n.delivery_id) == (n.user_id, Channel.IN_APP.value)
            ]
            if ok:
                stmt = (
                    sqlite.insert(notifications)
                    .values(ok)
                    .on_conflict_do_nothing()
                    .returning(notifications.c.delivery_id)
                )
                added.update(conn.execute(stmt).scalars())
        return added

    def get(self, notification_id: UUID) -> Notification | None:
        stmt = select(notifications).where(notifications.c.id == notification_id)
        row = self._conn().execute(stmt).mappings().first()
        return notification_from(row) if row else None

    def save(self, notification: Notification) -> None:
        stmt = update(notifications).where(notifications.c.id == notification.id)
        self._conn().execute(stmt.values(read_at=notification.read_at))

    def list_for_user(
        self, user_id: UUID, unread_only: bool, before: UUID | None, limit: int
    ) -> list[Notification]:
        if limit <= 0:
            return []
        t = notifications
        stmt = select(t).where(t.c.user_id == user_id).order_by(t.c.id.desc()).limit(limit)
        if unread_only:
            stmt = stmt.where(t.c.read_at.is_(None))
        if before is not None:
            stmt = stmt.where(t.c.id < before)
        return [notification_from(r) for r in self._conn().execute(stmt).mappings()]

    def mark_all_read(self, user_id: UUID, now: datetime) -> int:
        t = notifications
        stmt = update(t).where(t.c.user_id == user_id, t.c.read_at.is_(None)).values(read_at=now)
        return int(self._conn().execute(stmt).rowcount)


class SqlNotificationPreferences:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def get(self, user_id: UUID) -> NotificationPreferences | None:
        t = notification_preferences
        row = self._conn().execute(select(t).where(t.c.user_id == user_id)).mappings().first()
        return preferences_from(row) if row else None

    def put(self, user_id: UUID, preferences: NotificationPreferences, now: datetime) -> None:
        conn = self._conn()
        row = preferences_row(user_id, preferences, now)
        t = notification_preferences
        changes = {k: v for k, v in row.items() if k != "user_id"}
        updated = conn.execute(update(t).where(t.c.user_id == user_id).values(changes)).rowcount
        if updated == 0 and not _insert_ignoring_duplicates(conn, t, row):  # a concurrent first put
            conn.execute(update(t).where(t.c.user_id == user_id).values(changes))

    def get_many(self, user_ids: Sequence[UUID]) -> dict[UUID, NotificationPreferences]:
        if not user_ids:
            return {}
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            rows = conn.execute(_PREFS_PG, {"ids": list(dict.fromkeys(user_ids))}).mappings()
        else:
            t = notification_preferences
            rows = conn.execute(select(t).where(t.c.user_id.in_(list(user_ids)))).mappings()
        return {r["user_id"]: preferences_from(r) for r in rows}


class SqlEmailSuppressions:
    """Not row-level secured: keyed by address, written and read by the delivery worker."""

    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, email: str, reason: str, now: datetime) -> None:
        row = {"email_key": email.strip().lower(), "reason": reason[:1000], "created_at": now}
        _insert_ignoring_duplicates(self._conn(), email_suppressions, row)

    def is_suppressed(self, email: str) -> bool:
        t = email_suppressions
        stmt = select(t.c.email_key).where(t.c.email_key == email.strip().lower())
        return self._conn().execute(stmt).first() is not None

    def suppressed_among(self, emails: Sequence[str]) -> set[str]:
        keys = list({e.strip().lower() for e in emails})
        if not keys:
            return set()
        t = email_suppressions
        return set(self._conn().execute(select(t.c.email_key).where(t.c.email_key.in_(keys))).scalars())

    def remove(self, email: str) -> None:
        t = email_suppressions
        self._conn().execute(delete(t).where(t.c.email_key == email.strip().lower()))
