"""Notifications: deliveries (one per subject, recipient and channel, ever) and in-app items.

The planning rules (categories, channels, preferences, quiet hours, reminder keys) live in
`model/reminders.py`; this module holds what is stored once a notification is decided on.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
from uuid import UUID

from attrs import define, evolve, frozen

from tailtracker_core.errors import FieldError, ValidationFailed
from tailtracker_core.model.reminders import (
    Category,
    Channel,
    NotificationPreferences,
    QuietHours,
    Recipient,
    Reminder,
    deliver_at,
)

__all__ = [
    "DELIVERABLE_CHANNELS",
    "DELIVERY_STATE_FIELDS",
    "MAX_ERROR_LENGTH",
    "Delivery",
    "DeliveryRequest",
    "DeliveryStatus",
    "DueDelivery",
    "Notification",
    "PREFERENCE_CHANNELS",
    "delivery_key",
    "parse_preferences",
    "request_from_reminder",
    "requests_for",
]

MAX_ERROR_LENGTH = 500

# The channels this release can deliver; others are stored and fail with a clear error.
DELIVERABLE_CHANNELS = frozenset({Channel.IN_APP, Channel.EMAIL})
# The channels a user can switch per category (in_app is always on; websocket follows in_app).
PREFERENCE_CHANNELS = (Channel.PUSH, Channel.EMAIL, Channel.SMS)
# What an attempt changes on a delivery: the bulk saves of the stores write these and nothing else.
DELIVERY_STATE_FIELDS = ("status", "attempts", "last_error", "sent_at", "lease_until", "version")


class DeliveryStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # waiting for deliver_at (quiet hours, a reminder in the future)
    QUEUED = "queued"  # handed to the worker (an outbox event exists)
    SENT = "sent"  # the channel took it (SMTP accepted it; the in-app item is stored)
    DELIVERED = "delivered"  # the channel confirmed receipt (push receipts, later)
    FAILED = "failed"  # permanent failure, or retries exhausted
    CANCELLED = "cancelled"  # no longer wanted (e.g. the care task was completed)

    @property
    def final(self) -> bool:
        return self in _FINAL


_FINAL = frozenset(
    {DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.CANCELLED}
)


def delivery_key(subject: str, user_id: UUID, channel: Channel) -> str:
    """The idempotency key: one delivery per subject, recipient and channel, ever (the same
    form as `Reminder.key`)."""
    return f"{subject}|{user_id}|{channel}"


@frozen
class DeliveryRequest:
    """What a caller asks `usecases.notifications.enqueue` to deliver."""

    key: str
    user_id: UUID
    category: Category
    channel: Channel
    template: str
    params: Mapping[str, str]
    subject: str
    deliver_at: datetime


@frozen
class DueDelivery:
    id: UUID
    user_id: UUID


def _short(error: str) -> str:
    return error if len(error) <= MAX_ERROR_LENGTH else error[: MAX_ERROR_LENGTH - 1] + "…"


@define
class Delivery:
    """One notification to one recipient on one channel, and how its delivery went."""

    id: UUID
    key: str
    user_id: UUID
    category: Category
    channel: Channel
    template: str
    params: dict[str, str]
    subject: str
    status: DeliveryStatus
    deliver_at: datetime
    created_at: datetime
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    lease_until: datetime | None = None  # an attempt is in flight until then
    version: int = 1

    @classmethod
    def from_request(cls, delivery_id: UUID, request: DeliveryRequest, now: datetime) -> Delivery:
        due = request.deliver_at <= now
        return cls(
            id=delivery_id,
            key=request.key,
            user_id=request.user_id,
            category=request.category,
            channel=request.channel,
            template=request.template,
            params=dict(request.params),
            subject=request.subject,
            status=DeliveryStatus.QUEUED if due else DeliveryStatus.SCHEDULED,
            deliver_at=request.deliver_at,
            created_at=now,
        )

    def busy(self, now: datetime) -> bool:
        """Another worker's attempt is in flight (its lease has not run out)."""
        return self.lease_until is not None and self.lease_until > now

    def _bump(self) -> None:
        self.version += 1

    def start_attempt(self, now: datetime, lease: timedelta) -> None:
        self.attempts += 1
        self.lease_until = now + lease
        self._bump()

    def mark_sent(self, now: datetime) -> None:
        self.status = DeliveryStatus.SENT
        self.sent_at = now
        self.lease_until = None
        self._bump()

    def mark_failed(self, error: str) -> None:
        self.status = DeliveryStatus.FAILED
        self.last_error = _short(error)
        self.lease_until = None
        self._bump()

    def mark_retrying(self, error: str) -> None:
        """A transient failure: stays queued, the broker retries it."""
        self.last_error = _short(error)
        self.lease_until = None
        self._bump()

    def cancel(self, reason: str) -> None:
        self.status = DeliveryStatus.CANCELLED
        self.last_error = _short(reason)
        self.lease_until = None
        self._bump()


@frozen
class Notification:
    """An in-app notification, stored once per delivery (`delivery_id` is unique)."""

    id: UUID
    user_id: UUID
    delivery_id: UUID
    category: Category
    title: str
    body: str
    data: Mapping[str, str]
    created_at: datetime
    read_at: datetime | None = None

    def read(self, now: datetime) -> Notification:
        return self if self.read_at is not None else evolve(self, read_at=now)


def request_from_reminder(reminder: Reminder, template: str, params: Mapping[str, str]) -> DeliveryRequest:
    """A planned reminder (`model.reminders`) as a delivery request; `pet_id` joins the params."""
    return DeliveryRequest(
        key=reminder.key,
        user_id=reminder.recipient_id,
        category=reminder.category,
        channel=reminder.channel,
        template=template,
        params={"pet_id": str(reminder.pet_id), **params},
        subject=reminder.subject,
        deliver_at=reminder.deliver_at,
    )


def requests_for(
    recipients: Iterable[Recipient],
    category: Category,
    subject: str,
    template: str,
    params: Mapping[str, str],
    at: datetime,
    *,
    channels: Iterable[Channel] = (Channel.IN_APP, Channel.EMAIL),
    about_own_pet: bool = False,
) -> list[DeliveryRequest]:
    """One request per recipient and channel the recipient wants and can be reached on,
    deferred past quiet hours where the rules say so (the same rules as reminders)."""
    out = []
    for r in recipients:
        when = deliver_at(at, category, r, about_own_pet=about_own_pet)
        for ch in channels:
            if ch is Channel.IN_APP or (ch in r.reachable and r.preferences.wants(category, ch)):
                out.append(
                    DeliveryRequest(
                        delivery_key(subject, r.user_id, ch),
                        r.user_id,
                        category,
                        ch,
                        template,
                        params,
                        subject,
                        when,
                    )
                )
    return out


def _parse_time(raw: object, where: str, errors: list[FieldError]) -> time | None:
    if not isinstance(raw, str):
        errors.append(FieldError(where, "a local time such as 22:00"))
        return None
    try:
        parsed = time.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(where, f"{raw!r} is not a time such as 22:00"))
        return None
    if parsed.tzinfo is not None:
        errors.append(FieldError(where, "quiet hours are in the user's local time: no offset"))
        return None
    return parsed


def parse_preferences(
    categories: Mapping[str, Mapping[str, object]], quiet_hours: Mapping[str, object] | None
) -> NotificationPreferences:
    """Validate what a user sends (`{care_reminder: {email: true}}`, `{start, end}`); unknown
    categories or channels, non-boolean choices and bad times are refused together."""
    errors: list[FieldError] = []
    choices: dict[tuple[Category, Channel], bool] = {}
    allowed = {c.value for c in PREFERENCE_CHANNELS}
    for cat_name, per_channel in categories.items():
        where = f"categories.{cat_name}"
        try:
            category = Category(cat_name)
        except ValueError:
            errors.append(
                FieldError(where, f"unknown category; choose from {', '.join(c.value for c in Category)}")
            )
            continue
        for ch_name, on in per_channel.items():
            if ch_name not in allowed:
                errors.append(
                    FieldError(
                        f"{where}.{ch_name}", f"unknown channel; choose from {', '.join(sorted(allowed))}"
                    )
                )
            elif not isinstance(on, bool):
                errors.append(FieldError(f"{where}.{ch_name}", "true or false"))
            else:
                choices[(category, Channel(ch_name))] = on
    quiet = None
    if quiet_hours is not None:
        start = _parse_time(quiet_hours.get("start"), "quiet_hours.start", errors)
        end = _parse_time(quiet_hours.get("end"), "quiet_hours.end", errors)
        if start is not None and end is not None:
            if start == end:
                errors.append(
                    FieldError("quiet_hours.end", "must differ from start (omit quiet_hours for none)")
                )
            else:
                quiet = QuietHours(start, end)
    if errors:
        raise ValidationFailed(errors)
    return NotificationPreferences(choices=choices, quiet_hours=quiet)
