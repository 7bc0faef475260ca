"""Calendar feeds: the secret subscription URL of a pet's or a family's iCalendar feed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from tailtracker_core.model.calendar import CalendarFeed, FeedScope

from . import utc

__all__ = ["CalendarFeedCreated", "CalendarFeedOut"]


class CalendarFeedCreated(msgspec.Struct):
    id: UUID
    scope: FeedScope
    url: Annotated[str, Meta(description="Shown once: subscribe to it in a calendar app. Keep it secret.")]
    webcal_url: Annotated[str, Meta(description="The same feed as webcal://, which opens calendar apps.")]
    token: Annotated[str, Meta(description="Shown once: the secret the URL carries (only a hash is stored).")]
    created_at: datetime

    @classmethod
    def from_feed(cls, feed: CalendarFeed, token: str, url: str) -> CalendarFeedCreated:
        webcal = "webcal://" + url.split("://", 1)[1]
        return cls(feed.id, feed.scope, url, webcal, token, utc(feed.created_at))


class CalendarFeedOut(msgspec.Struct):
    """A live feed; its URL cannot be shown again (rotate to get a new one)."""

    id: UUID
    scope: FeedScope
    created_at: datetime

    @classmethod
    def from_feed(cls, feed: CalendarFeed) -> CalendarFeedOut:
        return cls(feed.id, feed.scope, utc(feed.created_at))
