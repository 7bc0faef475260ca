"""The alert ledger on SQL (`AlertLedger`): one row per lost-pet alert (report, recipient)
with the recipient's local day.

PostgreSQL: the claim is the SECURITY DEFINER function `tt_claim_lost_pet_alert` (migration
0007): the fan-out writes for any recipient, and a per-user transaction-scoped advisory lock
makes check-and-insert atomic, so parallel batches never exceed the cap. SQLite: writers are
serialised (`BEGIN IMMEDIATE`), so the same check-and-insert inside the transaction is atomic.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Column, Date, ForeignKey, Index, Table, Uuid, func, select, text

from adapters.sql.lost_found import ConnectionSource, lost_reports
from adapters.sql.tables import UtcDateTime, metadata

__all__ = ["SqlAlertLedger", "lost_pet_alert_ledger"]

assert lost_reports.name == "lost_reports"  # the table the ledger refers to is registered first

lost_pet_alert_ledger = Table(
    "lost_pet_alert_ledger",
    metadata,
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("report_id", Uuid, ForeignKey("lost_reports.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, nullable=False),  # the recipient's local calendar day
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_lost_pet_alert_ledger_user_day", "user_id", "day"),
    Index("ix_lost_pet_alert_ledger_report", "report_id"),
)

_CLAIM_PG = text("SELECT tt_claim_lost_pet_alert(:u, :r, :d, :cap, :now)")
_CLAIM_MANY_PG = text(
    "SELECT tt_claim_lost_pet_alerts(CAST(:users AS uuid[]), CAST(:days AS date[]), :r, :cap, :now)"
)


class SqlAlertLedger:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def claim(self, user_id: UUID, report_id: UUID, day: date, cap: int, now: datetime) -> bool:
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            params = {"u": str(user_id), "r": str(report_id), "d": day, "cap": cap, "now": now}
            return bool(conn.execute(_CLAIM_PG, params).scalar_one())
        t = lost_pet_alert_ledger
        seen = conn.execute(select(t.c.user_id).where(t.c.user_id == user_id, t.c.report_id == report_id))
        if seen.first() is not None:
            return False
        if self.count(user_id, day) >= cap:
            return False
        conn.execute(t.insert().values(user_id=user_id, report_id=report_id, day=day, created_at=now))
        return True

    def claim_many(
        self, report_id: UUID, claims: Sequence[tuple[UUID, date]], cap: int, now: datetime
    ) -> set[UUID]:
        if not claims:
            return set()
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            # One round trip (migration 0011): the same rule per user, users in id order so
            # two batches locking overlapping users cannot deadlock.
            params = {
                "users": [str(u) for u, _ in claims],
                "days": [d for _, d in claims],
                "r": str(report_id),
                "cap": cap,
                "now": now,
            }
            return {UUID(str(u)) for u in conn.execute(_CLAIM_MANY_PG, params).scalars()}
        return {u for u, day in claims if self.claim(u, report_id, day, cap, now)}

    def count(self, user_id: UUID, day: date) -> int:
        t = lost_pet_alert_ledger
        stmt = select(func.count()).select_from(t).where(t.c.user_id == user_id, t.c.day == day)
        return int(self._conn().execute(stmt).scalar_one())
