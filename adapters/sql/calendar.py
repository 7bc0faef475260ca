"""Calendar feeds in SQL (CalendarFeedRepository), with their row mapping.

On PostgreSQL the table has row-level security (a user sees only their own feeds in their own
families); the anonymous look-up by token goes through the narrow SECURITY DEFINER function
`tt_calendar_feed_by_token`, as the invitation look-up does (migration 0012).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import select, text, update

from adapters.sql.repositories import ConnectionSource, _insert_unless_duplicate
from adapters.sql.tables import calendar_feeds
from tailtracker_core.errors import Conflict
from tailtracker_core.model.calendar import CalendarFeed, FeedScope

__all__ = ["SqlCalendarFeeds", "calendar_feed_from", "calendar_feed_row"]

_BY_TOKEN_PG = text("SELECT * FROM tt_calendar_feed_by_token(:token_hash)").columns(*calendar_feeds.c)


def calendar_feed_row(feed: CalendarFeed) -> dict[str, Any]:
    return {
        "id": feed.id,
        "scope": feed.scope.value,
        "family_id": feed.family_id,
        "pet_id": feed.pet_id,
        "token_hash": feed.token_hash,
        "created_by": feed.created_by,
        "created_at": feed.created_at,
        "revoked_at": feed.revoked_at,
    }


def calendar_feed_from(row: Mapping[str, Any]) -> CalendarFeed:
    return CalendarFeed(
        id=row["id"],
        scope=FeedScope(row["scope"]),
        family_id=row["family_id"],
        pet_id=row["pet_id"],
        token_hash=row["token_hash"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


class SqlCalendarFeeds:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, feed: CalendarFeed) -> None:
        if not _insert_unless_duplicate(self._conn(), calendar_feeds, calendar_feed_row(feed)):
            raise Conflict("you already have a live calendar feed here; it was just made, retry")

    def live_for(self, scope: FeedScope, target_id: UUID, user_id: UUID) -> CalendarFeed | None:
        c = calendar_feeds.c
        target = c.pet_id if scope is FeedScope.PET else c.family_id
        stmt = select(calendar_feeds).where(
            c.scope == scope.value,
            target == target_id,
            c.created_by == user_id,
            c.revoked_at.is_(None),
        )
        row = self._conn().execute(stmt).mappings().first()
        return calendar_feed_from(row) if row else None

    def save(self, feed: CalendarFeed) -> None:
        row = calendar_feed_row(feed)
        stmt = update(calendar_feeds).where(calendar_feeds.c.id == feed.id).values(row)
        if self._conn().execute(stmt).rowcount == 0:
            self.add(feed)

    def find_by_token_hash(self, token_hash: str) -> CalendarFeed | None:
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            row = conn.execute(_BY_TOKEN_PG, {"token_hash": token_hash}).mappings().first()
        else:
            stmt = select(calendar_feeds).where(calendar_feeds.c.token_hash == token_hash)
            row = conn.execute(stmt).mappings().first()
        return calendar_feed_from(row) if row else None
