"""Lost reports, found reports and sightings, their public view, and who is alerted.

Pure rules only: the use cases load the reports, the candidates and the counters, and
store what these functions decide. See docs/lost-and-found-rules.md.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from attrs import define, frozen

from tailtracker_core.errors import Conflict, TierLimitExceeded, ValidationFailed
from tailtracker_core.model.consent import ConsentRecord, Purpose, current_consents
from tailtracker_core.model.geo import GeoPoint, distance_km, rounded
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Pet, Sex, Size, Species
from tailtracker_core.model.text import check_text
from tailtracker_core.model.tiers import Tier, TierTable

__all__ = [
    "AlertCandidate",
    "AlertSettings",
    "FoundReport",
    "LostPetAlert",
    "LostReport",
    "NearbyReport",
    "PublicLostReport",
    "ReportStatus",
    "Sighting",
    "alert_key",
    "alert_recipients",
    "check_colours",
    "check_radius",
    "check_seen_at",
    "ensure_no_open_report",
    "has_location_alerts_consent",
    "optional_text",
    "public_view",
]

PUBLIC_ROUNDING_M = 100.0


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    FOUND = "found"
    CLOSED = "closed"


def check_seen_at(when: datetime, now: datetime, field: str) -> datetime:
    """`when` in UTC; refused when naive or later than `now`."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValidationFailed.single(field, "needs a time zone (send UTC or an offset)")
    if when > now:
        raise ValidationFailed.single(field, "cannot be in the future")
    return when.astimezone(UTC)


def check_radius(radius_km: float, tier: Tier, tiers: TierTable) -> float:
    """An alert radius above 0 and at most the tier's maximum (403 `tier_limit_exceeded` above it)."""
    if isinstance(radius_km, bool) or not isinstance(radius_km, int | float) or not math.isfinite(radius_km):
        raise ValidationFailed.single("radius_km", "must be a finite number")
    if radius_km <= 0:
        raise ValidationFailed.single("radius_km", "must be above 0 km")
    allowed = tiers[tier].alert_radius_km
    if radius_km > allowed:
        raise TierLimitExceeded("km of lost-pet alert radius", math.floor(allowed), tier.value)
    return float(radius_km)


def check_colours(colours: Iterable[str], field: str = "colours") -> tuple[str, ...]:
    """Trimmed, lower-cased, de-duplicated colours, at most 10 (as for pets)."""
    out = [check_text(c, field, 40).lower() for c in colours if c.strip()]
    if len(out) > 10:
        raise ValidationFailed.single(field, "at most 10 colours")
    return tuple(dict.fromkeys(out))


def optional_text(value: str | None, field: str, max_len: int, *, multiline: bool = False) -> str | None:
    """Trimmed free text, None when absent or empty; control characters refused."""
    if value is None:
        return None
    return check_text(value, field, max_len, min_len=0, multiline=multiline) or None


def ensure_no_open_report(pet_id: UUID, existing: Iterable[LostReport]) -> None:
    """Conflict when the pet already has an open lost report."""
    if any(r.pet_id == pet_id and r.status is ReportStatus.OPEN for r in existing):
        raise Conflict("this pet already has an open lost report; update or close it first")


@define
class LostReport:
    """A family's report that one of its pets is missing. Found and closed are final."""

    id: UUID
    pet_id: UUID
    family_id: UUID
    last_seen_at: datetime
    location: GeoPoint
    radius_km: float
    description: str | None
    reward: str | None
    opened_at: datetime
    status: ReportStatus = ReportStatus.OPEN
    resolved_at: datetime | None = None
    version: int = 1

    @classmethod
    def open(
        cls,
        report_id: UUID,
        pet: Pet,
        last_seen_at: datetime,
        location: GeoPoint,
        radius_km: float,
        description: str | None,
        reward: str | None,
        *,
        tier: Tier,
        existing: Iterable[LostReport],
        now: datetime,
        tiers: TierTable | None = None,
    ) -> LostReport:
        """Checks every rule of a new report; `existing` are the pet's reports so far."""
        seen = check_seen_at(last_seen_at, now, "last_seen_at")
        radius = check_radius(radius_km, tier, tiers or TierTable())
        text = optional_text(description, "description", 5000, multiline=True)
        reward_text = optional_text(reward, "reward", 200)
        ensure_no_open_report(pet.id, existing)
        return cls(report_id, pet.id, pet.family_id, seen, location, radius, text, reward_text, now)

    @property
    def is_open(self) -> bool:
        return self.status is ReportStatus.OPEN

    def mark_found(self, now: datetime) -> None:
        self._resolve(ReportStatus.FOUND, now)

    def close(self, now: datetime) -> None:
        self._resolve(ReportStatus.CLOSED, now)

    def _resolve(self, status: ReportStatus, now: datetime) -> None:
        if self.status is status:
            return  # a retried request changes nothing
        if self.status is not ReportStatus.OPEN:
            raise Conflict(f"the report is already {self.status.value}; open a new one if the pet is lost")
        self.status, self.resolved_at = status, now
        self.version += 1


@frozen
class FoundReport:
    """A report, by anyone signed in, of an animal found or seen loose."""

    id: UUID
    reporter_id: UUID
    species: Species
    colours: tuple[str, ...]
    seen_at: datetime
    location: GeoPoint
    filed_at: datetime
    breed: str | None = None
    size: Size | None = None
    sex: Sex | None = None
    microchip: Microchip | None = None
    description: str | None = None
    photo_id: UUID | None = None

    @classmethod
    def file(
        cls,
        report_id: UUID,
        reporter_id: UUID,
        species: Species,
        colours: Iterable[str],
        seen_at: datetime,
        location: GeoPoint,
        now: datetime,
        *,
        breed: str | None = None,
        size: Size | None = None,
        sex: Sex | None = None,
        microchip: Microchip | None = None,
        description: str | None = None,
        photo_id: UUID | None = None,
    ) -> FoundReport:
        return cls(
            id=report_id,
            reporter_id=reporter_id,
            species=species,
            colours=check_colours(colours),
            seen_at=check_seen_at(seen_at, now, "seen_at"),
            location=location,
            filed_at=now,
            breed=optional_text(breed, "breed", 100),
            size=size,
            sex=None if sex is Sex.UNKNOWN else sex,
            microchip=microchip,
            description=optional_text(description, "description", 5000, multiline=True),
            photo_id=photo_id,
        )


@frozen
class Sighting:
    """Someone saw the pet of an open lost report; the owner family is notified at once."""

    id: UUID
    report_id: UUID
    family_id: UUID  # the family to notify
    reporter_id: UUID
    seen_at: datetime
    location: GeoPoint
    note: str | None
    recorded_at: datetime
    photo_id: UUID | None = None

    @classmethod
    def record(
        cls,
        sighting_id: UUID,
        report: LostReport,
        reporter_id: UUID,
        seen_at: datetime,
        location: GeoPoint,
        note: str | None,
        now: datetime,
        photo_id: UUID | None = None,
    ) -> Sighting:
        if not report.is_open:
            raise Conflict(f"the report is {report.status.value}; sightings go to open reports only")
        return cls(
            sighting_id,
            report.id,
            report.family_id,
            reporter_id,
            check_seen_at(seen_at, now, "seen_at"),
            location,
            optional_text(note, "note", 2000, multiline=True),
            now,
            photo_id,
        )

    @property
    def notice_key(self) -> str:
        """Idempotency key of the notice to the owner family."""
        return f"sighting:{self.id}"


@frozen
class PublicLostReport:
    """What anyone may see of a lost report: the animal and a ~100 m cell, never the owner."""

    report_id: UUID
    status: ReportStatus
    pet_name: str
    species: Species
    breed: str | None
    colours: tuple[str, ...]
    size: Size | None
    photo_id: UUID | None
    location: GeoPoint
    last_seen_at: datetime


def public_view(report: LostReport, pet: Pet, photo_id: UUID | None = None) -> PublicLostReport:
    """The public view. The description and reward stay private: free text an owner may fill
    with a phone number or an address; finders reach the owner through sightings."""
    if pet.id != report.pet_id:
        raise ValueError("the pet is not the report's pet")
    return PublicLostReport(
        report_id=report.id,
        status=report.status,
        pet_name=pet.name,
        species=pet.species,
        breed=pet.breed,
        colours=tuple(pet.colors),
        size=pet.size,
        photo_id=photo_id,
        location=rounded(report.location, PUBLIC_ROUNDING_M),
        last_seen_at=report.last_seen_at,
    )


@frozen
class NearbyReport:
    """One hit of the public nearby search: the public view and the distance to its public
    (~100 m) point. Never the distance to the exact point: exact distances from three
    searches would give the last-seen point away (trilateration)."""

    report: PublicLostReport
    distance_km: float


# --- who is alerted when a report opens -------------------------------------------------


@frozen
class AlertSettings:
    daily_cap: int = 10  # lost-pet alerts per recipient per day


@frozen
class AlertCandidate:
    """A user with an alert location, as the geo index found them, with what the rule needs.

    `consented` is the `location_alerts` state at decision time (has_location_alerts_consent);
    `alerts_today` counts lost-pet alerts already sent to the user since their local midnight.
    """

    user_id: UUID
    alert_location: GeoPoint
    alert_radius_km: float
    consented: bool
    family_ids: frozenset[UUID]
    alerts_today: int


@frozen
class LostPetAlert:
    report_id: UUID
    recipient_id: UUID
    distance_km: float
    key: str


def alert_key(report_id: UUID, recipient_id: UUID) -> str:
    """One lost-pet alert per report and recipient, ever (channels append their own suffix)."""
    return f"lost_pet_alert:{report_id}:{recipient_id}"


def has_location_alerts_consent(history: Iterable[ConsentRecord]) -> bool:
    latest = current_consents(history).get(Purpose.LOCATION_ALERTS)
    return latest is not None and latest.granted


def alert_recipients(
    report: LostReport, candidates: Iterable[AlertCandidate], settings: AlertSettings | None = None
) -> list[LostPetAlert]:
    """Who is alerted about an open report, nearest first; nobody for a report not open.

    A candidate qualifies when they consented, their alert location is within both the
    report's radius and their own radius (boundaries included), they are not in the pet's
    family, and they were sent fewer than the daily cap today. A user listed twice (several
    alert locations) gets one alert, measured from their nearest qualifying location.
    """
    cap = (settings or AlertSettings()).daily_cap
    if not report.is_open:
        return []
    best: dict[UUID, LostPetAlert] = {}
    for c in candidates:
        if not c.consented or report.family_id in c.family_ids or c.alerts_today >= cap:
            continue
        d = distance_km(report.location, c.alert_location)
        if d > report.radius_km or d > c.alert_radius_km:
            continue
        if c.user_id not in best or d < best[c.user_id].distance_km:
            best[c.user_id] = LostPetAlert(report.id, c.user_id, d, alert_key(report.id, c.user_id))
    return sorted(best.values(), key=lambda a: (a.distance_km, str(a.recipient_id)))
