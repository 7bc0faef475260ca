"""Reminder cursors: the instant at which the reminder scheduler must next look at a row.

Stored as `next_fire_at` (UTC, indexed) on care schedules and vaccinations, so that one
scheduler pass reads only the rows that are due (`WHERE next_fire_at <= :now`), never the
whole table. The definitions are exact, so a scheduler that advances a row to the cursor
computed after its window neither skips nor repeats a reminder (docs/care.md, "Cursors"):

- **Care schedule** of a reminded kind (`ReminderSettings.reminded_kinds`): the start of its
  first occurrence at or after `after`; None for kinds that are not reminded and for a rule
  that has ended.
- **Vaccination**: reminders fall `vaccination_days_before` days before `next_due_on` at
  `vaccination_time` in each *recipient's* timezone, which the row does not know. So the cursor
  is the first instant at or after `after` at which such a reminder could be due in some
  timezone. UTC offsets in use lie in [-12:00, +14:00] and are whole quarter hours
  (a unit test checks every zone of the tz database), so the candidate instants of one reminder
  day are `day + time - offset` on a 15-minute grid from `day + time - 14h` to `day + time + 12h`.
  None when the dose has no `next_due_on`, is superseded, or every candidate is before `after`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from tailtracker_core.errors import ValidationFailed
from tailtracker_core.model.care import CareSchedule
from tailtracker_core.model.reminders import DEFAULT_SETTINGS, ReminderSettings
from tailtracker_core.model.vaccines import Vaccination, VaccinationStatus, vaccination_status

__all__ = [
    "EARLIEST_OFFSET",
    "LATEST_OFFSET",
    "OFFSET_STEP",
    "care_next_fire_at",
    "resume_from",
    "vaccination_candidates",
    "vaccination_cursors",
    "vaccination_next_fire_at",
]

EARLIEST_OFFSET = timedelta(hours=14)  # UTC+14 (Pacific/Kiritimati): the first to reach a wall time
LATEST_OFFSET = timedelta(hours=12)  # UTC-12: the last
OFFSET_STEP = timedelta(minutes=15)  # every offset in use is a whole number of quarter hours


def _aware(after: datetime) -> datetime:
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValidationFailed.single("after", "a date-time with a UTC offset")
    return after.astimezone(UTC)


def resume_from(stored: datetime | None, now: datetime) -> datetime:
    """Where an edited row's cursor is recomputed from. A stored cursor in the past marks a
    window the scheduler has not planned yet (it would have moved the cursor past it): the
    new cursor starts there, so an edit between the reminder instant and the next pass does
    not skip the reminder. Otherwise (a future cursor, or none): the edit's `now`."""
    now = _aware(now)
    return min(_aware(stored), now) if stored is not None else now


def care_next_fire_at(
    schedule: CareSchedule, after: datetime, settings: ReminderSettings = DEFAULT_SETTINGS
) -> datetime | None:
    """The start of the schedule's first occurrence at or after `after`, for reminded kinds."""
    after = _aware(after)
    if schedule.kind not in settings.reminded_kinds:
        return None
    nxt = schedule.next_occurrence(after)
    return nxt.starts_at if nxt is not None else None


def vaccination_candidates(due_on: date, settings: ReminderSettings = DEFAULT_SETTINGS) -> list[datetime]:
    """Every instant at which one of the reminders of a dose due on `due_on` may be due, in some
    timezone, sorted (the reference definition; `vaccination_next_fire_at` is its fast form)."""
    out: set[datetime] = set()
    for days in settings.vaccination_days_before:
        wall = datetime.combine(due_on - timedelta(days=days), settings.vaccination_time, UTC)
        at = wall - EARLIEST_OFFSET
        while at <= wall + LATEST_OFFSET:
            out.add(at)
            at += OFFSET_STEP
    return sorted(out)


def vaccination_next_fire_at(
    dose: Vaccination,
    superseded: bool,
    after: datetime,
    settings: ReminderSettings = DEFAULT_SETTINGS,
) -> datetime | None:
    """The first instant at or after `after` at which a reminder of this dose may be due in some
    timezone; None without a next due date, when superseded, or when every one has passed."""
    after = _aware(after)
    if dose.next_due_on is None or superseded:
        return None
    best: datetime | None = None
    for days in settings.vaccination_days_before:
        wall = datetime.combine(dose.next_due_on - timedelta(days=days), settings.vaccination_time, UTC)
        first, last = wall - EARLIEST_OFFSET, wall + LATEST_OFFSET
        if after > last:
            continue
        if after <= first:
            at = first
        else:  # inside the band: the next quarter hour of the grid at or after `after`
            steps = -(-(after - first) // OFFSET_STEP)
            at = first + steps * OFFSET_STEP
        best = at if best is None else min(best, at)
    return best


def vaccination_cursors(
    doses: Iterable[Vaccination],
    after: datetime,
    settings: ReminderSettings = DEFAULT_SETTINGS,
) -> dict[UUID, datetime | None]:
    """The cursor of every dose of one pet, superseding taken into account (a later dose of the
    same vaccine clears the earlier one's cursor; deleting it brings the cursor back)."""
    all_doses = list(doses)
    today = _aware(after).date()
    return {
        d.id: vaccination_next_fire_at(
            d, vaccination_status(d, all_doses, today) is VaccinationStatus.SUPERSEDED, after, settings
        )
        for d in all_doses
    }
