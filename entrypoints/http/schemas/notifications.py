"""Notifications and notification preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from tailtracker_core.model.notifications import PREFERENCE_CHANNELS, Notification
from tailtracker_core.model.reminders import Category, NotificationPreferences

from . import utc

__all__ = [
    "Categories",
    "ChannelChoices",
    "MarkedRead",
    "NotificationOut",
    "NotificationPage",
    "PreferencesIn",
    "PreferencesOut",
    "QuietHoursIn",
]

LocalTime = Annotated[
    str,
    Meta(
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
        description="A local wall time, HH:MM (24 h), in the user's timezone.",
        examples=["22:00"],
    ),
]


class NotificationOut(msgspec.Struct):
    id: UUID
    category: Category
    title: str
    body: str
    data: dict[str, str]
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def from_notification(cls, n: Notification) -> NotificationOut:
        return cls(
            id=n.id,
            category=n.category,
            title=n.title,
            body=n.body,
            data=dict(n.data),
            created_at=utc(n.created_at),
            read_at=utc(n.read_at) if n.read_at else None,
        )


class NotificationPage(msgspec.Struct):
    items: list[NotificationOut]
    next_cursor: str | None


class MarkedRead(msgspec.Struct):
    marked_read: int


class ChannelChoices(msgspec.Struct, forbid_unknown_fields=True):
    """On or off per channel (in-app is always on). Left out: the default."""

    push: bool | UnsetType = UNSET
    email: bool | UnsetType = UNSET
    sms: bool | UnsetType = UNSET

    def given(self) -> dict[str, bool]:
        return {
            name: getattr(self, name) for name in self.__struct_fields__ if getattr(self, name) is not UNSET
        }


class Categories(msgspec.Struct, forbid_unknown_fields=True):
    care_reminder: ChannelChoices | UnsetType = UNSET
    lost_pet_alert: ChannelChoices | UnsetType = UNSET
    lost_pet_match: ChannelChoices | UnsetType = UNSET
    sighting: ChannelChoices | UnsetType = UNSET
    family: ChannelChoices | UnsetType = UNSET
    billing: ChannelChoices | UnsetType = UNSET
    security: ChannelChoices | UnsetType = UNSET
    marketing: ChannelChoices | UnsetType = UNSET


class QuietHoursIn(msgspec.Struct, forbid_unknown_fields=True):
    start: LocalTime
    end: LocalTime


class PreferencesIn(msgspec.Struct, forbid_unknown_fields=True):
    """Replaces your choices: categories and channels left out get their defaults."""

    categories: Categories = msgspec.field(default_factory=Categories)
    quiet_hours: QuietHoursIn | None = None

    def raw(self) -> tuple[dict[str, dict[str, object]], dict[str, object] | None]:
        categories: dict[str, dict[str, object]] = {}
        for name in self.categories.__struct_fields__:
            choices = getattr(self.categories, name)
            if choices is not UNSET:
                categories[name] = dict(choices.given())
        quiet = (
            None
            if self.quiet_hours is None
            else {"start": self.quiet_hours.start, "end": self.quiet_hours.end}
        )
        return categories, quiet


class ChannelsOut(msgspec.Struct):
    push: bool
    email: bool
    sms: bool


class QuietHoursOut(msgspec.Struct):
    start: str
    end: str


class PreferencesOut(msgspec.Struct):
    """What applies now, every category and channel (defaults filled in)."""

    categories: dict[Category, ChannelsOut]
    quiet_hours: QuietHoursOut | None

    @classmethod
    def from_preferences(cls, p: NotificationPreferences) -> PreferencesOut:
        categories = {
            c: ChannelsOut(**{ch.value: p.wants(c, ch) for ch in PREFERENCE_CHANNELS}) for c in Category
        }
        quiet = p.quiet_hours
        return cls(
            categories=categories,
            quiet_hours=QuietHoursOut(quiet.start.strftime("%H:%M"), quiet.end.strftime("%H:%M"))
            if quiet
            else None,
        )
