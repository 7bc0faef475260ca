"""Calendar feeds: secret, revocable iCalendar subscription URLs, and what goes into one.

A feed belongs to one signed-in user and one pet or family. Its token is shown once; only a
SHA-256 of it is stored. The feed reads as its creator: when the creator leaves the family,
the feed shows nothing (404), so a removed member's links die with their membership.

`describe_feed` is the pure description of a feed's content (which events, with which stable
ids and dates); turning it into RFC 5545 text is an adapter's job.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from attrs import define, frozen

from tailtracker_core.errors import NotFound
from tailtracker_core.model.care import CareCompletion, CareSchedule
from tailtracker_core.model.pets import Pet
from tailtracker_core.model.vaccines import (
    DEFAULT_SETTINGS,
    Vaccination,
    VaccinationStatus,
    Vaccine,
    VaccineSettings,
    canonical_code,
    suggested_doses,
    vaccination_status,
)

__all__ = [
    "COMPLETIONS_SHOWN",
    "CalendarFeed",
    "CompletedOccurrence",
    "DueDate",
    "FeedContent",
    "FeedScope",
    "PetCare",
    "ScheduledCare",
    "describe_feed",
]

# Completed occurrences are marked in the feed when they started within this long before now;
# older ones stay in the feed (the rule still generates them) but unmarked.
COMPLETIONS_SHOWN = timedelta(days=90)


class FeedScope(enum.StrEnum):
    PET = "pet"
    FAMILY = "family"


@define
class CalendarFeed:
    """One user's secret feed of a pet or a family. At most one live feed per user and target."""

    id: UUID
    scope: FeedScope
    family_id: UUID
    pet_id: UUID | None  # set for a pet feed, None for a family feed
    token_hash: str
    created_by: UUID
    created_at: datetime
    revoked_at: datetime | None = None

    @classmethod
    def issue(
        cls,
        feed_id: UUID,
        family_id: UUID,
        pet_id: UUID | None,
        token_hash: str,
        created_by: UUID,
        now: datetime,
    ) -> CalendarFeed:
        scope = FeedScope.PET if pet_id is not None else FeedScope.FAMILY
        return cls(feed_id, scope, family_id, pet_id, token_hash, created_by, now)

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def target_id(self) -> UUID:
        """The pet's id for a pet feed, the family's for a family feed."""
        return self.pet_id if self.pet_id is not None else self.family_id

    def revoke(self, now: datetime) -> None:
        if self.revoked_at is not None:
            raise NotFound("calendar feed not found")
        self.revoked_at = now


@frozen
class PetCare:
    """What the feed needs to know about one pet."""

    pet: Pet
    schedules: Sequence[CareSchedule] = ()
    doses: Sequence[Vaccination] = ()
    completions: Sequence[CareCompletion] = ()


@frozen
class CompletedOccurrence:
    """An occurrence to mark as done: the rule's local wall time (RECURRENCE-ID) and when."""

    local_start: datetime  # naive, in the schedule's timezone, as the rule generated it
    completed_at: datetime


@frozen
class ScheduledCare:
    """One recurring event: a care schedule with its rule, as the pet's name shows it."""

    uid: str
    pet_id: UUID
    pet_name: str
    schedule: CareSchedule
    completed: tuple[CompletedOccurrence, ...] = ()

    @property
    def summary(self) -> str:
        return f"{self.pet_name}: {self.schedule.title}"


@frozen
class DueDate:
    """An all-day event: a vaccination falling due (recorded by a vet, or suggested)."""

    uid: str
    pet_id: UUID
    pet_name: str
    vaccine: Vaccine
    due_on: date
    suggested: bool  # True: a dose of the core schedule not given yet; False: a recorded next_due_on
    slot: str | None = None  # the core schedule's slot, for suggestions

    @property
    def summary(self) -> str:
        what = "vaccination suggested" if self.suggested else "vaccination due"
        return f"{self.pet_name}: {self.vaccine.display_name} {what}"


@frozen
class FeedContent:
    """Everything one feed shows, in a stable order (the rendering is byte-stable for an ETag)."""

    name: str
    care: tuple[ScheduledCare, ...]
    due: tuple[DueDate, ...]
    last_modified: datetime  # aware UTC, to the second


def _completed(
    schedule: CareSchedule, completions: Iterable[CareCompletion], now: datetime
) -> tuple[CompletedOccurrence, ...]:
    """The earliest completion of each occurrence started within COMPLETIONS_SHOWN before now."""
    first: dict[str, CareCompletion] = {}
    for c in sorted(completions, key=lambda c: c.completed_at):
        if c.schedule_id == schedule.id:
            first.setdefault(c.occurrence_key, c)
    if not first:
        return ()
    start = now - COMPLETIONS_SHOWN
    end = now + timedelta(days=2)  # completions may be made up to a day before the occurrence
    shown = [
        CompletedOccurrence(o.local_start, first[o.key].completed_at)
        for o in schedule.occurrences_between(start, end)
        if o.key in first
    ]
    return tuple(shown)


def _due_dates(care: PetCare, today: date, settings: VaccineSettings) -> list[DueDate]:
    pet = care.pet
    out: list[DueDate] = []
    recorded: set[tuple[str, date]] = set()
    for dose in sorted(care.doses, key=lambda d: (d.administered_on, str(d.id))):
        if dose.next_due_on is None:
            continue
        if vaccination_status(dose, care.doses, today, settings) is VaccinationStatus.SUPERSEDED:
            continue
        recorded.add((dose.code, dose.next_due_on))
        uid = f"vaccination-{dose.id}@tailtracker"
        out.append(DueDate(uid, pet.id, pet.name, dose.vaccine, dose.next_due_on, suggested=False))
    for s in suggested_doses(pet.species, pet.birth_date, care.doses, today, settings):
        if (canonical_code(s.vaccine.code), s.due_on) in recorded:
            continue  # the vet's date is the same dose, shown once
        uid = f"suggested-{pet.id}-{s.vaccine.code}-{s.index}@tailtracker"
        out.append(DueDate(uid, pet.id, pet.name, s.vaccine, s.due_on, suggested=True, slot=s.slot))
    return out


def describe_feed(
    name: str,
    pets: Sequence[PetCare],
    now: datetime,
    changed_at: Iterable[datetime] = (),
    settings: VaccineSettings = DEFAULT_SETTINGS,
) -> FeedContent:
    """The events of a feed over these pets, at `now` (aware).

    - one recurring event per care schedule (its UID is the schedule's id, stable across edits),
      with the occurrences completed in the last COMPLETIONS_SHOWN marked;
    - one all-day event per recorded dose's `next_due_on`, unless a later dose of the same
      vaccine supersedes it, and one per pending dose of the suggested core schedule (the same
      vaccine on the same date is shown once, as the recorded one).

    `last_modified` is the latest of `changed_at`, the pets' `updated_at` and the completions'
    `completed_at`, to the second.
    """
    today = now.astimezone(UTC).date()
    care: list[ScheduledCare] = []
    due: list[DueDate] = []
    stamps = [p.pet.updated_at for p in pets] + list(changed_at)
    stamps += [c.completed_at for p in pets for c in p.completions]
    for entry in sorted(pets, key=lambda p: (p.pet.name.casefold(), p.pet.id)):
        pet = entry.pet
        for schedule in sorted(entry.schedules, key=lambda s: s.id):
            done = _completed(schedule, entry.completions, now)
            uid = f"care-{schedule.id}@tailtracker"
            care.append(ScheduledCare(uid, pet.id, pet.name, schedule, done))
        due += _due_dates(entry, today, settings)
    due.sort(key=lambda d: (d.due_on, d.pet_name.casefold(), d.uid))
    last = max(stamps, default=datetime(2000, 1, 1, tzinfo=UTC)).astimezone(UTC).replace(microsecond=0)
    return FeedContent(name, tuple(care), tuple(due), last)
