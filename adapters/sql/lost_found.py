"""Lost reports, found reports, sightings and matches in SQL: tables, explicit mapping and the
repositories of the SQL unit of work (SQLite and PostgreSQL). See docs/lost-and-found.md.

Points are stored as `lat`/`lon` doubles on both dialects. On PostgreSQL the migration adds a
generated `location geography(Point, 4326)` column with a GiST index for the geo index; the
tables below do not name it, so the application never writes it.

On PostgreSQL the family-scoped reads go through row-level security; the cross-family reads
(`public`, `open_lost_pets`, `found_reports.candidates`) call the narrow SECURITY DEFINER
functions of migration 0003, which return only what their port method promises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql import mapping as pet_mapping
from adapters.sql.tables import _JSON, UtcDateTime, metadata, pets
from tailtracker_core.errors import Conflict
from tailtracker_core.model.geo import GeoPoint, bbox, distance_km, rounded
from tailtracker_core.model.lost_found import (
    PUBLIC_ROUNDING_M,
    FoundReport,
    LostReport,
    PublicLostReport,
    ReportStatus,
    Sighting,
)
from tailtracker_core.model.matching import LostPet, Match, ScoreParts
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Sex, Size, Species

__all__ = [
    "SqlFoundReports",
    "SqlLostReports",
    "SqlMatches",
    "SqlSightings",
    "found_reports",
    "lost_reports",
    "matches",
    "sightings",
]

Row = Mapping[Any, Any]
ConnectionSource = Callable[[], Connection]

lost_reports = Table(
    "lost_reports",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("pet_id", Uuid, ForeignKey("pets.id", ondelete="CASCADE"), nullable=False),
    Column("family_id", Uuid, ForeignKey("families.id", ondelete="CASCADE"), nullable=False),
    Column("species", String(16), nullable=False),  # the pet's when the report opened
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("lat", Double, nullable=False),
    Column("lon", Double, nullable=False),
    Column("public_lat", Double, nullable=False),  # rounded(location, 100 m): the public view's
    Column("public_lon", Double, nullable=False),
    Column("radius_km", Double, nullable=False),
    Column("description", Text),
    Column("reward", String(200)),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("resolved_at", UtcDateTime),
    Column("version", Integer, nullable=False),
    Index("ix_lost_reports_family_id_id", "family_id", "id"),
)

found_reports = Table(
    "found_reports",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("reporter_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("species", String(16), nullable=False),
    Column("colours", _JSON, nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
    Column("lat", Double, nullable=False),
    Column("lon", Double, nullable=False),
    Column("filed_at", UtcDateTime, nullable=False),
    Column("breed", String(100)),
    Column("size", String(16)),
    Column("sex", String(16)),
    Column("microchip", String(15)),
    Column("description", Text),
    Column("photo_id", Uuid),
    Index("ix_found_reports_reporter_id_id", "reporter_id", "id"),
    Index(
        "ix_found_reports_microchip",
        "microchip",
        sqlite_where=text("microchip IS NOT NULL"),
        postgresql_where=text("microchip IS NOT NULL"),
    ),
)

sightings = Table(
    "sightings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("report_id", Uuid, ForeignKey("lost_reports.id", ondelete="CASCADE"), nullable=False),
    Column("family_id", Uuid, nullable=False),
    Column("reporter_id", Uuid, nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
    Column("lat", Double, nullable=False),
    Column("lon", Double, nullable=False),
    Column("note", Text),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("photo_id", Uuid),
    Index("ix_sightings_report_id_id", "report_id", "id"),
)

matches = Table(
    "matches",
    metadata,
    Column("lost_report_id", Uuid, ForeignKey("lost_reports.id", ondelete="CASCADE"), primary_key=True),
    Column("found_report_id", Uuid, ForeignKey("found_reports.id", ondelete="CASCADE"), primary_key=True),
    Column("score", Double, nullable=False),
    Column("certain", Boolean, nullable=False),
    Column("distance_km", Double, nullable=False),
    Column("days", Double, nullable=False),
    Column("part_distance", Double),  # the six ScoreParts; NULL for a certain match
    Column("part_time", Double),
    Column("part_breed", Double),
    Column("part_colours", Double),
    Column("part_size", Double),
    Column("part_sex", Double),
    Column("notify", Boolean, nullable=False),
    Index("ix_matches_found_report_id", "found_report_id"),
)

LOST_FOUND_TABLES = ("lost_reports", "found_reports", "sightings", "matches")


# --- mapping ----------------------------------------------------------------------------------


def lost_report_row(r: LostReport) -> dict[str, Any]:
    public = rounded(r.location, PUBLIC_ROUNDING_M)
    return {
        "id": r.id,
        "pet_id": r.pet_id,
        "family_id": r.family_id,
        "last_seen_at": r.last_seen_at,
        "lat": r.location.lat,
        "lon": r.location.lon,
        "public_lat": public.lat,
        "public_lon": public.lon,
        "radius_km": r.radius_km,
        "description": r.description,
        "reward": r.reward,
        "opened_at": r.opened_at,
        "status": r.status.value,
        "resolved_at": r.resolved_at,
        "version": r.version,
    }


def lost_report_from(r: Row) -> LostReport:
    return LostReport(
        id=r["id"],
        pet_id=r["pet_id"],
        family_id=r["family_id"],
        last_seen_at=r["last_seen_at"],
        location=GeoPoint(r["lat"], r["lon"]),
        radius_km=r["radius_km"],
        description=r["description"],
        reward=r["reward"],
        opened_at=r["opened_at"],
        status=ReportStatus(r["status"]),
        resolved_at=r["resolved_at"],
        version=r["version"],
    )


def found_report_row(f: FoundReport) -> dict[str, Any]:
    return {
        "id": f.id,
        "reporter_id": f.reporter_id,
        "species": f.species.value,
        "colours": list(f.colours),
        "seen_at": f.seen_at,
        "lat": f.location.lat,
        "lon": f.location.lon,
        "filed_at": f.filed_at,
        "breed": f.breed,
        "size": f.size.value if f.size is not None else None,
        "sex": f.sex.value if f.sex is not None else None,
        "microchip": f.microchip.value if f.microchip is not None else None,
        "description": f.description,
        "photo_id": f.photo_id,
    }


def found_report_from(r: Row) -> FoundReport:
    return FoundReport(
        id=r["id"],
        reporter_id=r["reporter_id"],
        species=Species(r["species"]),
        colours=tuple(r["colours"]),
        seen_at=r["seen_at"],
        location=GeoPoint(r["lat"], r["lon"]),
        filed_at=r["filed_at"],
        breed=r["breed"],
        size=Size(r["size"]) if r["size"] is not None else None,
        sex=Sex(r["sex"]) if r["sex"] is not None else None,
        # validated when written (see mapping.pet_from)
        microchip=Microchip(r["microchip"]) if r["microchip"] is not None else None,
        description=r["description"],
        photo_id=r["photo_id"],
    )


def sighting_row(s: Sighting) -> dict[str, Any]:
    return {
        "id": s.id,
        "report_id": s.report_id,
        "family_id": s.family_id,
        "reporter_id": s.reporter_id,
        "seen_at": s.seen_at,
        "lat": s.location.lat,
        "lon": s.location.lon,
        "note": s.note,
        "recorded_at": s.recorded_at,
        "photo_id": s.photo_id,
    }


def sighting_from(r: Row) -> Sighting:
    return Sighting(
        id=r["id"],
        report_id=r["report_id"],
        family_id=r["family_id"],
        reporter_id=r["reporter_id"],
        seen_at=r["seen_at"],
        location=GeoPoint(r["lat"], r["lon"]),
        note=r["note"],
        recorded_at=r["recorded_at"],
        photo_id=r["photo_id"],
    )


_PARTS = ("distance", "time", "breed", "colours", "size", "sex")


def match_row(mt: Match) -> dict[str, Any]:
    row: dict[str, Any] = {
        "lost_report_id": mt.lost_report_id,
        "found_report_id": mt.found_report_id,
        "score": mt.score,
        "certain": mt.certain,
        "distance_km": mt.distance_km,
        "days": mt.days,
        "notify": mt.notify,
    }
    for name in _PARTS:
        row[f"part_{name}"] = getattr(mt.parts, name) if mt.parts is not None else None
    return row


def match_from(r: Row) -> Match:
    parts = None
    if r["part_distance"] is not None:
        parts = ScoreParts(*(r[f"part_{name}"] for name in _PARTS))
    return Match(
        lost_report_id=r["lost_report_id"],
        found_report_id=r["found_report_id"],
        score=r["score"],
        certain=r["certain"],
        distance_km=r["distance_km"],
        days=r["days"],
        parts=parts,
        notify=r["notify"],
    )


def public_from(r: Row) -> PublicLostReport:
    return PublicLostReport(
        report_id=r["id"],
        status=ReportStatus(r["status"]),
        pet_name=r["pet_name"],
        species=Species(r["species"]),
        breed=r["breed"],
        colours=tuple(r["colors"]),
        size=Size(r["size"]) if r["size"] is not None else None,
        photo_id=None,
        location=GeoPoint(r["public_lat"], r["public_lon"]),
        last_seen_at=r["last_seen_at"],
    )


# --- repositories ---------------------------------------------------------------------------


def _insert_unless_duplicate(conn: Connection, table: Table, row: dict[str, Any]) -> bool:
    """Insert, or do nothing on a unique violation (a failed statement would abort the whole
    PostgreSQL transaction); True when the row went in."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(row).on_conflict_do_nothing()
    return conn.execute(stmt.execution_options(preserve_rowcount=True)).rowcount == 1


_OPEN_CONFLICT = "this pet already has an open lost report; update or close it first"

_LOST_COLUMNS = ", ".join(c.name for c in lost_reports.c)
_PET_COLUMNS = ", ".join(c.name for c in pets.c)

# PostgreSQL: SECURITY DEFINER functions of migration 0003 (the cross-family paths).
_PUBLIC_PG = text(
    "SELECT id, status, pet_name, species, breed, colors, size, public_lat, public_lon, last_seen_at "
    "FROM tt_public_lost_reports(CAST(:ids AS uuid[]))"
).columns(id=Uuid, last_seen_at=UtcDateTime, colors=_JSON)
# Column lists come from the table definitions, never from input.
_OPEN_REPORTS_SQL = f"SELECT {_LOST_COLUMNS} FROM tt_open_lost_reports(CAST(:ids AS uuid[]))"  # noqa: S608
_OPEN_REPORTS_PG = text(_OPEN_REPORTS_SQL).columns(*lost_reports.c)
_OPEN_PETS_SQL = f"SELECT {_PET_COLUMNS} FROM tt_pets_of_open_lost_reports(CAST(:ids AS uuid[]))"  # noqa: S608
_OPEN_PETS_PG = text(_OPEN_PETS_SQL).columns(*pets.c)
# Migration 0018: the chip look-ups across families and reporters (D36).
_OPEN_WITH_CHIP_PG = text("SELECT id FROM tt_open_report_ids_with_chip(:chip, :species, :limit)").columns(
    id=Uuid
)


def _ids_param(ids: Sequence[UUID]) -> list[str]:
    return [str(i) for i in ids]


class SqlLostReports:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, report: LostReport) -> None:
        row = lost_report_row(report)
        # The pet's species, read as the actor (a family member may read its pets).
        row["species"] = select(pets.c.species).where(pets.c.id == report.pet_id).scalar_subquery()
        if not _insert_unless_duplicate(self._conn(), lost_reports, row):
            raise Conflict(_OPEN_CONFLICT)

    def get(self, report_id: UUID) -> LostReport | None:
        stmt = select(lost_reports).where(lost_reports.c.id == report_id)
        row = self._conn().execute(stmt).mappings().first()
        return lost_report_from(row) if row else None

    def save(self, report: LostReport) -> None:
        conn = self._conn()
        row = lost_report_row(report)
        if report.is_open:  # reopening is not a transition today; keep the one-open rule anyway
            clash = select(lost_reports.c.id).where(
                lost_reports.c.pet_id == report.pet_id,
                lost_reports.c.status == ReportStatus.OPEN.value,
                lost_reports.c.id != report.id,
            )
            if conn.execute(clash).first() is not None:
                raise Conflict(_OPEN_CONFLICT)
        stmt = update(lost_reports).where(
            lost_reports.c.id == report.id, lost_reports.c.version == report.version - 1
        )
        if conn.execute(stmt.values(row)).rowcount == 0:
            if conn.execute(select(lost_reports.c.id).where(lost_reports.c.id == report.id)).first():
                raise Conflict(
                    "this lost report was changed by someone else at the same time; read it again and retry"
                )
            self.add(report)

    def open_for_pet(self, pet_id: UUID) -> LostReport | None:
        stmt = select(lost_reports).where(
            lost_reports.c.pet_id == pet_id, lost_reports.c.status == ReportStatus.OPEN.value
        )
        row = self._conn().execute(stmt).mappings().first()
        return lost_report_from(row) if row else None

    def list_for_families(
        self, family_ids: Sequence[UUID], status: ReportStatus | None, after: UUID | None, limit: int
    ) -> list[LostReport]:
        if not family_ids or limit <= 0:
            return []
        stmt = (
            select(lost_reports)
            .where(lost_reports.c.family_id.in_(list(family_ids)))
            .order_by(lost_reports.c.id)
            .limit(limit)
        )
        if status is not None:
            stmt = stmt.where(lost_reports.c.status == status.value)
        if after is not None:
            stmt = stmt.where(lost_reports.c.id > after)
        return [lost_report_from(r) for r in self._conn().execute(stmt).mappings()]

    def public(self, report_ids: Sequence[UUID]) -> list[PublicLostReport]:
        wanted = list(dict.fromkeys(report_ids))
        if not wanted:
            return []
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            rows = conn.execute(_PUBLIC_PG, {"ids": _ids_param(wanted)}).mappings().all()
        else:
            stmt = (
                select(
                    lost_reports.c.id,
                    lost_reports.c.status,
                    lost_reports.c.public_lat,
                    lost_reports.c.public_lon,
                    lost_reports.c.last_seen_at,
                    pets.c.name.label("pet_name"),
                    pets.c.species,
                    pets.c.breed,
                    pets.c.colors,
                    pets.c.size,
                )
                .join(pets, pets.c.id == lost_reports.c.pet_id)
                .where(lost_reports.c.id.in_(wanted))
            )
            rows = conn.execute(stmt).mappings().all()
        by_id = {r["id"]: public_from(r) for r in rows}
        return [by_id[i] for i in wanted if i in by_id]

    def open_lost_pets(self, report_ids: Sequence[UUID]) -> list[LostPet]:
        wanted = list(dict.fromkeys(report_ids))
        if not wanted:
            return []
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            params = {"ids": _ids_param(wanted)}
            report_rows = conn.execute(_OPEN_REPORTS_PG, params).mappings().all()
            pet_rows = conn.execute(_OPEN_PETS_PG, params).mappings().all()
        else:
            opened = select(lost_reports).where(
                lost_reports.c.id.in_(wanted), lost_reports.c.status == ReportStatus.OPEN.value
            )
            report_rows = conn.execute(opened).mappings().all()
            pet_ids = [r["pet_id"] for r in report_rows]
            pet_rows = (
                conn.execute(select(pets).where(pets.c.id.in_(pet_ids))).mappings().all() if pet_ids else []
            )
        reports = {r["id"]: lost_report_from(r) for r in report_rows}
        pets_by_id = {p["id"]: pet_mapping.pet_from(p) for p in pet_rows}
        out = []
        for report_id in wanted:
            report = reports.get(report_id)
            if report is not None and report.pet_id in pets_by_id:
                out.append(LostPet.of(report, pets_by_id[report.pet_id]))
        return out

    def open_ids_with_chip(self, chip: Microchip, species: Species, limit: int) -> list[UUID]:
        if limit <= 0:
            return []
        conn = self._conn()
        params = {"chip": chip.value, "species": species.value, "limit": limit}
        if conn.dialect.name == "postgresql":
            return list(conn.execute(_OPEN_WITH_CHIP_PG, params).scalars())
        stmt = (
            select(lost_reports.c.id)
            .join(pets, pets.c.id == lost_reports.c.pet_id)
            .where(
                pets.c.microchip == chip.value,
                pets.c.species == species.value,
                lost_reports.c.status == ReportStatus.OPEN.value,
            )
            .order_by(lost_reports.c.id)
            .limit(limit)
        )
        return list(conn.execute(stmt).scalars())


_FOUND_COLUMNS = ", ".join(c.name for c in found_reports.c)
_CANDIDATES_SQL = (
    f"SELECT {_FOUND_COLUMNS} FROM tt_found_report_candidates("  # noqa: S608
    ":lat, :lon, :radius_m, :species, :seen_from, :seen_until)"
)
_CANDIDATES_PG = text(_CANDIDATES_SQL).columns(*found_reports.c)
_WITH_CHIP_SQL = (
    f"SELECT {_FOUND_COLUMNS} FROM tt_found_reports_with_chip(:chip, :species, :seen_from, :limit)"  # noqa: S608
)
_WITH_CHIP_PG = text(_WITH_CHIP_SQL).columns(*found_reports.c)


class SqlFoundReports:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, report: FoundReport) -> None:
        if not _insert_unless_duplicate(self._conn(), found_reports, found_report_row(report)):
            raise Conflict("this found report exists already")

    def get(self, report_id: UUID) -> FoundReport | None:
        stmt = select(found_reports).where(found_reports.c.id == report_id)
        row = self._conn().execute(stmt).mappings().first()
        return found_report_from(row) if row else None

    def list_for_reporter(self, reporter_id: UUID, after: UUID | None, limit: int) -> list[FoundReport]:
        if limit <= 0:
            return []
        stmt = (
            select(found_reports)
            .where(found_reports.c.reporter_id == reporter_id)
            .order_by(found_reports.c.id)
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(found_reports.c.id > after)
        return [found_report_from(r) for r in self._conn().execute(stmt).mappings()]

    def candidates(
        self,
        point: GeoPoint,
        radius_km: float,
        species: Species,
        seen_from: datetime,
        seen_until: datetime,
        limit: int,
    ) -> list[FoundReport]:
        if limit <= 0:
            return []
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            # PostGIS prefilters (sphere, with a metre of slack); the core's distance decides.
            params = {
                "lat": point.lat,
                "lon": point.lon,
                "radius_m": radius_km * 1000.0 * (1 + 1e-6) + 1.0,
                "species": species.value,
                "seen_from": seen_from,
                "seen_until": seen_until,
            }
            rows = conn.execute(_CANDIDATES_PG, params).mappings().all()
        else:
            box = bbox(point, radius_km)
            stmt = select(found_reports).where(
                found_reports.c.species == species.value,
                found_reports.c.seen_at >= seen_from,
                found_reports.c.seen_at <= seen_until,
                found_reports.c.lat.between(box.min_lat, box.max_lat),
                _lon_in(found_reports.c.lon, box.lon_ranges),
            )
            rows = conn.execute(stmt).mappings().all()
        near = [(distance_km(point, GeoPoint(r["lat"], r["lon"])), r) for r in rows]
        kept = sorted(((d, r) for d, r in near if d <= radius_km), key=lambda dr: (dr[0], dr[1]["id"]))
        return [found_report_from(r) for _, r in kept[:limit]]

    def with_chip(
        self, chip: Microchip, species: Species, seen_from: datetime, limit: int
    ) -> list[FoundReport]:
        if limit <= 0:
            return []
        conn = self._conn()
        params = {"chip": chip.value, "species": species.value, "seen_from": seen_from, "limit": limit}
        if conn.dialect.name == "postgresql":
            rows = conn.execute(_WITH_CHIP_PG, params).mappings().all()
        else:
            stmt = (
                select(found_reports)
                .where(
                    found_reports.c.microchip == chip.value,
                    found_reports.c.species == species.value,
                    found_reports.c.seen_at >= seen_from,
                )
                .order_by(found_reports.c.seen_at.desc(), found_reports.c.id)
                .limit(limit)
            )
            rows = conn.execute(stmt).mappings().all()
        return [found_report_from(r) for r in rows]


def _lon_in(col: Any, ranges: tuple[tuple[float, float], ...]) -> Any:
    return or_(*(col.between(lo, hi) for lo, hi in ranges))


class SqlSightings:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, sighting: Sighting) -> None:
        if not _insert_unless_duplicate(self._conn(), sightings, sighting_row(sighting)):
            raise Conflict("this sighting exists already")

    def list_for_report(self, report_id: UUID, after: UUID | None, limit: int) -> list[Sighting]:
        if limit <= 0:
            return []
        stmt = (
            select(sightings).where(sightings.c.report_id == report_id).order_by(sightings.c.id).limit(limit)
        )
        if after is not None:
            stmt = stmt.where(sightings.c.id > after)
        return [sighting_from(r) for r in self._conn().execute(stmt).mappings()]


def _best_first(stmt: Any) -> Any:
    t = matches
    return stmt.order_by(
        t.c.certain.desc(), t.c.score.desc(), t.c.distance_km, t.c.lost_report_id, t.c.found_report_id
    )


class SqlMatches:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def upsert(self, match: Match) -> bool:
        conn = self._conn()
        row = match_row(match)
        if _insert_unless_duplicate(conn, matches, row):
            return True
        conn.execute(
            update(matches)
            .where(
                matches.c.lost_report_id == match.lost_report_id,
                matches.c.found_report_id == match.found_report_id,
            )
            .values(row)
        )
        return False

    def for_lost_report(self, lost_report_id: UUID, limit: int) -> list[Match]:
        if limit <= 0:
            return []
        stmt = _best_first(select(matches).where(matches.c.lost_report_id == lost_report_id)).limit(limit)
        return self._ordered(stmt)

    def for_found_report(self, found_report_id: UUID, limit: int) -> list[Match]:
        if limit <= 0:
            return []
        stmt = _best_first(select(matches).where(matches.c.found_report_id == found_report_id)).limit(limit)
        return self._ordered(stmt)

    def _ordered(self, stmt: Any) -> list[Match]:
        return [match_from(r) for r in self._conn().execute(stmt).mappings()]
