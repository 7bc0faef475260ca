"""In-memory calendar feeds (CalendarFeedRepository) over the memory store's data."""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

from tailtracker_core.errors import Conflict
from tailtracker_core.model.calendar import CalendarFeed, FeedScope

__all__ = ["MemoryCalendarFeeds"]


class MemoryCalendarFeeds:
    """`data` is the unit of work's copy of the store (`_Data`): feeds live in
    `data.calendar_feeds`; pets, families and users are read to act like the SQL cascades."""

    def __init__(self, data: Any) -> None:
        self.d = data

    def _feeds(self) -> dict[UUID, CalendarFeed]:
        feeds: dict[UUID, CalendarFeed] = self.d.calendar_feeds
        return feeds

    def _exists(self, feed: CalendarFeed) -> bool:
        """As ON DELETE CASCADE would leave it: gone with its pet, family or creator."""
        if feed.family_id not in self.d.families or feed.created_by not in self.d.users:
            return False
        return feed.pet_id is None or feed.pet_id in self.d.pets

    def add(self, feed: CalendarFeed) -> None:
        if feed.active and self.live_for(feed.scope, feed.target_id, feed.created_by) is not None:
            raise Conflict("you already have a live calendar feed here; it was just made, retry")
        self._feeds()[feed.id] = copy.deepcopy(feed)

    def live_for(self, scope: FeedScope, target_id: UUID, user_id: UUID) -> CalendarFeed | None:
        for feed in sorted(self._feeds().values(), key=lambda f: f.id):
            if (
                feed.scope is scope
                and feed.target_id == target_id
                and feed.created_by == user_id
                and feed.active
                and self._exists(feed)
            ):
                return copy.deepcopy(feed)
        return None

    def save(self, feed: CalendarFeed) -> None:
        self._feeds()[feed.id] = copy.deepcopy(feed)

    def find_by_token_hash(self, token_hash: str) -> CalendarFeed | None:
        for feed in self._feeds().values():
            if feed.token_hash == token_hash and self._exists(feed):
                return copy.deepcopy(feed)
        return None
