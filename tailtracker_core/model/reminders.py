"""Reminder planning: which reminders fall due in a window, for whom, on which channel, and when."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from attrs import field, frozen

from tailtracker_core.model.care import CareCompletion, CareKind, CareSchedule, check_range, mark_completed
from tailtracker_core.model.families import Family
from tailtracker_core.model.roles import Action, allowed
from tailtracker_core.model.vaccines import Vaccination, VaccinationStatus, vaccination_status

__all__ = [
    "Category",
    "Channel",
    "NotificationPreferences",
    "QuietHours",
    "Recipient",
    "Reminder",
    "ReminderSettings",
    "care_reminders",
    "deliver_at",
    "recipients_of",
    "vaccination_reminders",
]


class Category(enum.StrEnum):
    CARE_REMINDER = "care_reminder"
    LOST_PET_ALERT = "lost_pet_alert"
    LOST_PET_MATCH = "lost_pet_match"
    SIGHTING = "sighting"
    FAMILY = "family"
    BILLING = "billing"
    SECURITY = "security"
    MARKETING = "marketing"


class Channel(enum.StrEnum):
    IN_APP = "in_app"
    PUSH = "push"
    EMAIL = "email"
    SMS = "sms"
    WEBSOCKET = "websocket"


# Defaults where the user has said nothing. in_app is always on. Email is opt-in for care reminders
# (feeding fires several times a day), SMS is opt-in everywhere, marketing is off until consented.
_OFF_BY_DEFAULT = {(Category.CARE_REMINDER, Channel.EMAIL)} | {(c, Channel.SMS) for c in Category}
_OFF_BY_DEFAULT |= {(Category.MARKETING, ch) for ch in Channel if ch is not Channel.IN_APP}


@frozen
class QuietHours:
    """A daily local-time window [start, end); it wraps midnight when start > end."""

    start: time
    end: time

    def contains(self, t: time) -> bool:
        if self.start <= self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


@frozen
class NotificationPreferences:
    """Per category and channel on/off (unset: the default), and quiet hours."""

    choices: Mapping[tuple[Category, Channel], bool] = field(factory=dict)
    quiet_hours: QuietHours | None = None

    def wants(self, category: Category, channel: Channel) -> bool:
        if channel is Channel.IN_APP:
            return True
        return self.choices.get((category, channel), (category, channel) not in _OFF_BY_DEFAULT)


@frozen
class Recipient:
    """A user who may be reminded, with what they chose and where they can be reached."""

    user_id: UUID
    timezone: str
    preferences: NotificationPreferences = field(factory=NotificationPreferences)
    reachable: frozenset[Channel] = frozenset({Channel.IN_APP})  # e.g. EMAIL once verified


@frozen
class ReminderSettings:
    channels: tuple[Channel, ...] = (Channel.IN_APP, Channel.EMAIL)
    reminded_kinds: frozenset[CareKind] = frozenset({CareKind.MEDICATION, CareKind.FEEDING})
    vaccination_days_before: tuple[int, ...] = (7, 1)
    vaccination_time: time = time(9, 0)  # in the recipient's timezone


DEFAULT_SETTINGS = ReminderSettings()


@frozen
class Reminder:
    """One reminder to one recipient on one channel; `key` makes it happen once, ever."""

    key: str
    category: Category
    channel: Channel
    recipient_id: UUID
    pet_id: UUID
    subject: str  # an occurrence key, or "vaccination:<dose id>"
    due_at: datetime  # when the rule says (UTC)
    deliver_at: datetime  # due_at, or the end of the recipient's quiet hours (UTC)


def recipients_of(family: Family, people: Mapping[UUID, Recipient]) -> list[Recipient]:
    """The members of the pet's family who may read it, as far as `people` knows them."""
    ids = sorted(m.user_id for m in family.members.values() if allowed(m.role, Action.READ))
    return [people[i] for i in ids if i in people]


def deliver_at(
    at: datetime, category: Category, recipient: Recipient, *, about_own_pet: bool = False
) -> datetime:
    """`at`, or the end of the recipient's quiet hours when it falls inside them; security, and
    lost-pet alerts and sightings about the recipient's own pets, are never deferred."""
    quiet = recipient.preferences.quiet_hours
    if quiet is None or category is Category.SECURITY:
        return at
    if about_own_pet and category in (Category.LOST_PET_ALERT, Category.SIGHTING):
        return at
    tz = ZoneInfo(recipient.timezone)
    local = at.astimezone(tz)
    if not quiet.contains(local.time().replace(tzinfo=None)):
        return at
    day = local.date()
    if quiet.start > quiet.end and local.time().replace(tzinfo=None) >= quiet.start:
        day += timedelta(days=1)
    for fold in (0, 1):  # the end may be a repeated wall time: take the first instant after `at`
        end = datetime.combine(day, quiet.end, tzinfo=tz).replace(fold=fold).astimezone(UTC)
        if end > at:
            return end
    return at


def _fan_out(
    settings: ReminderSettings,
    category: Category,
    pet_id: UUID,
    subject: str,
    due: Iterable[tuple[Recipient, datetime]],
) -> list[Reminder]:
    out = []
    for r, at in due:
        for ch in settings.channels:
            if ch is Channel.IN_APP or (ch in r.reachable and r.preferences.wants(category, ch)):
                key = f"{subject}|{r.user_id}|{ch}"
                out.append(
                    Reminder(key, category, ch, r.user_id, pet_id, subject, at, deliver_at(at, category, r))
                )
    return out


def care_reminders(
    schedules: Iterable[CareSchedule],
    completions: Iterable[CareCompletion],
    recipients: Sequence[Recipient],
    start: datetime,
    end: datetime,
    settings: ReminderSettings = DEFAULT_SETTINGS,
) -> list[Reminder]:
    """Reminders at each uncompleted medication or feeding occurrence starting in [start, end)."""
    check_range(start, end)
    done = list(completions)
    out: list[Reminder] = []
    for s in schedules:
        if s.kind not in settings.reminded_kinds:
            continue
        for occ in mark_completed(s.occurrences_between(start, end), done):
            if not occ.completed:
                due = [(r, occ.starts_at) for r in recipients]
                out += _fan_out(settings, Category.CARE_REMINDER, s.pet_id, occ.key, due)
    return sorted(out, key=lambda r: (r.due_at, r.key))


def vaccination_reminders(
    doses: Sequence[Vaccination],
    recipients: Sequence[Recipient],
    start: datetime,
    end: datetime,
    settings: ReminderSettings = DEFAULT_SETTINGS,
) -> list[Reminder]:
    """Reminders 7 and 1 days (default) before each current dose falls due, at 09:00 in each
    recipient's timezone, when that instant is in [start, end); superseded doses never remind."""
    check_range(start, end)
    out: list[Reminder] = []
    for v in doses:
        due_on = v.next_due_on
        if due_on is None or vaccination_status(v, doses, due_on) is VaccinationStatus.SUPERSEDED:
            continue
        for days in settings.vaccination_days_before:
            subject = f"vaccination:{v.id}:{due_on.isoformat()}:-{days}d"
            due = []
            for r in recipients:
                wall = datetime.combine(due_on - timedelta(days=days), settings.vaccination_time)
                at = wall.replace(tzinfo=ZoneInfo(r.timezone)).astimezone(UTC)
                if start <= at < end:
                    due.append((r, at))
            out += _fan_out(settings, Category.CARE_REMINDER, v.pet_id, subject, due)
    return sorted(out, key=lambda r: (r.due_at, r.key))
