"""Calendar feeds: manage one's secret feed URL of a pet or a family (signed in), and serve the
feed itself as text/calendar to whoever holds the URL (no sign-in: the token is the credential).

The feed endpoints are anonymous, so the gate limits them per client address like the other
anonymous endpoints. Any defect of the token is the same 404 problem, whether or not the pet
or family exists.
"""

from __future__ import annotations

import hashlib
from email.utils import format_datetime
from typing import Annotated, Any, ClassVar
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter

from adapters.ical import render_feed
from tailtracker_core.model.calendar import FeedContent, FeedScope
from tailtracker_core.usecases import calendar

from ..conventions import represent
from ..identity import BEARER
from ..params import Claims, ContainerDep, DepsDep, PathId
from ..problems import problem_responses
from ..schemas.calendar import CalendarFeedCreated, CalendarFeedOut

__all__ = ["FamilyCalendarFeedController", "PetCalendarFeedController"]

FeedToken = Annotated[
    str,
    QueryParameter(
        min_length=1, max_length=256, description="The feed's secret token, as the feed URL carries it."
    ),
]
# Calendar apps poll on their own schedule; a private cache may reuse the feed for 15 minutes,
# no shared cache may keep it (the URL is a credential, and revocation must take effect).
FEED_CACHE_CONTROL = "private, max-age=900"
_MEDIA_TYPE = "text/calendar"  # Litestar adds "; charset=utf-8" to text types: adapters.ical.CONTENT_TYPE
_FEED_RESPONSES: dict[int, ResponseSpec] = {
    200: ResponseSpec(
        data_container=str,
        media_type="text/calendar",
        description="The iCalendar (RFC 5545) feed, UTF-8.",
        generate_examples=False,
    ),
    **problem_responses(304, 404, public=True),
}


def _feed_url(base: str, scope: FeedScope, target_id: UUID, token: str) -> str:
    collection = "pets" if scope is FeedScope.PET else "families"
    return f"{base.rstrip('/')}/v1/{collection}/{target_id}/calendar.ics?token={token}"


def _ics_response(request: Request[Any, Any, Any], content: FeedContent, filename: str) -> Response[bytes]:
    body = render_feed(content)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(content.last_modified, usegmt=True),
        "Cache-Control": FEED_CACHE_CONTROL,
        "Content-Disposition": f'inline; filename="{filename}"',
        "X-Robots-Tag": "noindex, nofollow",
    }
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        if etag in tags or "*" in tags:
            return Response(b"", status_code=304, headers=headers, media_type=_MEDIA_TYPE)
    return Response(body, status_code=200, headers=headers, media_type=_MEDIA_TYPE)


class PetCalendarFeedController(Controller):
    path = "/v1/pets/{pet_id:str}"
    tags: ClassVar[list[str]] = ["Calendar"]

    @post(
        "/calendar-feed",
        summary="Create or rotate your calendar feed of a pet",
        description="Every role that may read the pet. Returns the secret URL once; your previous "
        "feed of this pet stops working. Retrying is safe (it rotates again), so no Idempotency-Key.",
        status_code=201,
        security=BEARER,
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def issue(self, pet_id: PathId, claims: Claims, container: ContainerDep) -> Response[CalendarFeedCreated]:
        issued = calendar.issue_feed(container.deps, claims.user_id, FeedScope.PET, pet_id)
        url = _feed_url(container.settings.public_base_url, FeedScope.PET, pet_id, issued.token)
        return Response(CalendarFeedCreated.from_feed(issued.feed, issued.token, url), status_code=201)

    @get(
        "/calendar-feed",
        summary="Your live calendar feed of a pet",
        description="When it was made; the URL is shown only when it is made. 404 when you have none.",
        security=BEARER,
        responses=problem_responses(304, 404),
        sync_to_thread=True,
    )
    def show(
        self, request: Request[Any, Any, Any], pet_id: PathId, claims: Claims, deps: DepsDep
    ) -> Response[CalendarFeedOut]:
        feed = calendar.get_feed(deps, claims.user_id, FeedScope.PET, pet_id)
        return represent(request, CalendarFeedOut.from_feed(feed), None)

    @delete(
        "/calendar-feed",
        summary="Revoke your calendar feed of a pet",
        description="Its URL stops working at once (404). 404 when you have no live feed.",
        security=BEARER,
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def revoke(self, pet_id: PathId, claims: Claims, deps: DepsDep) -> None:
        calendar.revoke_feed(deps, claims.user_id, FeedScope.PET, pet_id)

    @get(
        "/calendar.ics",
        summary="A pet's calendar feed (iCalendar)",
        description="Public: the token is the credential (no Authorization). Care schedules as "
        "recurring events in their local time zone, vaccinations due as all-day events. A wrong "
        "or revoked token is 404.",
        responses=_FEED_RESPONSES,
        media_type="text/calendar",
        sync_to_thread=True,
    )
    def feed(
        self, request: Request[Any, Any, Any], pet_id: PathId, token: FeedToken, container: ContainerDep
    ) -> Response[bytes]:
        content = calendar.read_feed(container.deps, token, FeedScope.PET, pet_id)
        return _ics_response(request, content, "pet.ics")


class FamilyCalendarFeedController(Controller):
    path = "/v1/families/{family_id:str}"
    tags: ClassVar[list[str]] = ["Calendar"]

    @post(
        "/calendar-feed",
        summary="Create or rotate your calendar feed of a family",
        description="Every role in the family. Returns the secret URL once; your previous feed of "
        "this family stops working. Retrying is safe (it rotates again), so no Idempotency-Key.",
        status_code=201,
        security=BEARER,
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def issue(
        self, family_id: PathId, claims: Claims, container: ContainerDep
    ) -> Response[CalendarFeedCreated]:
        issued = calendar.issue_feed(container.deps, claims.user_id, FeedScope.FAMILY, family_id)
        url = _feed_url(container.settings.public_base_url, FeedScope.FAMILY, family_id, issued.token)
        return Response(CalendarFeedCreated.from_feed(issued.feed, issued.token, url), status_code=201)

    @get(
        "/calendar-feed",
        summary="Your live calendar feed of a family",
        description="When it was made; the URL is shown only when it is made. 404 when you have none.",
        security=BEARER,
        responses=problem_responses(304, 404),
        sync_to_thread=True,
    )
    def show(
        self, request: Request[Any, Any, Any], family_id: PathId, claims: Claims, deps: DepsDep
    ) -> Response[CalendarFeedOut]:
        feed = calendar.get_feed(deps, claims.user_id, FeedScope.FAMILY, family_id)
        return represent(request, CalendarFeedOut.from_feed(feed), None)

    @delete(
        "/calendar-feed",
        summary="Revoke your calendar feed of a family",
        description="Its URL stops working at once (404). 404 when you have no live feed.",
        security=BEARER,
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def revoke(self, family_id: PathId, claims: Claims, deps: DepsDep) -> None:
        calendar.revoke_feed(deps, claims.user_id, FeedScope.FAMILY, family_id)

    @get(
        "/calendar.ics",
        summary="A family's calendar feed (iCalendar)",
        description="Public: the token is the credential (no Authorization). Every pet of the "
        "family, each event's summary starting with the pet's name. A wrong or revoked token is 404.",
        responses=_FEED_RESPONSES,
        media_type="text/calendar",
        sync_to_thread=True,
    )
    def feed(
        self, request: Request[Any, Any, Any], family_id: PathId, token: FeedToken, container: ContainerDep
    ) -> Response[bytes]:
        content = calendar.read_feed(container.deps, token, FeedScope.FAMILY, family_id)
        return _ics_response(request, content, "family.ics")
