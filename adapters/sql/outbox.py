"""The outbox relay's side of the outbox table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, Engine, Integer, bindparam, delete, select, text, update

from adapters.sql.tables import UtcDateTime, outbox
from tailtracker_core.ports import OutboxMessage

__all__ = ["SqlOutbox"]

_PURGE_SENT_PG = text(
    "DELETE FROM outbox WHERE ctid = ANY(ARRAY("
    "SELECT ctid FROM outbox WHERE sent_at IS NOT NULL AND sent_at < :before ORDER BY sent_at LIMIT :limit))"
).bindparams(bindparam("before", type_=UtcDateTime()), bindparam("limit", type_=Integer()))


class SqlOutbox:
    """OutboxStore: a claim is an open transaction holding row locks until mark_sent/release.

    PostgreSQL locks the claimed rows FOR UPDATE SKIP LOCKED, so relays running side by side
    take disjoint batches. SQLite claims inside a BEGIN IMMEDIATE transaction, which
    serialises relays. Not thread-safe: one instance per relay.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    def claim(self, limit: int) -> list[OutboxMessage]:
        self.release()
        conn = self._connection = self._engine.connect()
        stmt = (
            select(outbox.c.id, outbox.c.topic, outbox.c.payload, outbox.c.created_at)
            .where(outbox.c.sent_at.is_(None))
            .order_by(outbox.c.created_at, outbox.c.id)
            .limit(limit)
        )
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        try:
            conn.begin()
            rows = conn.execute(stmt).all()
        except BaseException:
            self.release()
            raise
        return [OutboxMessage(r.id, r.topic, r.payload, r.created_at) for r in rows]

    def mark_sent(self, ids: Sequence[UUID], now: datetime) -> None:
        conn = self._connection
        try:
            if conn is None:
                # Not claimed first: mark in a transaction of its own.
                with self._engine.begin() as own:
                    self._mark(own, ids, now)
                return
            self._mark(conn, ids, now)
            conn.commit()
        finally:
            self._close()

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.rollback()
            finally:
                self._close()

    def purge_sent(self, before: datetime, limit: int) -> int:
        """One bounded DELETE, the victims picked from the old end of `ix_outbox_sent` (0016).

        PostgreSQL deletes by `ctid = ANY(ARRAY(...))`: a TID scan of exactly the rows picked.
        `id IN (subquery)` was planned as a hash semi-join over a sequential scan of the whole
        table (27 ms a batch at 200,000 rows, against 0.9 ms). A sent row is never updated
        again, so its ctid cannot move under the statement.
        """
        with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                return conn.execute(_PURGE_SENT_PG, {"before": before, "limit": limit}).rowcount
            victims = (
                select(outbox.c.id)
                .where(outbox.c.sent_at.is_not(None), outbox.c.sent_at < before)
                .order_by(outbox.c.sent_at)
                .limit(limit)
            )
            return conn.execute(delete(outbox).where(outbox.c.id.in_(victims))).rowcount

    @staticmethod
    def _mark(conn: Connection, ids: Sequence[UUID], now: datetime) -> None:
        if ids:
            conn.execute(update(outbox).where(outbox.c.id.in_(list(ids))).values(sent_at=now))

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
