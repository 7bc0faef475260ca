"""Users and the rules on their credentials and profile."""

from __future__ import annotations

import math
import re
from datetime import datetime
from functools import cache
from importlib import resources
from uuid import UUID
from zoneinfo import available_timezones

from attrs import define, field

from tailtracker_core.errors import TierLimitExceeded, ValidationFailed
from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.model.text import check_text
from tailtracker_core.model.tiers import Tier, TierTable

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "User",
    "check_alert_radius",
    "check_display_name",
    "check_email",
    "check_locale",
    "check_password",
    "check_phone",
    "check_timezone",
    "normalise_email",
]

MIN_PASSWORD = 12
MAX_PASSWORD = 128
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# BCP 47, the subset in real use: language[-Script][-REGION][-variant...]
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-[A-Za-z0-9]{5,8})*$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("tailtracker_core.data").joinpath("common_passwords.txt").read_text()
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def normalise_email(email: str) -> str:
    """The comparison form of an address: trimmed and lower-cased."""
    return email.strip().lower()


def check_email(email: str, field_name: str = "email") -> str:
    email = email.strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValidationFailed.single(field_name, "not a valid email address")
    return email


def check_password(password: str, field_name: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed.single(field_name, f"use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValidationFailed.single(field_name, f"use at most {MAX_PASSWORD} characters")
    if password.lower() in _common_passwords():
        raise ValidationFailed.single(field_name, "this password is too common; choose another")


def check_display_name(name: str, field_name: str = "display_name") -> str:
    return check_text(name, field_name, 100)


def check_locale(locale: str) -> str:
    if len(locale) > 35 or not _LOCALE.match(locale):
        raise ValidationFailed.single("locale", "not a BCP 47 language tag such as en-GB")
    return locale


def check_timezone(tz: str) -> str:
    if tz not in _timezones():
        raise ValidationFailed.single("timezone", "not an IANA timezone such as Europe/London")
    return tz


def check_phone(phone: str) -> str:
    phone = phone.replace(" ", "")
    if not _PHONE.match(phone):
        raise ValidationFailed.single("phone", "an E.164 number such as +447700900123")
    return phone


def check_alert_radius(radius_km: object, tier: Tier, tiers: TierTable) -> float:
    """A user's alert radius: a finite number above 0 km and at most the tier's maximum
    (403 `tier_limit_exceeded` above it, as for every tier limit; the boundary is allowed)."""
    if isinstance(radius_km, bool) or not isinstance(radius_km, int | float) or not math.isfinite(radius_km):
        raise ValidationFailed.single("alert_radius_km", "must be a finite number")
    if radius_km <= 0:
        raise ValidationFailed.single("alert_radius_km", "must be above 0 km")
    allowed = tiers[tier].alert_radius_km
    if radius_km > allowed:
        raise TierLimitExceeded("km of lost-pet alert radius", math.floor(allowed), tier.value)
    return float(radius_km)


@define
class User:
    id: UUID
    email: str
    display_name: str
    password_hash: str
    created_at: datetime
    locale: str = "en"
    timezone: str = "UTC"
    phone: str | None = None
    alert_lat: float | None = None
    alert_lon: float | None = None
    alert_radius_km: float | None = None
    version: int = 1
    email_key: str = field(init=False)

    def __attrs_post_init__(self) -> None:
        self.email_key = normalise_email(self.email)

    @property
    def alert_location(self) -> GeoPoint | None:
        """Where the user wants lost-pet alerts around (stored as alert_lat/alert_lon)."""
        if self.alert_lat is None or self.alert_lon is None:
            return None
        return GeoPoint(self.alert_lat, self.alert_lon)

    def set_alert_area(
        self, location: GeoPoint | None, radius_km: float | None, tier: Tier, tiers: TierTable | None = None
    ) -> None:
        """Set (or clear, with None) the alert location and radius, checked against the
        user's tier (`tier` is the user's own entitlement). Does not bump the version: the
        use case does, once per change set, as for every profile field."""
        radius = None if radius_km is None else check_alert_radius(radius_km, tier, tiers or TierTable())
        if location is None:
            self.alert_lat = self.alert_lon = None
        else:
            self.alert_lat, self.alert_lon = location.lat, location.lon
        self.alert_radius_km = radius
