"""Points on the Earth (WGS84 lat/lon), distances, public rounding and prefilter boxes.

The Earth is taken as a sphere of mean radius 6371.0088 km (IUGG R1). Against the WGS84
ellipsoid that errs by at most about 0.5 %: 25 m on a 5 km alert radius, far below the
precision of a phone's fix or of "where I last saw her". Distances use the spherical
Vincenty formula (an atan2 form of the great-circle distance) rather than plain haversine
because it stays well conditioned for every pair, antipodes included, at the same cost.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from attrs import frozen

from tailtracker_core.errors import ValidationFailed

__all__ = [
    "EARTH_RADIUS_KM",
    "BoundingBox",
    "GeoPoint",
    "bbox",
    "distance_km",
    "distances_from",
    "rounded",
]

EARTH_RADIUS_KM = 6371.0088


def _coordinate(value: object, field: str, limit: float) -> float:
    if type(value) is float and -limit <= value <= limit:
        return value  # the common case, in one test (NaN and the infinities fail the range)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationFailed.single(field, "must be a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValidationFailed.single(field, "must be a finite number")
    if not -limit <= number <= limit:
        raise ValidationFailed.single(field, f"must be between {-limit:g} and {limit:g}")
    return number


@frozen
class GeoPoint:
    """A WGS84 point in degrees: lat in [-90, 90], lon in [-180, 180], both finite."""

    lat: float
    lon: float

    def __attrs_post_init__(self) -> None:
        _coordinate(self.lat, "location.lat", 90.0)
        _coordinate(self.lon, "location.lon", 180.0)

    @classmethod
    def parse(cls, lat: object, lon: object, field: str = "location") -> GeoPoint:
        """A checked point; a ValidationFailed names `field.lat` or `field.lon`."""
        return cls(_coordinate(lat, f"{field}.lat", 90.0), _coordinate(lon, f"{field}.lon", 180.0))


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance in km on the mean-radius sphere."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dlon = math.radians(b.lon - a.lon)
    sin1, cos1, sin2, cos2 = math.sin(phi1), math.cos(phi1), math.sin(phi2), math.cos(phi2)
    y = math.hypot(cos2 * math.sin(dlon), cos1 * sin2 - sin1 * cos2 * math.cos(dlon))
    x = sin1 * sin2 + cos1 * cos2 * math.cos(dlon)
    return EARTH_RADIUS_KM * math.atan2(y, x)


def distances_from(centre: GeoPoint) -> Callable[[float, float], float]:
    """`distance_km(centre, GeoPoint(lat, lon))` as a function of (lat, lon), bit for bit (the
    same operations in the same order; a test checks equality), with the centre's part done
    once: for adapters that measure many rows from one point, without a GeoPoint per row.
    The caller passes coordinates read from storage, already checked when they were written."""
    phi1 = math.radians(centre.lat)
    sin1, cos1 = math.sin(phi1), math.cos(phi1)
    lon1 = centre.lon
    sin, cos, radians, hypot, atan2 = math.sin, math.cos, math.radians, math.hypot, math.atan2

    def distance(lat: float, lon: float) -> float:
        phi2 = radians(lat)
        dlon = radians(lon - lon1)
        sin2, cos2 = sin(phi2), cos(phi2)
        cos_dlon = cos(dlon)
        y = hypot(cos2 * sin(dlon), cos1 * sin2 - sin1 * cos2 * cos_dlon)
        x = sin1 * sin2 + cos1 * cos2 * cos_dlon
        return EARTH_RADIUS_KM * atan2(y, x)

    return distance


def rounded(point: GeoPoint, metres: float = 100.0) -> GeoPoint:
    """The centre of the grid cell holding `point`, on a grid of cells at least `metres` wide.

    Rows are `metres` (or slightly more) apart from the equator to each pole, so each pole is
    a row. Each row is cut into a whole number of equal cells, each at least `metres` long
    along that parallel: near the poles the cells get wider in degrees, never narrower in
    metres, and the row at a pole is one cell (longitude 0). The grid is the same on both
    sides of the antimeridian. Only the cell is revealed, never a finer position.
    """
    if not (math.isfinite(metres) and metres > 0):
        raise ValueError("metres must be a positive number")
    quarter_m = math.pi / 2 * EARTH_RADIUS_KM * 1000
    rows = max(1, math.floor(quarter_m / metres))  # per hemisphere: pole to equator
    # Cells are counted in integers and positions computed from the count, so rounding a
    # rounded point gives it back exactly.
    row = max(-rows, min(rows, round(point.lat / (90.0 / rows))))
    lat = row * 90.0 / rows
    parallel_m = 2 * math.pi * EARTH_RADIUS_KM * 1000 * math.cos(math.radians(lat))
    cells = max(1, math.floor(parallel_m / metres)) if abs(row) < rows else 1
    cell = round(point.lon / (360.0 / cells)) % cells
    if 2 * cell > cells:
        cell -= cells  # west of the antimeridian: longitudes in (-180, 180]
    lon = cell * 360.0 / cells
    return GeoPoint(lat, lon)


@frozen
class BoundingBox:
    """A lat range and one or two lon ranges (two when the box crosses the antimeridian)."""

    min_lat: float
    max_lat: float
    lon_ranges: tuple[tuple[float, float], ...]

    def contains(self, point: GeoPoint) -> bool:
        if not self.min_lat <= point.lat <= self.max_lat:
            return False
        return any(lo <= point.lon <= hi for lo, hi in self.lon_ranges)


# Widens every box by about 6 mm so that floating-point error never drops a point lying
# exactly on the circle; a prefilter may let extra points through, never lose one.
_MARGIN_RAD = 1e-9


def bbox(center: GeoPoint, radius_km: float) -> BoundingBox:
    """A box holding every point within `radius_km` of `center` (for adapters to prefilter).

    After J. P. Matuschek, "Finding Points Within a Distance of a Latitude/Longitude Using
    Bounding Coordinates": when the circle reaches a pole, all longitudes; when it crosses
    the antimeridian, two lon ranges.
    """
    if not (math.isfinite(radius_km) and radius_km >= 0):
        raise ValueError("radius_km must be a finite number >= 0")
    r = radius_km / EARTH_RADIUS_KM + _MARGIN_RAD
    lat = math.radians(center.lat)
    min_lat, max_lat = lat - r, lat + r
    everywhere = ((-180.0, 180.0),)
    if r >= math.pi or max_lat >= math.pi / 2 or min_lat <= -math.pi / 2:
        return BoundingBox(
            math.degrees(max(min_lat, -math.pi / 2)), math.degrees(min(max_lat, math.pi / 2)), everywhere
        )
    dlon = math.degrees(math.asin(min(1.0, math.sin(r) / math.cos(lat))))
    lo, hi = center.lon - dlon, center.lon + dlon
    ranges: tuple[tuple[float, float], ...]
    if hi - lo >= 360.0:
        ranges = everywhere
    elif lo < -180.0:
        ranges = ((lo + 360.0, 180.0), (-180.0, hi))
    elif hi > 180.0:
        ranges = ((lo, 180.0), (-180.0, hi - 360.0))
    else:
        ranges = ((lo, hi),)
    return BoundingBox(math.degrees(min_lat), math.degrees(max_lat), ranges)
