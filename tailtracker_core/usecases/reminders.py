"""The reminder scheduler: due care and vaccination reminders, derived from the database and
handed to notifications exactly once (docs/reminders.md).

`run_pass` is one scheduler pass. Per batch, in ONE transaction with no acting user: claim the
rows whose reminder cursor (`next_fire_at`, docs/care.md) falls before `now + lookahead`
(PostgreSQL: `FOR UPDATE SKIP LOCKED`, so a second scheduler takes other rows), plan the
reminders of the window `[cursor, now + lookahead)` with the pure planner
(`model.reminders`), enqueue one delivery per reminder key (`usecases.notifications.enqueue`:
the key is UNIQUE, a re-run inserts nothing), advance each cursor to the first instant at or
after `now + lookahead`, commit. Then `dispatch_due` queues the deliveries whose time has come.

Nothing lives only in memory: the cursors and the delivery rows are the whole state. A
scheduler that dies mid-batch rolls back (cursors unmoved, nothing enqueued) and the next pass
plans the same window again; a doubled scheduler claims disjoint rows; a window planned twice
anyway (an edit racing a pass) enqueues nothing new, because the keys exist.

`still_wanted` is the hook the delivery worker asks right before sending a care reminder: a
completed occurrence, a deleted or changed schedule, a changed or superseded dose, or a
recipient who left the family cancels the delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from attrs import frozen

from tailtracker_core.model.care import CareKind, CareSchedule
from tailtracker_core.model.cursors import care_next_fire_at, vaccination_next_fire_at
from tailtracker_core.model.notifications import Delivery, DeliveryRequest, request_from_reminder
from tailtracker_core.model.reminders import (
    DEFAULT_SETTINGS,
    Recipient,
    Reminder,
    ReminderSettings,
    care_reminders,
    vaccination_reminders,
)
from tailtracker_core.model.roles import Action, allowed
from tailtracker_core.model.vaccines import Vaccination, VaccinationStatus, vaccination_status
from tailtracker_core.ports import Clock, IdGenerator, PetAudience, UnitOfWork, UnitOfWorkFactory
from tailtracker_core.usecases.notifications import dispatch_due, enqueue, recipients

__all__ = [
    "PassResult",
    "SchedulerSettings",
    "care_template",
    "run_pass",
    "still_wanted",
]

_log = logging.getLogger("tailtracker.scheduler")

_TEMPLATES = {CareKind.MEDICATION: "care_reminder.medication", CareKind.FEEDING: "care_reminder.feeding"}
VACCINATION_TEMPLATE = "care_reminder.vaccination_due"


@frozen
class SchedulerSettings:
    """How a pass runs (TAILTRACKER_SCHEDULER_* settings, docs/configuration.md)."""

    lookahead: timedelta = timedelta(seconds=60)  # plan what is due before now + lookahead
    batch: int = 500  # rows per transaction
    # Occurrences older than this when first seen (the scheduler was down) are not reminded:
    # a feeding reminder two days late helps nobody. A restart within it loses nothing.
    max_lateness: timedelta = timedelta(hours=24)
    reminders: ReminderSettings = DEFAULT_SETTINGS


@frozen
class PassResult:
    care_rows: int = 0  # cursors claimed and advanced
    vaccination_rows: int = 0
    enqueued: int = 0  # new delivery rows (a re-planned key adds none)
    dispatched: int = 0  # scheduled deliveries queued by dispatch_due

    def __add__(self, other: PassResult) -> PassResult:
        return PassResult(
            self.care_rows + other.care_rows,
            self.vaccination_rows + other.vaccination_rows,
            self.enqueued + other.enqueued,
            self.dispatched + other.dispatched,
        )


def care_template(kind: CareKind) -> str:
    return _TEMPLATES.get(kind, "care_reminder.task")


def _local(at: datetime, timezone: str) -> str:
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


def _audience(audience: PetAudience | None, people: Mapping[UUID, Recipient]) -> list[Recipient]:
    """The members who may read the pet (the role table decides), as recipients."""
    if audience is None:
        return []
    ids = sorted(u for u, role in audience.members.items() if allowed(role, Action.READ))
    return [people[i] for i in ids if i in people]


def _people(uow: UnitOfWork, audiences: Mapping[UUID, PetAudience]) -> dict[UUID, Recipient]:
    user_ids = sorted({u for a in audiences.values() for u in a.members})
    return {r.user_id: r for r in recipients(uow, user_ids)}


def _window_start(cursor: datetime, now: datetime, max_lateness: timedelta) -> datetime:
    return max(cursor, now - max_lateness)


def _care_batch(
    uow: UnitOfWork, ids: IdGenerator, now: datetime, horizon: datetime, s: SchedulerSettings
) -> PassResult:
    due = uow.reminders.claim_care_schedules(horizon, s.batch)
    if not due:
        return PassResult()
    audiences = uow.reminders.audiences(sorted({d.schedule.pet_id for d in due}))
    people = _people(uow, audiences)
    earliest = min(_window_start(d.next_fire_at, now, s.max_lateness) for d in due)
    done = uow.reminders.completions([d.schedule.id for d in due], earliest, horizon)
    tz = {r.user_id: r.timezone for r in people.values()}
    requests: list[DeliveryRequest] = []
    cursors: dict[UUID, datetime | None] = {}
    for d in due:
        start = _window_start(d.next_fire_at, now, s.max_lateness)
        audience = audiences.get(d.schedule.pet_id)
        if audience is not None and start < horizon:
            for reminder in care_reminders(
                [d.schedule], done, _audience(audience, people), start, horizon, s.reminders
            ):
                requests.append(_care_request(reminder, d.schedule, audience, tz))
        cursors[d.schedule.id] = care_next_fire_at(d.schedule, horizon, s.reminders)
    uow.reminders.advance_care_schedules(cursors)
    added = sum(enqueue(uow, ids, now, requests))
    uow.commit()
    return PassResult(care_rows=len(due), enqueued=added)


def _care_request(
    reminder: Reminder, schedule: CareSchedule, audience: PetAudience, tz: Mapping[UUID, str]
) -> DeliveryRequest:
    params = {
        "pet_name": audience.pet_name,
        "task_title": schedule.title,
        "due_local": _local(reminder.due_at, tz.get(reminder.recipient_id, schedule.timezone)),
    }
    return request_from_reminder(reminder, care_template(schedule.kind), params)


def _vaccination_batch(
    uow: UnitOfWork, ids: IdGenerator, now: datetime, horizon: datetime, s: SchedulerSettings
) -> PassResult:
    due = uow.reminders.claim_vaccinations(horizon, s.batch)
    if not due:
        return PassResult()
    audiences = uow.reminders.audiences(sorted({d.dose.pet_id for d in due}))
    people = _people(uow, audiences)
    requests: list[DeliveryRequest] = []
    cursors: dict[UUID, datetime | None] = {}
    for d in due:
        start = _window_start(d.next_fire_at, now, s.max_lateness)
        audience = audiences.get(d.dose.pet_id)
        if audience is not None and start < horizon:
            # A superseded dose has no cursor (care keeps it NULL in the same transaction as
            # the later dose), so the dose alone is enough to plan it.
            for reminder in vaccination_reminders(
                [d.dose], _audience(audience, people), start, horizon, s.reminders
            ):
                requests.append(_vaccination_request(reminder, d.dose, audience))
        # A dose is never superseded here (see above): its cursor walks its own candidates.
        cursors[d.dose.id] = vaccination_next_fire_at(d.dose, False, horizon, s.reminders)
    uow.reminders.advance_vaccinations(cursors)
    added = sum(enqueue(uow, ids, now, requests))
    uow.commit()
    return PassResult(vaccination_rows=len(due), enqueued=added)


def _vaccination_request(reminder: Reminder, dose: Vaccination, audience: PetAudience) -> DeliveryRequest:
    due_on: date = dose.next_due_on  # type: ignore[assignment]  # planned doses have one
    days = reminder.subject.rsplit(":", 1)[-1].strip("-d")  # "vaccination:<id>:<due>:-7d"
    params = {
        "pet_name": audience.pet_name,
        "vaccine": dose.vaccine.display_name,
        "due_on": due_on.isoformat(),
        "days": days,
    }
    return request_from_reminder(reminder, VACCINATION_TEMPLATE, params)


def run_pass(
    uow: UnitOfWorkFactory, ids: IdGenerator, clock: Clock, settings: SchedulerSettings | None = None
) -> PassResult:
    """One scheduler pass: every due care schedule and vaccination, batch by batch (one
    transaction each), then the deliveries whose time has come. Safe to run anywhere, any
    number of times, concurrently."""
    s = settings or SchedulerSettings()
    now = clock.now()
    horizon = now + s.lookahead
    total = PassResult()
    for batch in (_care_batch, _vaccination_batch):
        while True:
            with uow(None) as work:
                result = batch(work, ids, now, horizon, s)
            total += result
            if result.care_rows + result.vaccination_rows < s.batch:
                break
    while True:
        with uow(None) as work:
            queued = dispatch_due(work, clock.now(), s.batch)
        total += PassResult(dispatched=queued)
        if queued < s.batch:
            break
    if total.care_rows or total.vaccination_rows or total.dispatched:
        _log.info(
            "scheduler pass: %d care schedules, %d vaccinations, %d deliveries enqueued, %d dispatched",
            total.care_rows,
            total.vaccination_rows,
            total.enqueued,
            total.dispatched,
        )
    return total


# --- the worker's "still wanted?" hook ---------------------------------------------------------


def _member(uow: UnitOfWork, pet_id: UUID, user_id: UUID) -> bool:
    pet = uow.pets.get(pet_id)
    if pet is None:
        return False
    role = uow.families.role_of(pet.family_id, user_id)
    return role is not None and allowed(role, Action.READ)


def _vaccination_wanted(uow: UnitOfWork, delivery: Delivery, subject: str) -> bool:
    parts = subject.split(":")
    if len(parts) != 4:
        return True  # not one of ours
    try:
        dose_id = UUID(parts[1])
    except ValueError:
        return True
    dose = uow.vaccinations.get(dose_id)
    if dose is None or dose.next_due_on is None or dose.next_due_on.isoformat() != parts[2]:
        return False  # deleted, or its due date changed (the new date has its own reminders)
    if not _member(uow, dose.pet_id, delivery.user_id):
        return False
    doses = uow.vaccinations.for_pet(dose.pet_id)
    return vaccination_status(dose, doses, dose.next_due_on) is not VaccinationStatus.SUPERSEDED


def still_wanted(uow: UnitOfWork, delivery: Delivery, settings: ReminderSettings = DEFAULT_SETTINGS) -> bool:
    """Asked by the worker right before a care reminder goes out, acting as its recipient.
    False (the delivery is cancelled) when the occurrence was completed, the schedule deleted
    or changed so that it no longer generates this occurrence (or no longer reminds), the dose
    deleted, re-dated or superseded, or the recipient is no longer in the pet's family."""
    subject = delivery.subject
    if subject.startswith("vaccination:"):
        return _vaccination_wanted(uow, delivery, subject)
    head, sep, _ = subject.partition("@")
    if not sep:
        return True  # not an occurrence key: not ours to judge
    try:
        schedule_id = UUID(head)
    except ValueError:
        return True
    schedule = uow.care_schedules.get(schedule_id)
    if schedule is None or schedule.kind not in settings.reminded_kinds:
        return False
    occurrence = schedule.occurrence(subject)
    if occurrence is None:
        return False
    if not _member(uow, schedule.pet_id, delivery.user_id):
        return False
    done = uow.care_schedules.completions(
        [schedule.id], occurrence.starts_at, occurrence.starts_at + timedelta(seconds=1)
    )
    return not any(c.occurrence_key == subject for c in done)
