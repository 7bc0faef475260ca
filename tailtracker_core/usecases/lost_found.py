"""Lost and found: open and resolve lost reports, their public and family views, the nearby
search, sightings, found reports and the matches between them.

The rules are the core's (`model.lost_found`, `model.matching`, docs/lost-and-found-rules.md);
storage and the geo index are ports (docs/lost-and-found.md). Notifications go through
`usecases.notifications.enqueue` in the same transaction as the change that causes them:
a sighting notifies the pet's family at once, a NEW match above the notify threshold notifies
both sides, each once per subject, recipient and channel. The neighbourhood alert fan-out
is `usecases.lost_alerts` (it starts from the `LostReportOpened` event recorded here).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

from attrs import frozen

from tailtracker_core.errors import Conflict, NotFound, PreconditionFailed
from tailtracker_core.events import LostReportOpened, LostReportResolved
from tailtracker_core.model.geo import GeoPoint, distance_km
from tailtracker_core.model.lost_found import (
    FoundReport,
    LostReport,
    NearbyReport,
    PublicLostReport,
    ReportStatus,
    Sighting,
    optional_text,
)
from tailtracker_core.model.matching import (
    LostPet,
    Match,
    MatchSettings,
    match_found_report,
    match_lost_report,
)
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.notifications import requests_for
from tailtracker_core.model.pets import Pet, Sex, Size, Species
from tailtracker_core.model.reminders import Category
from tailtracker_core.model.roles import Action
from tailtracker_core.model.tiers import Tier
from tailtracker_core.policy import require
from tailtracker_core.ports import GeoIndex, UnitOfWork, UnitOfWorkFactory
from tailtracker_core.usecases.deps import UNSET, Deps, Unset, tier_of_family
from tailtracker_core.usecases.notifications import enqueue, recipients

__all__ = [
    "FoundReportDraft",
    "LostReportChanges",
    "LostReportView",
    "NearbyReport",
    "SEARCH_LIMIT",
    "file_found_report",
    "geo_of",
    "pet_name",
    "list_sightings",
    "matches_for_found_report",
    "matches_for_lost_report",
    "nearby_public",
    "open_lost_report",
    "record_sighting",
    "update_lost_report",
    "view_lost_report",
]

SEARCH_LIMIT = 100  # most results of one nearby search (nearest first)
CANDIDATE_LIMIT = 500  # most candidates one new report is matched against


def geo_of(deps: Deps) -> GeoIndex:
    if deps.geo_index is None:
        raise RuntimeError("Deps.geo_index is not set; the composition root sets it")
    return deps.geo_index


def pet_name(uow: UnitOfWork, report_id: UUID) -> str:
    """The pet's name as the public view shows it (notices name the pet)."""
    public = uow.lost_reports.public([report_id])
    return public[0].pet_name if public else "a pet"


def _link(deps: Deps, path: str) -> str:
    return f"{deps.config.public_base_url.rstrip('/')}{path}"


def _search_radius(deps: Deps, settings: MatchSettings) -> float:
    """Candidates of a found report: within max(report radius, 25 km) of each lost report;
    the widest report radius any tier allows bounds that from above."""
    widest = max(deps.config.tiers[t].alert_radius_km for t in Tier)
    return max(widest, settings.min_search_radius_km)


# --- lost reports ---------------------------------------------------------------------------


def open_lost_report(
    deps: Deps,
    actor: UUID,
    pet_id: UUID,
    last_seen_at: datetime,
    location: GeoPoint,
    radius_km: float,
    description: str | None = None,
    reward: str | None = None,
) -> LostReport:
    """A member or owner of the pet's family reports it lost. One open report per pet (409);
    the radius is checked against the family's tier. Records `LostReportOpened` (the geo cache
    and the alert fan-out start from it), matches the report against found reports filed so
    far (nearby ones, and any with the pet's chip wherever it was found) and notifies both
    sides of new matches above the threshold, all in one transaction."""
    now = deps.clock.now()
    settings = MatchSettings()
    with deps.uow(actor) as uow:
        pet = uow.pets.get(pet_id)
        require(uow.families.role_of(pet.family_id, actor) if pet else None, Action.EDIT, "pet")
        assert pet is not None
        family = uow.families.get(pet.family_id)
        assert family is not None
        tier, _ = tier_of_family(uow, deps, family.owners)
        existing = uow.lost_reports.open_for_pet(pet.id)
        report = LostReport.open(
            deps.ids.new_id(),
            pet,
            last_seen_at,
            location,
            radius_km,
            description,
            reward,
            tier=tier,
            existing=[existing] if existing else [],
            now=now,
            tiers=deps.config.tiers,
        )
        uow.lost_reports.add(report)
        uow.record(
            LostReportOpened(
                report_id=report.id,
                pet_id=pet.id,
                family_id=report.family_id,
                species=pet.species.value,
                lat=report.location.lat,
                lon=report.location.lon,
                radius_km=report.radius_km,
                opened_by=actor,
            )
        )
        lost = LostPet.of(report, pet)
        found = uow.found_reports.candidates(
            report.location,
            max(report.radius_km, settings.min_search_radius_km),
            pet.species,
            report.last_seen_at - settings.seen_before,
            report.last_seen_at + settings.seen_after,
            CANDIDATE_LIMIT,
        )
        if pet.microchip is not None:  # a chip identifies the animal wherever it was found (D36)
            near = {f.id for f in found}
            found += [
                f
                for f in uow.found_reports.with_chip(
                    pet.microchip, pet.species, report.last_seen_at - settings.seen_before, CANDIDATE_LIMIT
                )
                if f.id not in near
            ]
        _store_matches(deps, uow, match_lost_report(lost, found, settings), {report.id: lost}, now)
        uow.commit()
    return report


@frozen
class LostReportView:
    """What the caller may see of a report: the family's full detail or the public view."""

    public: PublicLostReport
    detail: LostReport | None = None  # set for members of the pet's family
    pet: Pet | None = None


def _family_report(uow: UnitOfWork, actor: UUID | None, report_id: UUID) -> LostReport | None:
    """The report when the actor is in its family, else None."""
    if actor is None:
        return None
    report = uow.lost_reports.get(report_id)
    if report is None or uow.families.role_of(report.family_id, actor) is None:
        return None
    return report


def view_lost_report(deps: Deps, actor: UUID | None, report_id: UUID) -> LostReportView:
    """Members of the pet's family see everything; anyone else (even signed out) the public
    view: the animal, a ~100 m cell and the last-seen time, never the owner."""
    with deps.uow(actor) as uow:
        public = uow.lost_reports.public([report_id])
        if not public:
            raise NotFound("lost report not found")
        report = _family_report(uow, actor, report_id)
        pet = uow.pets.get(report.pet_id) if report else None
        return LostReportView(public[0], report, pet)


@frozen
class LostReportChanges:
    status: ReportStatus | Unset = UNSET  # FOUND or CLOSED (the HTTP schema allows only these)
    description: str | Unset | None = UNSET
    reward: str | Unset | None = UNSET


def update_lost_report(
    deps: Deps,
    actor: UUID,
    report_id: UUID,
    changes: LostReportChanges,
    expected_version: int | None = None,
) -> LostReportView:
    """The family marks the report found or closed (final), or edits its free text."""
    now = deps.clock.now()
    with deps.uow(actor) as uow:
        report = uow.lost_reports.get(report_id)
        require(uow.families.role_of(report.family_id, actor) if report else None, Action.EDIT, "lost report")
        assert report is not None
        if expected_version is not None and expected_version != report.version:
            raise PreconditionFailed("the report changed since you read it; read it again")
        before, was_open = report.version, report.is_open
        changed = False
        if not isinstance(changes.description, Unset) or not isinstance(changes.reward, Unset):
            if not was_open:
                raise Conflict(f"the report is {report.status.value}; it can no longer change")
            if not isinstance(changes.description, Unset):
                report.description = optional_text(changes.description, "description", 5000, multiline=True)
            if not isinstance(changes.reward, Unset):
                report.reward = optional_text(changes.reward, "reward", 200)
            changed = True
        if changes.status is ReportStatus.FOUND:
            report.mark_found(now)
        elif changes.status is ReportStatus.CLOSED:
            report.close(now)
        resolved = was_open and not report.is_open
        if changed or resolved:
            report.version = before + 1  # one stored step, whatever changed
            uow.lost_reports.save(report)
        if resolved:
            uow.record(
                LostReportResolved(
                    report_id=report.id,
                    pet_id=report.pet_id,
                    family_id=report.family_id,
                    status=report.status.value,
                    resolved_by=actor,
                )
            )
        uow.commit()
        public = uow.lost_reports.public([report.id])
        pet = uow.pets.get(report.pet_id)
    return LostReportView(public[0], report, pet)


def nearby_public(
    geo: GeoIndex,
    uow: UnitOfWorkFactory,
    point: GeoPoint,
    radius_km: float,
    species: Species | None,
    limit: int,
) -> list[NearbyReport]:
    """The public nearby search once the radius is checked (`lost_queries.search_nearby`
    checks it against the caller's tier first): the geo index's hits (nearest first by
    the exact point, ties by id) as public views, re-checked against the store. The sync
    adapters of the `NearbyReader` port run this (memory, SQLite)."""
    hits = geo.nearby_open_reports(point, radius_km, species, limit)
    if not hits:
        return []
    with uow(None) as u:  # public views: the same for everyone
        views = {v.report_id: v for v in u.lost_reports.public([i for i, _ in hits])}
    # Re-checked against the store: a report closed since the index answered is left out.
    # The distance shown is to the public (~100 m) point, never to the exact one: exact
    # distances from three searches would give the last-seen point away (trilateration).
    return [
        NearbyReport(views[i], distance_km(point, views[i].location))
        for i, _ in hits
        if i in views and views[i].status is ReportStatus.OPEN
    ]


# --- sightings ----------------------------------------------------------------------------


def record_sighting(
    deps: Deps,
    actor: UUID,
    report_id: UUID,
    seen_at: datetime,
    location: GeoPoint,
    note: str | None = None,
) -> Sighting:
    """Anyone signed in reports seeing the pet of an open report; every member of the pet's
    family (but the reporter) is notified at once: the deliveries are enqueued in this
    transaction, never deferred by quiet hours (it is their own pet)."""
    now = deps.clock.now()
    with deps.uow(actor) as uow:
        open_pets = uow.lost_reports.open_lost_pets([report_id])
        if not open_pets:
            public = uow.lost_reports.public([report_id])
            if public:
                raise Conflict(f"the report is {public[0].status.value}; sightings go to open reports only")
            raise NotFound("lost report not found")
        lost = open_pets[0]
        sighting = Sighting.record(deps.ids.new_id(), lost.report, actor, seen_at, location, note, now)
        uow.sightings.add(sighting)
        family = [u for u in uow.families.member_ids(lost.report.family_id) if u != actor]
        params = {
            "pet_name": pet_name(uow, report_id),
            "seen_at": sighting.seen_at.strftime("%Y-%m-%d %H:%M UTC"),
            "link": _link(deps, f"/v1/lost-reports/{report_id}/sightings"),
            "pet_id": str(lost.report.pet_id),
            "report_id": str(report_id),
        }
        requests = requests_for(
            recipients(uow, family),
            Category.SIGHTING,
            sighting.notice_key,
            "sighting",
            params,
            now,
            about_own_pet=True,
        )
        enqueue(uow, deps.ids, now, requests)
        uow.commit()
    return sighting


def list_sightings(
    deps: Deps, actor: UUID, report_id: UUID, after: UUID | None, limit: int
) -> list[Sighting]:
    """The family's view of who saw their pet where (members only; others get 404)."""
    with deps.uow(actor) as uow:
        report = uow.lost_reports.get(report_id)
        require(uow.families.role_of(report.family_id, actor) if report else None, Action.READ, "lost report")
        return uow.sightings.list_for_report(report_id, after, limit)


# --- found reports and matches --------------------------------------------------------------


@frozen
class FoundReportDraft:
    species: Species
    colours: Sequence[str]
    seen_at: datetime
    location: GeoPoint
    breed: str | None = None
    size: Size | None = None
    sex: Sex | None = None
    microchip: Microchip | None = None
    description: str | None = None


def file_found_report(deps: Deps, actor: UUID, draft: FoundReportDraft) -> tuple[FoundReport, list[Match]]:
    """Anyone signed in reports an animal found or seen loose. It is matched at once against
    the open lost reports the geo index finds within max(report radius, 25 km), and against
    every open report whose pet carries the found animal's chip, wherever it is; matches are
    stored and both sides of each NEW match above the notify threshold are notified. Returns
    the report and its matches, best first."""
    now = deps.clock.now()
    settings = MatchSettings()
    found = FoundReport.file(
        deps.ids.new_id(),
        actor,
        draft.species,
        draft.colours,
        draft.seen_at,
        draft.location,
        now,
        breed=draft.breed,
        size=draft.size,
        sex=draft.sex,
        microchip=draft.microchip,
        description=draft.description,
    )
    hits = geo_of(deps).nearby_open_reports(
        found.location, _search_radius(deps, settings), found.species, CANDIDATE_LIMIT
    )
    with deps.uow(actor) as uow:
        uow.found_reports.add(found)
        candidate_ids = [i for i, _ in hits]
        if found.microchip is not None:  # a chip identifies the animal wherever it went missing (D36)
            candidate_ids += uow.lost_reports.open_ids_with_chip(
                found.microchip, found.species, CANDIDATE_LIMIT
            )
        open_lost = uow.lost_reports.open_lost_pets(candidate_ids)
        matches = match_found_report(found, open_lost, settings)
        _store_matches(deps, uow, matches, {lp.report.id: lp for lp in open_lost}, now, {found.id: found})
        uow.commit()
    return found, matches


def _store_matches(
    deps: Deps,
    uow: UnitOfWork,
    matches: Iterable[Match],
    lost_pets: dict[UUID, LostPet],
    now: datetime,
    found_reports: dict[UUID, FoundReport] | None = None,
) -> None:
    """Upsert every match; for a NEW pair that notifies, tell the pet's family and the finder
    (delivery keys make each notice once-only per recipient and channel, even under races)."""
    for match in matches:
        is_new = uow.matches.upsert(match)
        if not (is_new and match.notify):
            continue
        lost = lost_pets[match.lost_report_id]
        finder = (found_reports or {}).get(match.found_report_id) or uow.found_reports.get(
            match.found_report_id
        )
        params = {
            "pet_name": pet_name(uow, lost.report.id),
            "score": f"{match.score:.2f}",
            "distance_km": f"{match.distance_km:.1f}",
            "report_id": str(lost.report.id),
        }
        family = uow.families.member_ids(lost.report.family_id)
        to_family = requests_for(
            recipients(uow, family),
            Category.LOST_PET_MATCH,
            match.key,
            "lost_pet_match",
            {**params, "link": _link(deps, f"/v1/lost-reports/{lost.report.id}/matches")},
            now,
        )
        to_finder = []
        if finder is not None and finder.reporter_id not in family:
            to_finder = requests_for(
                recipients(uow, [finder.reporter_id]),
                Category.LOST_PET_MATCH,
                match.key,
                "lost_pet_match",
                {**params, "link": _link(deps, f"/v1/lost-reports/{lost.report.id}")},
                now,
            )
        enqueue(uow, deps.ids, now, [*to_family, *to_finder])


def matches_for_lost_report(deps: Deps, actor: UUID, report_id: UUID, limit: int) -> list[Match]:
    """The report's matches, best first (its family only; others get 404)."""
    with deps.uow(actor) as uow:
        report = uow.lost_reports.get(report_id)
        require(uow.families.role_of(report.family_id, actor) if report else None, Action.READ, "lost report")
        return uow.matches.for_lost_report(report_id, limit)


def matches_for_found_report(deps: Deps, actor: UUID, report_id: UUID, limit: int) -> list[Match]:
    """The found report's matches, best first (its reporter only; others get 404)."""
    with deps.uow(actor) as uow:
        found = uow.found_reports.get(report_id)
        if found is None or found.reporter_id != actor:
            raise NotFound("found report not found")
        return uow.matches.for_found_report(report_id, limit)
