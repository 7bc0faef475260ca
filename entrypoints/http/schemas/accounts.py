"""Auth and account schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from tailtracker_core.model.accounts import User
from tailtracker_core.model.consent import ErasureRequest
from tailtracker_core.usecases.accounts import AuthResult

from . import utc

__all__ = [
    "AuthOut",
    "ErasureOut",
    "LoginIn",
    "Point",
    "ProfilePatch",
    "RefreshIn",
    "RegisterIn",
    "UserOut",
]

Email = Annotated[str, Meta(min_length=3, max_length=254, examples=["ada@example.com"])]
DisplayName = Annotated[str, Meta(min_length=1, max_length=100)]
Locale = Annotated[str, Meta(min_length=2, max_length=35, description="BCP 47 tag", examples=["en-GB"])]
Timezone = Annotated[
    str, Meta(min_length=1, max_length=64, description="IANA zone", examples=["Europe/London"])
]


class Point(msgspec.Struct, forbid_unknown_fields=True):
    lat: Annotated[float, Meta(ge=-90, le=90)]
    lon: Annotated[float, Meta(ge=-180, le=180)]


class RegisterIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Annotated[str, Meta(min_length=12, max_length=128)]
    display_name: DisplayName
    locale: Locale = "en"
    timezone: Timezone = "UTC"


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, Meta(max_length=254)]
    password: Annotated[str, Meta(max_length=1024)]


class RefreshIn(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, Meta(min_length=1, max_length=4096)]


class ProfilePatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields sent change; `null` clears phone, alert_location and alert_radius_km."""

    display_name: DisplayName | UnsetType = UNSET
    locale: Locale | UnsetType = UNSET
    timezone: Timezone | UnsetType = UNSET
    phone: Annotated[str, Meta(max_length=32, examples=["+447700900123"])] | UnsetType | None = UNSET
    alert_location: Point | UnsetType | None = UNSET
    alert_radius_km: Annotated[float, Meta(gt=0, le=50)] | UnsetType | None = UNSET


class UserOut(msgspec.Struct):
    id: UUID
    email: str
    display_name: str
    locale: str
    timezone: str
    phone: str | None
    alert_location: Point | None
    alert_radius_km: float | None
    created_at: datetime

    @classmethod
    def from_user(cls, user: User) -> UserOut:
        location = None
        if user.alert_lat is not None and user.alert_lon is not None:
            location = Point(user.alert_lat, user.alert_lon)
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            locale=user.locale,
            timezone=user.timezone,
            phone=user.phone,
            alert_location=location,
            alert_radius_km=user.alert_radius_km,
            created_at=utc(user.created_at),
        )


class AuthOut(msgspec.Struct):
    user: UserOut
    access_token: str
    refresh_token: str
    expires_in: Annotated[int, Meta(description="Seconds until the access token expires.")]
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (a scheme name, not a secret)

    @classmethod
    def from_result(cls, result: AuthResult) -> AuthOut:
        return cls(
            UserOut.from_user(result.user), result.access_token, result.refresh_token, result.expires_in
        )


class ErasureOut(msgspec.Struct):
    id: UUID
    status: str
    due_at: datetime

    @classmethod
    def from_request(cls, request: ErasureRequest) -> ErasureOut:
        return cls(request.id, request.status, utc(request.due_at))
