"""In-app notifications and notification preferences (docs/notifications.md)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from litestar import Controller, Request, Response, get, post, put
from litestar.params import JSONBody, QueryParameter

from tailtracker_core.model.notifications import parse_preferences
from tailtracker_core.usecases import notifications

from ..conventions import page_response, paginate, represent, select_fields
from ..identity import BEARER
from ..params import Claims, Cursor, DepsDep, Fields, Limit, PathId
from ..problems import problem_responses
from ..schemas.notifications import (
    MarkedRead,
    NotificationOut,
    NotificationPage,
    PreferencesIn,
    PreferencesOut,
)

__all__ = ["NotificationController", "NotificationPreferenceController"]

Unread = Annotated[bool | None, QueryParameter(description="true: only unread; false or left out: all.")]


class NotificationController(Controller):
    path = "/v1/notifications"
    tags: ClassVar[list[str]] = ["Notifications"]
    security = BEARER

    @get(
        "/",
        summary="Your notifications, newest first",
        responses=problem_responses(),
        sync_to_thread=True,
    )
    def list_notifications(
        self,
        claims: Claims,
        deps: DepsDep,
        unread: Unread = None,
        limit: Limit = 20,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> NotificationPage:
        select_fields(NotificationOut, fields)
        rows, next_cursor = paginate(
            lambda before, n: notifications.list_notifications(deps, claims.user_id, bool(unread), before, n),
            cursor,
            limit,
            lambda n: n.id,
        )
        items = [NotificationOut.from_notification(n) for n in rows]
        return page_response(NotificationPage, NotificationOut, items, next_cursor, fields)

    @post(
        "/read-all",
        summary="Mark all your notifications read",
        status_code=200,
        responses=problem_responses(),
        sync_to_thread=True,
    )
    def read_all(self, claims: Claims, deps: DepsDep) -> MarkedRead:
        return MarkedRead(notifications.mark_all_read(deps, claims.user_id))

    @post(
        "/{notification_id:str}/read",
        summary="Mark one notification read",
        description="Idempotent: a read notification keeps its first read time. Not yours: 404.",
        status_code=200,
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def read_one(
        self, request: Request[Any, Any, Any], notification_id: PathId, claims: Claims, deps: DepsDep
    ) -> Response[NotificationOut]:
        n = notifications.mark_read(deps, claims.user_id, notification_id)
        return represent(request, NotificationOut.from_notification(n), None)


class NotificationPreferenceController(Controller):
    path = "/v1/notification-preferences"
    tags: ClassVar[list[str]] = ["Notifications"]
    security = BEARER

    @get("/", summary="Your notification preferences", responses=problem_responses(), sync_to_thread=True)
    def get_preferences(self, claims: Claims, deps: DepsDep) -> PreferencesOut:
        return PreferencesOut.from_preferences(notifications.get_preferences(deps, claims.user_id))

    @put(
        "/",
        summary="Replace your notification preferences",
        description="Per category: push, email and sms on or off (in-app is always on); quiet hours "
        "in your local time defer everything but security and urgent news about your own pets. "
        "Categories and channels left out get their defaults. Marketing also needs the marketing "
        "consent; SMS needs a tier with SMS (else 403 `tier_limit_exceeded`).",
        responses=problem_responses(403),
        sync_to_thread=True,
    )
    def put_preferences(self, data: JSONBody[PreferencesIn], claims: Claims, deps: DepsDep) -> PreferencesOut:
        categories, quiet = data.raw()
        prefs = parse_preferences(categories, quiet)
        return PreferencesOut.from_preferences(notifications.put_preferences(deps, claims.user_id, prefs))
