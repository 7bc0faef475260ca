"""The signed-in user's own profile and erasure request."""

from __future__ import annotations

from typing import Any, ClassVar

from litestar import Controller, Request, Response, delete, get, patch
from litestar.params import JSONBody
from msgspec import UNSET as WIRE_UNSET

from tailtracker_core.usecases import accounts, consents
from tailtracker_core.usecases.accounts import ProfileChanges
from tailtracker_core.usecases.deps import UNSET

from ..conventions import expected_version, represent
from ..identity import BEARER
from ..params import (
    Claims,
    DepsDep,
    Fields,
    IfMatch,
)
from ..problems import problem_responses
from ..schemas.accounts import ErasureOut, ProfilePatch, UserOut

__all__ = ["MeController"]


def _changes(data: JSONBody[ProfilePatch]) -> ProfileChanges:
    given: dict[str, Any] = {}
    for name in data.__struct_fields__:
        value = getattr(data, name)
        if value is not WIRE_UNSET:
            given[name] = value
    if "alert_location" in given and given["alert_location"] is not None:
        given["alert_location"] = (given["alert_location"].lat, given["alert_location"].lon)
    return ProfileChanges(**{n: given.get(n, UNSET) for n in data.__struct_fields__})


class MeController(Controller):
    path = "/v1/me"
    tags: ClassVar[list[str]] = ["Account"]
    security = BEARER

    @get(
        "/",
        summary="Your profile",
        responses=problem_responses(304),
        sync_to_thread=True,
    )
    def get_me(
        self, request: Request[Any, Any, Any], claims: Claims, deps: DepsDep, fields: Fields = None
    ) -> Response[UserOut]:
        user = accounts.get_profile(deps, claims.user_id)
        return represent(request, UserOut.from_user(user), user.version, fields)

    @patch(
        "/",
        summary="Change your profile",
        description="Send only what changes. With If-Match, a stale ETag gives 412. `alert_radius_km` "
        "above your tier's alert radius is 403 `tier_limit_exceeded`; a location without a radius gets 5 km.",
        responses=problem_responses(403, 412),
        sync_to_thread=True,
    )
    def patch_me(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ProfilePatch],
        claims: Claims,
        deps: DepsDep,
        if_match: IfMatch = None,
    ) -> Response[UserOut]:
        version = expected_version(if_match)
        user = accounts.update_profile(deps, claims.user_id, _changes(data), version)
        return represent(request, UserOut.from_user(user), user.version)

    @delete(
        "/",
        summary="Ask for your account to be erased",
        description="Records an erasure request, carried out in the background by `due_at` (GDPR art. 17).",
        status_code=202,
        responses=problem_responses(),
        sync_to_thread=True,
    )
    def erase_me(self, claims: Claims, deps: DepsDep) -> ErasureOut:
        return ErasureOut.from_request(consents.request_erasure(deps, claims.user_id))
