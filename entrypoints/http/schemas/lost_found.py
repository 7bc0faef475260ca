"""Lost reports, sightings, found reports and matches."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.model.lost_found import LostReport, PublicLostReport, ReportStatus, Sighting
from tailtracker_core.model.matching import Match
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Sex, Size, Species
from tailtracker_core.usecases.deps import UNSET as CORE_UNSET
from tailtracker_core.usecases.lost_found import FoundReportDraft, LostReportChanges, NearbyReport

from . import utc

__all__ = [
    "FoundReportIn",
    "FoundReportOut",
    "LostReportIn",
    "LostReportOut",
    "LostReportPatch",
    "MatchOut",
    "MatchPage",
    "NearbyPage",
    "NearbyReportOut",
    "PublicLostReportOut",
    "SightingIn",
    "SightingOut",
    "SightingPage",
]

Lat = Annotated[float, Meta(ge=-90, le=90, description="WGS84 degrees", examples=[51.5072])]
Lon = Annotated[float, Meta(ge=-180, le=180, description="WGS84 degrees", examples=[-0.1276])]
Radius = Annotated[
    float, Meta(gt=0, description="km, above 0 and at most your tier's alert radius (403 above it)")
]
Colours = Annotated[list[Annotated[str, Meta(max_length=40)]], Meta(max_length=10)]
Chip = Annotated[str, Meta(max_length=32, description="15 digits (ISO), 10 alphanumerics or 9 digits.")]


class Location(msgspec.Struct, forbid_unknown_fields=True):
    lat: Lat
    lon: Lon

    def point(self, field: str = "location") -> GeoPoint:
        return GeoPoint.parse(self.lat, self.lon, field=field)

    @classmethod
    def of(cls, point: GeoPoint) -> Location:
        return cls(point.lat, point.lon)


class LostReportIn(msgspec.Struct, forbid_unknown_fields=True):
    pet_id: UUID
    last_seen_at: Annotated[datetime, Meta(description="With a zone; not in the future.")]
    location: Location
    radius_km: Radius
    description: Annotated[str, Meta(max_length=5000)] | None = None
    reward: Annotated[str, Meta(max_length=200)] | None = None


class LostReportPatch(msgspec.Struct, forbid_unknown_fields=True):
    """`status` found or closed ends the report (final); the free text changes while open."""

    status: Literal["found", "closed"] | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=5000)] | UnsetType | None = UNSET
    reward: Annotated[str, Meta(max_length=200)] | UnsetType | None = UNSET

    def changes(self) -> LostReportChanges:
        return LostReportChanges(
            status=CORE_UNSET if self.status is UNSET else ReportStatus(self.status),
            description=CORE_UNSET if self.description is UNSET else self.description,
            reward=CORE_UNSET if self.reward is UNSET else self.reward,
        )


class PublicLostReportOut(msgspec.Struct, tag_field="view", tag="public"):
    """What anyone sees: the animal, a ~100 m cell and the last-seen time; never the owner."""

    id: UUID
    status: ReportStatus
    pet_name: str
    species: Species
    breed: str | None
    colors: list[str]
    size: Size | None
    photo_id: UUID | None
    location: Location
    last_seen_at: datetime

    @classmethod
    def of(cls, v: PublicLostReport) -> PublicLostReportOut:
        return cls(
            id=v.report_id,
            status=v.status,
            pet_name=v.pet_name,
            species=v.species,
            breed=v.breed,
            colors=list(v.colours),
            size=v.size,
            photo_id=v.photo_id,
            location=Location.of(v.location),
            last_seen_at=utc(v.last_seen_at),
        )


class LostReportOut(msgspec.Struct, tag_field="view", tag="family"):
    """The family's full view: the exact point, radius, free text and history."""

    id: UUID
    pet_id: UUID
    family_id: UUID
    status: ReportStatus
    pet_name: str
    species: Species
    last_seen_at: datetime
    location: Location
    radius_km: float
    description: str | None
    reward: str | None
    opened_at: datetime
    resolved_at: datetime | None
    public_location: Location

    @classmethod
    def of(cls, r: LostReport, public: PublicLostReport) -> LostReportOut:
        return cls(
            id=r.id,
            pet_id=r.pet_id,
            family_id=r.family_id,
            status=r.status,
            pet_name=public.pet_name,
            species=public.species,
            last_seen_at=utc(r.last_seen_at),
            location=Location.of(r.location),
            radius_km=r.radius_km,
            description=r.description,
            reward=r.reward,
            opened_at=utc(r.opened_at),
            resolved_at=utc(r.resolved_at) if r.resolved_at else None,
            public_location=Location.of(public.location),
        )


class NearbyReportOut(msgspec.Struct):
    id: UUID
    status: ReportStatus
    pet_name: str
    species: Species
    breed: str | None
    colors: list[str]
    size: Size | None
    photo_id: UUID | None
    location: Location
    last_seen_at: datetime
    distance_km: float

    @classmethod
    def of(cls, n: NearbyReport) -> NearbyReportOut:
        v = n.report
        return cls(
            id=v.report_id,
            status=v.status,
            pet_name=v.pet_name,
            species=v.species,
            breed=v.breed,
            colors=list(v.colours),
            size=v.size,
            photo_id=v.photo_id,
            location=Location.of(v.location),
            last_seen_at=utc(v.last_seen_at),
            distance_km=round(n.distance_km, 1),
        )


class NearbyPage(msgspec.Struct):
    """Nearest first, at most `limit`; there are no further pages (next_cursor is null)."""

    items: list[NearbyReportOut]
    next_cursor: str | None = None


class SightingIn(msgspec.Struct, forbid_unknown_fields=True):
    seen_at: Annotated[datetime, Meta(description="With a zone; not in the future.")]
    location: Location
    note: Annotated[str, Meta(max_length=2000)] | None = None


class SightingOut(msgspec.Struct):
    id: UUID
    report_id: UUID
    reporter_id: UUID
    seen_at: datetime
    location: Location
    note: str | None
    recorded_at: datetime

    @classmethod
    def of(cls, s: Sighting) -> SightingOut:
        return cls(
            id=s.id,
            report_id=s.report_id,
            reporter_id=s.reporter_id,
            seen_at=utc(s.seen_at),
            location=Location.of(s.location),
            note=s.note,
            recorded_at=utc(s.recorded_at),
        )


class SightingPage(msgspec.Struct):
    items: list[SightingOut]
    next_cursor: str | None


class FoundReportIn(msgspec.Struct, forbid_unknown_fields=True):
    species: Species
    seen_at: Annotated[datetime, Meta(description="With a zone; not in the future.")]
    location: Location
    colors: Colours = []
    breed: Annotated[str, Meta(max_length=100)] | None = None
    size: Size | None = None
    sex: Sex | None = None
    microchip: Chip | None = None
    description: Annotated[str, Meta(max_length=5000)] | None = None

    def draft(self) -> FoundReportDraft:
        chip = (
            None if self.microchip is None or not self.microchip.strip() else Microchip.parse(self.microchip)
        )
        return FoundReportDraft(
            species=self.species,
            colours=list(self.colors),
            seen_at=self.seen_at,
            location=self.location.point(),
            breed=self.breed,
            size=self.size,
            sex=self.sex,
            microchip=chip,
            description=self.description,
        )


class MatchOut(msgspec.Struct):
    """`report_id` is the other side: the found report of a lost report's match, and the
    other way round."""

    report_id: UUID
    score: float
    distance_km: float
    certain: bool

    @classmethod
    def for_lost(cls, m: Match) -> MatchOut:
        return cls(m.found_report_id, round(m.score, 4), round(m.distance_km, 1), m.certain)

    @classmethod
    def for_found(cls, m: Match) -> MatchOut:
        return cls(m.lost_report_id, round(m.score, 4), round(m.distance_km, 1), m.certain)


class MatchPage(msgspec.Struct):
    """Best first (a chip match, then by score), at most `limit`; no further pages."""

    items: list[MatchOut]
    next_cursor: str | None = None


class FoundReportOut(msgspec.Struct):
    id: UUID
    species: Species
    colors: list[str]
    breed: str | None
    size: Size | None
    sex: Sex | None
    microchip: str | None
    seen_at: datetime
    location: Location
    description: str | None
    filed_at: datetime
    matches: list[MatchOut]
