"""In-memory lost reports, found reports, sightings and matches (the reference adapters of
the lost-and-found ports). They work on the unit of work's copy of the store (`_Data`)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from tailtracker_core.errors import Conflict
from tailtracker_core.model.geo import GeoPoint, distance_km
from tailtracker_core.model.lost_found import (
    FoundReport,
    LostReport,
    PublicLostReport,
    ReportStatus,
    Sighting,
    public_view,
)
from tailtracker_core.model.matching import LostPet, Match
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Species

if TYPE_CHECKING:
    from adapters.memory.uow import _Data

__all__ = ["MemoryFoundReports", "MemoryLostReports", "MemoryMatches", "MemorySightings", "match_order"]


def match_order(m: Match) -> tuple[bool, float, float, str, str]:
    """Best first: certain, then score, then nearest, then ids (as matching._ranked)."""
    return (not m.certain, -m.score, m.distance_km, str(m.lost_report_id), str(m.found_report_id))


class MemoryLostReports:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, report: LostReport) -> None:
        if report.is_open and any(
            r.pet_id == report.pet_id and r.is_open for r in self.d.lost_reports.values()
        ):
            raise Conflict("this pet already has an open lost report; update or close it first")
        pet = self.d.pets.get(report.pet_id)
        if pet is None:
            raise Conflict("the pet of this report does not exist")
        self.d.lost_reports[report.id] = copy.deepcopy(report)
        self.d.lost_species[report.id] = pet.species

    def get(self, report_id: UUID) -> LostReport | None:
        return copy.deepcopy(self.d.lost_reports.get(report_id))

    def save(self, report: LostReport) -> None:
        stored = self.d.lost_reports.get(report.id)
        if stored is None:
            self.add(report)
            return
        if stored.version != report.version - 1:
            raise Conflict(
                "this lost report was changed by someone else at the same time; read it again and retry"
            )
        if report.is_open and any(
            r.pet_id == report.pet_id and r.is_open and r.id != report.id
            for r in self.d.lost_reports.values()
        ):
            raise Conflict("this pet already has an open lost report; update or close it first")
        self.d.lost_reports[report.id] = copy.deepcopy(report)

    def open_for_pet(self, pet_id: UUID) -> LostReport | None:
        found = (r for r in self.d.lost_reports.values() if r.pet_id == pet_id and r.is_open)
        return copy.deepcopy(next(found, None))

    def list_for_families(
        self, family_ids: Sequence[UUID], status: ReportStatus | None, after: UUID | None, limit: int
    ) -> list[LostReport]:
        wanted = set(family_ids)
        mine = sorted(
            (
                r
                for r in self.d.lost_reports.values()
                if r.family_id in wanted
                and (status is None or r.status is status)
                and (after is None or r.id > after)
            ),
            key=lambda r: r.id,
        )
        return [copy.deepcopy(r) for r in mine[: max(limit, 0)]]

    def public(self, report_ids: Sequence[UUID]) -> list[PublicLostReport]:
        out = []
        for report_id in dict.fromkeys(report_ids):
            report = self.d.lost_reports.get(report_id)
            pet = self.d.pets.get(report.pet_id) if report else None
            if report is not None and pet is not None:
                out.append(public_view(report, pet))
        return out

    def open_lost_pets(self, report_ids: Sequence[UUID]) -> list[LostPet]:
        out = []
        for report_id in dict.fromkeys(report_ids):
            report = self.d.lost_reports.get(report_id)
            pet = self.d.pets.get(report.pet_id) if report else None
            if report is not None and pet is not None and report.is_open:
                out.append(LostPet.of(copy.deepcopy(report), copy.deepcopy(pet)))
        return out

    def open_ids_with_chip(self, chip: Microchip, species: Species, limit: int) -> list[UUID]:
        chipped = {p.id for p in self.d.pets.values() if p.microchip == chip and p.species is species}
        ids = sorted(r.id for r in self.d.lost_reports.values() if r.is_open and r.pet_id in chipped)
        return ids[: max(limit, 0)]


class MemoryFoundReports:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, report: FoundReport) -> None:
        if report.id in self.d.found_reports:
            raise Conflict("this found report exists already")
        self.d.found_reports[report.id] = report

    def get(self, report_id: UUID) -> FoundReport | None:
        return self.d.found_reports.get(report_id)

    def list_for_reporter(self, reporter_id: UUID, after: UUID | None, limit: int) -> list[FoundReport]:
        mine = sorted(
            (
                r
                for r in self.d.found_reports.values()
                if r.reporter_id == reporter_id and (after is None or r.id > after)
            ),
            key=lambda r: r.id,
        )
        return mine[: max(limit, 0)]

    def candidates(
        self,
        point: GeoPoint,
        radius_km: float,
        species: Species,
        seen_from: datetime,
        seen_until: datetime,
        limit: int,
    ) -> list[FoundReport]:
        near = [
            (distance_km(point, r.location), r)
            for r in self.d.found_reports.values()
            if r.species is species and seen_from <= r.seen_at <= seen_until
        ]
        kept = sorted(((d, r) for d, r in near if d <= radius_km), key=lambda dr: (dr[0], dr[1].id))
        return [r for _, r in kept[: max(limit, 0)]]

    def with_chip(
        self, chip: Microchip, species: Species, seen_from: datetime, limit: int
    ) -> list[FoundReport]:
        chipped = [
            r
            for r in self.d.found_reports.values()
            if r.microchip == chip and r.species is species and r.seen_at >= seen_from
        ]
        latest = sorted(chipped, key=lambda r: r.id)
        latest.sort(key=lambda r: r.seen_at, reverse=True)
        return latest[: max(limit, 0)]


class MemorySightings:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, sighting: Sighting) -> None:
        if sighting.id in self.d.sightings:
            raise Conflict("this sighting exists already")
        self.d.sightings[sighting.id] = sighting

    def list_for_report(self, report_id: UUID, after: UUID | None, limit: int) -> list[Sighting]:
        mine = sorted(
            (
                s
                for s in self.d.sightings.values()
                if s.report_id == report_id and (after is None or s.id > after)
            ),
            key=lambda s: s.id,
        )
        return mine[: max(limit, 0)]


class MemoryMatches:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def upsert(self, match: Match) -> bool:
        key = (match.lost_report_id, match.found_report_id)
        new = key not in self.d.matches
        self.d.matches[key] = match
        return new

    def for_lost_report(self, lost_report_id: UUID, limit: int) -> list[Match]:
        mine = [m for (lost, _), m in self.d.matches.items() if lost == lost_report_id]
        return sorted(mine, key=match_order)[: max(limit, 0)]

    def for_found_report(self, found_report_id: UUID, limit: int) -> list[Match]:
        mine = [m for (_, found), m in self.d.matches.items() if found == found_report_id]
        return sorted(mine, key=match_order)[: max(limit, 0)]
