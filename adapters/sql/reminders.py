"""The reminder scheduler's access across families (docs/reminders.md).

On PostgreSQL the app role has no acting user here, so row-level security would show nothing;
it calls four narrow SECURITY DEFINER functions of migration `reminders` instead:
`tt_claim_due_care_schedules` / `tt_claim_due_vaccinations` (due rows, `FOR UPDATE SKIP
LOCKED`: locked until the scheduler's transaction ends, rows held by another scheduler are
skipped), `tt_reminder_audiences` (a pet's name and its family's members) and
`tt_reminder_completions`. On SQLite plain queries (writers are serialised by the unit of
work's transaction, so a claim is exclusive there too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Table, Uuid, bindparam, select, text, update
from sqlalchemy.dialects import postgresql

from adapters.sql.care import completion_from, schedule_from, vaccination_from
from adapters.sql.tables import UtcDateTime, care_completions, care_schedules, memberships, pets, vaccinations
from tailtracker_core.model.care import CareCompletion
from tailtracker_core.model.roles import Role
from tailtracker_core.ports import DueDose, DueSchedule, PetAudience

__all__ = ["SqlReminders"]

ConnectionSource = Callable[[], Connection]
_IDS = postgresql.ARRAY(Uuid)


def _claim_pg(table: Table, function: str) -> Any:
    return (
        text(f"SELECT * FROM {function}(:before, :lim)")  # noqa: S608 (constants)
        .bindparams(bindparam("before", type_=UtcDateTime()))
        .columns(*table.columns)
    )


_CLAIM_SCHEDULES = _claim_pg(care_schedules, "tt_claim_due_care_schedules")
_CLAIM_DOSES = _claim_pg(vaccinations, "tt_claim_due_vaccinations")
_AUDIENCES = (
    text("SELECT pet_id, pet_name, family_id, user_id, role FROM tt_reminder_audiences(:ids)")
    .bindparams(bindparam("ids", type_=_IDS))
    .columns(
        pets.c.id.label("pet_id"),
        pets.c.name.label("pet_name"),
        pets.c.family_id,
        memberships.c.user_id,
        memberships.c.role,
    )
)
_COMPLETIONS = (
    text("SELECT * FROM tt_reminder_completions(:ids, :start, :end)")
    .bindparams(
        bindparam("ids", type_=_IDS),
        bindparam("start", type_=UtcDateTime()),
        bindparam("end", type_=UtcDateTime()),
    )
    .columns(*(c for c in care_completions.columns if c.name != "family_id"))
)


def _advance_pg(function: str) -> Any:
    return text(f"SELECT {function}(:ids, :ats)").bindparams(
        bindparam("ids", type_=_IDS), bindparam("ats", type_=postgresql.ARRAY(UtcDateTime()))
    )


_ADVANCE_SCHEDULES = _advance_pg("tt_advance_care_schedules")
_ADVANCE_DOSES = _advance_pg("tt_advance_vaccinations")


def _claim_sqlite(conn: Connection, table: Table, before: datetime, limit: int) -> Any:
    query = (
        select(table)
        .where(table.c.next_fire_at.is_not(None), table.c.next_fire_at < before)
        .order_by(table.c.next_fire_at, table.c.id)
        .limit(limit)
    )
    return conn.execute(query).mappings().all()


class SqlReminders:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def _claim(self, table: Table, stmt: Any, before: datetime, limit: int) -> Any:
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            return conn.execute(stmt, {"before": before, "lim": limit}).mappings().all()
        return _claim_sqlite(conn, table, before, limit)

    def claim_care_schedules(self, before: datetime, limit: int) -> list[DueSchedule]:
        if limit <= 0:
            return []
        rows = self._claim(care_schedules, _CLAIM_SCHEDULES, before, limit)
        return [DueSchedule(schedule_from(r), r["family_id"], r["next_fire_at"]) for r in rows]

    def claim_vaccinations(self, before: datetime, limit: int) -> list[DueDose]:
        if limit <= 0:
            return []
        rows = self._claim(vaccinations, _CLAIM_DOSES, before, limit)
        return [DueDose(vaccination_from(r), r["family_id"], r["next_fire_at"]) for r in rows]

    def _advance(self, table: Table, stmt: Any, cursors: Mapping[UUID, datetime | None]) -> None:
        if not cursors:
            return
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            conn.execute(stmt, {"ids": list(cursors), "ats": list(cursors.values())})
        else:
            update_one = (
                update(table).where(table.c.id == bindparam("row_id")).values(next_fire_at=bindparam("at"))
            )
            conn.execute(update_one, [{"row_id": i, "at": at} for i, at in cursors.items()])

    def advance_care_schedules(self, cursors: Mapping[UUID, datetime | None]) -> None:
        self._advance(care_schedules, _ADVANCE_SCHEDULES, cursors)

    def advance_vaccinations(self, cursors: Mapping[UUID, datetime | None]) -> None:
        self._advance(vaccinations, _ADVANCE_DOSES, cursors)

    def audiences(self, pet_ids: Sequence[UUID]) -> dict[UUID, PetAudience]:
        if not pet_ids:
            return {}
        conn = self._conn()
        wanted = list(dict.fromkeys(pet_ids))
        if conn.dialect.name == "postgresql":
            rows = conn.execute(_AUDIENCES, {"ids": wanted}).mappings().all()
        else:
            query = (
                select(
                    pets.c.id.label("pet_id"),
                    pets.c.name.label("pet_name"),
                    pets.c.family_id,
                    memberships.c.user_id,
                    memberships.c.role,
                )
                .join(memberships, memberships.c.family_id == pets.c.family_id)
                .where(pets.c.id.in_(wanted))
            )
            rows = conn.execute(query).mappings().all()
        members: dict[UUID, dict[UUID, Role]] = {}
        first: dict[UUID, Any] = {}
        for r in rows:
            first.setdefault(r["pet_id"], r)
            members.setdefault(r["pet_id"], {})[r["user_id"]] = Role(r["role"])
        return {
            pet_id: PetAudience(pet_id, r["pet_name"], r["family_id"], members[pet_id])
            for pet_id, r in first.items()
        }

    def completions(
        self, schedule_ids: Sequence[UUID], start: datetime, end: datetime
    ) -> list[CareCompletion]:
        if not schedule_ids:
            return []
        conn = self._conn()
        wanted = list(dict.fromkeys(schedule_ids))
        if conn.dialect.name == "postgresql":
            rows = conn.execute(_COMPLETIONS, {"ids": wanted, "start": start, "end": end}).mappings().all()
        else:
            c = care_completions
            query = select(c).where(c.c.schedule_id.in_(wanted), c.c.occurs_at >= start, c.c.occurs_at < end)
            rows = conn.execute(query).mappings().all()
        found = [completion_from(r) for r in rows]
        return sorted(found, key=lambda x: (x.occurs_at or x.completed_at, x.occurrence_key))
