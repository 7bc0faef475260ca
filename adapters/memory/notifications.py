"""In-memory repositories of notifications, deliveries, preferences and email suppressions.

They work on the `_Data` copy of a MemoryUnitOfWork, like the other memory repositories.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from attrs import evolve

from tailtracker_core.errors import Conflict
from tailtracker_core.model.notifications import (
    DELIVERY_STATE_FIELDS,
    Delivery,
    DeliveryStatus,
    DueDelivery,
    Notification,
)
from tailtracker_core.model.reminders import Channel, NotificationPreferences

__all__ = [
    "MemoryDeliveries",
    "MemoryEmailSuppressions",
    "MemoryNotificationPreferences",
    "MemoryNotifications",
]


class MemoryDeliveries:
    def __init__(self, d: Any) -> None:
        self.d = d

    def add(self, delivery: Delivery) -> bool:
        if any(x.key == delivery.key for x in self.d.deliveries.values()):
            return False
        self.d.deliveries[delivery.id] = copy.deepcopy(delivery)
        return True

    def add_many(self, deliveries: Sequence[Delivery]) -> set[UUID]:
        keys = {x.key for x in self.d.deliveries.values()}
        added = set()
        for d in deliveries:
            if d.key not in keys:
                keys.add(d.key)
                self.d.deliveries[d.id] = copy.deepcopy(d)
                added.add(d.id)
        return added

    def get(self, delivery_id: UUID) -> Delivery | None:
        return copy.deepcopy(self.d.deliveries.get(delivery_id))

    def get_by_key(self, key: str) -> Delivery | None:
        return next((copy.deepcopy(x) for x in self.d.deliveries.values() if x.key == key), None)

    def save(self, delivery: Delivery) -> None:
        stored = self.d.deliveries.get(delivery.id)
        if stored is not None and stored.version != delivery.version - 1:
            raise Conflict("this delivery was changed by another worker at the same time")
        self.d.deliveries[delivery.id] = copy.deepcopy(delivery)

    def queue_due(self, now: datetime, limit: int) -> list[DueDelivery]:
        due = sorted(
            (
                x
                for x in self.d.deliveries.values()
                if x.status is DeliveryStatus.SCHEDULED and x.deliver_at <= now
            ),
            key=lambda x: (x.deliver_at, x.id),
        )[: max(limit, 0)]
        for x in due:
            x.status = DeliveryStatus.QUEUED
            x.version += 1
        return [DueDelivery(x.id, x.user_id) for x in due]

    def lock_many(self, delivery_ids: Sequence[UUID]) -> list[Delivery]:
        # One unit of work holds the store at a time: reading is locking.
        found = (self.d.deliveries.get(i) for i in set(delivery_ids))
        return sorted((copy.deepcopy(x) for x in found if x is not None), key=lambda x: x.id)

    def save_many(self, deliveries: Sequence[Delivery]) -> set[UUID]:
        stored_ids = set()
        for d in deliveries:
            stored = self.d.deliveries.get(d.id)
            if stored is None or stored.version != d.version - 1:
                continue
            for name in DELIVERY_STATE_FIELDS:
                setattr(stored, name, getattr(d, name))
            stored_ids.add(d.id)
        return stored_ids


class MemoryNotifications:
    def __init__(self, d: Any) -> None:
        self.d = d

    def add(self, notification: Notification) -> bool:
        if any(n.delivery_id == notification.delivery_id for n in self.d.notifications.values()):
            return False
        self.d.notifications[notification.id] = notification
        return True

    def add_many(self, notifications: Sequence[Notification]) -> set[UUID]:
        taken = {n.delivery_id for n in self.d.notifications.values()}
        added = set()
        for n in notifications:
            delivery = self.d.deliveries.get(n.delivery_id)
            if n.delivery_id in taken or delivery is None:
                continue
            if delivery.user_id != n.user_id or delivery.channel is not Channel.IN_APP:
                continue
            taken.add(n.delivery_id)
            self.d.notifications[n.id] = n
            added.add(n.delivery_id)
        return added

    def get(self, notification_id: UUID) -> Notification | None:
        return self.d.notifications.get(notification_id)  # type: ignore[no-any-return]

    def save(self, notification: Notification) -> None:
        self.d.notifications[notification.id] = notification

    def list_for_user(
        self, user_id: UUID, unread_only: bool, before: UUID | None, limit: int
    ) -> list[Notification]:
        mine = sorted(
            (
                n
                for n in self.d.notifications.values()
                if n.user_id == user_id
                and (not unread_only or n.read_at is None)
                and (before is None or n.id < before)
            ),
            key=lambda n: n.id,
            reverse=True,
        )
        return mine[: max(limit, 0)]

    def mark_all_read(self, user_id: UUID, now: datetime) -> int:
        unread = [n for n in self.d.notifications.values() if n.user_id == user_id and n.read_at is None]
        for n in unread:
            self.d.notifications[n.id] = evolve(n, read_at=now)
        return len(unread)


class MemoryNotificationPreferences:
    def __init__(self, d: Any) -> None:
        self.d = d

    def get(self, user_id: UUID) -> NotificationPreferences | None:
        return self.d.notification_preferences.get(user_id)  # type: ignore[no-any-return]

    def put(self, user_id: UUID, preferences: NotificationPreferences, now: datetime) -> None:
        self.d.notification_preferences[user_id] = preferences

    def get_many(self, user_ids: Sequence[UUID]) -> dict[UUID, NotificationPreferences]:
        prefs = self.d.notification_preferences
        return {u: prefs[u] for u in user_ids if u in prefs}


class MemoryEmailSuppressions:
    def __init__(self, d: Any) -> None:
        self.d = d

    def add(self, email: str, reason: str, now: datetime) -> None:
        self.d.email_suppressions.setdefault(email.strip().lower(), (reason, now))

    def is_suppressed(self, email: str) -> bool:
        return email.strip().lower() in self.d.email_suppressions

    def suppressed_among(self, emails: Sequence[str]) -> set[str]:
        return {e.strip().lower() for e in emails} & set(self.d.email_suppressions)

    def remove(self, email: str) -> None:
        self.d.email_suppressions.pop(email.strip().lower(), None)
