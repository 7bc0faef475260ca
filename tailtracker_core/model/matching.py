"""Matching found reports against open lost reports (domain.md, "Lost and found").

A shared microchip of the same species is a certain match (1.0). Otherwise a candidate
within the distance and time window is scored by a weighted sum of components, each in
[0, 1], with weights summing to 1. Decisions where the domain page is silent are in
docs/lost-and-found-rules.md.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable
from datetime import timedelta
from uuid import UUID

from attrs import frozen

from tailtracker_core.model.geo import distance_km
from tailtracker_core.model.lost_found import FoundReport, LostReport
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Pet, Sex, Size, Species

__all__ = [
    "LostPet",
    "Match",
    "MatchSettings",
    "ScoreParts",
    "breed_similarity",
    "colour_similarity",
    "match_found_report",
    "match_key",
    "match_lost_report",
    "normalise_breed",
    "normalise_colour",
    "score_pair",
    "sex_similarity",
    "size_similarity",
]

_DAY_S = 86400.0
_UNKNOWN_BREEDS = frozenset({"", "unknown", "?"})


@frozen
class MatchSettings:
    distance_weight: float = 0.35
    distance_scale_km: float = 5.0
    time_weight: float = 0.15
    time_scale_days: float = 14.0
    breed_weight: float = 0.20
    colour_weight: float = 0.20
    size_weight: float = 0.05
    sex_weight: float = 0.05
    min_search_radius_km: float = 25.0
    seen_before: timedelta = timedelta(days=1)
    seen_after: timedelta = timedelta(days=60)
    min_score: float = 0.30  # returned at or above this
    notify_above: float = 0.60  # both sides notified of new matches above this

    def __attrs_post_init__(self) -> None:
        weights = self.weights
        if min(weights) < 0 or not math.isclose(sum(weights), 1.0, abs_tol=1e-9):
            raise ValueError("match weights must be >= 0 and sum to 1")
        if self.distance_scale_km <= 0 or self.time_scale_days <= 0:
            raise ValueError("distance and time scales must be positive")

    @property
    def weights(self) -> tuple[float, ...]:
        return (
            self.distance_weight,
            self.time_weight,
            self.breed_weight,
            self.colour_weight,
            self.size_weight,
            self.sex_weight,
        )


@frozen
class LostPet:
    """An open lost report with the traits of its pet, as matching needs them."""

    report: LostReport
    species: Species
    breed: str | None = None
    colours: tuple[str, ...] = ()
    size: Size | None = None
    sex: Sex | None = None
    microchip: Microchip | None = None

    @classmethod
    def of(cls, report: LostReport, pet: Pet) -> LostPet:
        if pet.id != report.pet_id:
            raise ValueError("the pet is not the report's pet")
        return cls(report, pet.species, pet.breed, tuple(pet.colors), pet.size, pet.sex, pet.microchip)


@frozen
class ScoreParts:
    """Each component in [0, 1], before weighting."""

    distance: float
    time: float
    breed: float
    colours: float
    size: float
    sex: float


@frozen
class Match:
    lost_report_id: UUID
    found_report_id: UUID
    score: float
    certain: bool  # same microchip
    distance_km: float
    days: float  # |found.seen_at - lost.last_seen_at| in days
    parts: ScoreParts | None  # None for a certain match
    notify: bool

    @property
    def key(self) -> str:
        return match_key(self.lost_report_id, self.found_report_id)


def match_key(lost_report_id: UUID, found_report_id: UUID) -> str:
    """One match notice per (lost, found) pair and side, ever."""
    return f"lost_pet_match:{lost_report_id}:{found_report_id}"


# --- components ---------------------------------------------------------------------------


def normalise_breed(breed: str | None) -> str | None:
    """Case-folded, NFKC, inner whitespace collapsed; None when empty or "unknown"."""
    if breed is None:
        return None
    text = " ".join(unicodedata.normalize("NFKC", breed).casefold().split())
    return None if text in _UNKNOWN_BREEDS else text


def normalise_colour(colour: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", colour).casefold().split())


def _equal_unknown_different(a: object | None, b: object | None) -> float:
    if a is None or b is None:
        return 0.5
    return 1.0 if a == b else 0.0


def breed_similarity(a: str | None, b: str | None) -> float:
    return _equal_unknown_different(normalise_breed(a), normalise_breed(b))


def size_similarity(a: Size | None, b: Size | None) -> float:
    return _equal_unknown_different(a, b)


def sex_similarity(a: Sex | None, b: Sex | None) -> float:
    return _equal_unknown_different(
        None if a is Sex.UNKNOWN else a,
        None if b is Sex.UNKNOWN else b,
    )


def colour_similarity(a: Iterable[str], b: Iterable[str]) -> float:
    """Jaccard overlap of the normalised sets; 0.5 (unknown) when both are empty."""
    sa = {c for c in map(normalise_colour, a) if c}
    sb = {c for c in map(normalise_colour, b) if c}
    if not sa and not sb:
        return 0.5
    return len(sa & sb) / len(sa | sb)


# --- scoring ------------------------------------------------------------------------------


def score_pair(found: FoundReport, lost: LostPet, settings: MatchSettings | None = None) -> Match | None:
    """The match between one found report and one lost pet, or None when they cannot match."""
    s = settings or MatchSettings()
    report = lost.report
    if not report.is_open or found.species != lost.species:
        return None
    delta = found.seen_at - report.last_seen_at
    if delta < -s.seen_before:
        return None
    d = distance_km(found.location, report.location)
    days = abs(delta.total_seconds()) / _DAY_S
    if found.microchip is not None and found.microchip == lost.microchip:
        return Match(report.id, found.id, 1.0, True, d, days, None, True)
    if delta > s.seen_after or d > max(report.radius_km, s.min_search_radius_km):
        return None
    parts = ScoreParts(
        distance=math.exp(-d / s.distance_scale_km),
        time=math.exp(-days / s.time_scale_days),
        breed=breed_similarity(found.breed, lost.breed),
        colours=colour_similarity(found.colours, lost.colours),
        size=size_similarity(found.size, lost.size),
        sex=sex_similarity(found.sex, lost.sex),
    )
    values = (parts.distance, parts.time, parts.breed, parts.colours, parts.size, parts.sex)
    total = math.fsum(w * v for w, v in zip(s.weights, values, strict=True))
    score = min(1.0, max(0.0, total))
    return Match(report.id, found.id, score, False, d, days, parts, score > s.notify_above)


def _ranked(matches: Iterable[Match | None], settings: MatchSettings) -> list[Match]:
    kept = [m for m in matches if m is not None and (m.certain or m.score >= settings.min_score)]
    return sorted(
        kept,
        key=lambda m: (not m.certain, -m.score, m.distance_km, str(m.lost_report_id), str(m.found_report_id)),
    )


def match_found_report(
    found: FoundReport, open_lost: Iterable[LostPet], settings: MatchSettings | None = None
) -> list[Match]:
    """Matches of a new found report, best first: certain (chip) matches, then by score."""
    s = settings or MatchSettings()
    return _ranked((score_pair(found, lost, s) for lost in open_lost), s)


def match_lost_report(
    lost: LostPet, found_reports: Iterable[FoundReport], settings: MatchSettings | None = None
) -> list[Match]:
    """The same rule from the other side: found reports matching a newly opened lost report."""
    s = settings or MatchSettings()
    return _ranked((score_pair(found, lost, s) for found in found_reports), s)
