import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tailtracker_core.errors import ValidationFailed
from tailtracker_core.model.geo import EARTH_RADIUS_KM, GeoPoint, bbox, distance_km, distances_from, rounded

lats = st.floats(-90, 90, allow_nan=False)
lons = st.floats(-180, 180, allow_nan=False)
points = st.builds(GeoPoint, lats, lons)
# Points where the hard cases live: near the poles and near the antimeridian.
edgy_points = st.builds(
    GeoPoint,
    st.one_of(lats, st.floats(89.0, 90.0), st.floats(-90.0, -89.0)),
    st.one_of(lons, st.floats(179.0, 180.0), st.floats(-180.0, -179.0)),
)
any_points = st.one_of(points, edgy_points)


def destination(start: GeoPoint, bearing_deg: float, km: float) -> GeoPoint:
    """The point `km` from `start` on the initial bearing (spherical direct problem)."""
    phi1, lam1, theta = math.radians(start.lat), math.radians(start.lon), math.radians(bearing_deg)
    delta = km / EARTH_RADIUS_KM
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lam2 = lam1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * sin_phi2
    )
    lon = (math.degrees(lam2) + 540.0) % 360.0 - 180.0
    return GeoPoint(max(-90.0, min(90.0, math.degrees(phi2))), lon)


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    """An independent oracle (plain haversine), fine away from antipodes."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b.lon - a.lon) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


# --- GeoPoint -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        (math.nan, 0.0, "where.lat"),
        (0.0, math.nan, "where.lon"),
        (math.inf, 0.0, "where.lat"),
        (0.0, -math.inf, "where.lon"),
        (90.0001, 0.0, "where.lat"),
        (-91, 0.0, "where.lat"),
        (0.0, 180.5, "where.lon"),
        (0.0, -181, "where.lon"),
        (True, 0.0, "where.lat"),
        ("12.5", 0.0, "where.lat"),
        (0.0, None, "where.lon"),
    ],
)
def test_a_bad_coordinate_is_refused_naming_the_field(lat, lon, field):
    with pytest.raises(ValidationFailed) as err:
        GeoPoint.parse(lat, lon, field="where")
    assert err.value.errors[0].field == field


def test_the_constructor_checks_too_with_the_default_field_name():
    with pytest.raises(ValidationFailed) as err:
        GeoPoint(0.0, 200.0)
    assert err.value.errors[0].field == "location.lon"


@pytest.mark.parametrize(("lat", "lon"), [(90, 180), (-90, -180), (0, 0), (45.5, -122.25)])
def test_the_boundaries_and_integers_are_accepted(lat, lon):
    p = GeoPoint.parse(lat, lon)
    assert (p.lat, p.lon) == (lat, lon) and isinstance(p.lat, float)


# --- distance -------------------------------------------------------------------------------


@given(any_points, any_points)
def test_distance_is_symmetric_and_within_half_the_circumference(a, b):
    d = distance_km(a, b)
    assert d == pytest.approx(distance_km(b, a), abs=1e-9)
    assert 0.0 <= d <= math.pi * EARTH_RADIUS_KM + 1e-9


@given(any_points)
def test_a_point_is_zero_km_from_itself(p):
    assert distance_km(p, p) == 0.0


@given(any_points, any_points, any_points)
def test_triangle_inequality(a, b, c):
    assert distance_km(a, c) <= distance_km(a, b) + distance_km(b, c) + 1e-6


@given(any_points, any_points)
def test_distance_agrees_with_haversine_away_from_antipodes(a, b):
    assume(haversine_km(a, b) < 19000)
    assert distance_km(a, b) == pytest.approx(haversine_km(a, b), abs=1e-6)


def test_across_the_antimeridian_is_the_short_way():
    d = distance_km(GeoPoint(0, 179.9), GeoPoint(0, -179.9))
    assert d == pytest.approx(0.2 * math.pi / 180 * EARTH_RADIUS_KM, abs=1e-6)  # 22.239 km
    assert d == pytest.approx(22.2, abs=0.05)


@given(lons, lons, st.sampled_from([90.0, -90.0]))
def test_any_two_points_at_a_pole_are_zero_km_apart(lon1, lon2, pole):
    assert distance_km(GeoPoint(pole, lon1), GeoPoint(pole, lon2)) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        (GeoPoint(0, 0), GeoPoint(0, 90), math.pi / 2 * EARTH_RADIUS_KM),
        (GeoPoint(0, 0), GeoPoint(0, 180), math.pi * EARTH_RADIUS_KM),  # antipodes
        (GeoPoint(90, 0), GeoPoint(-90, 123), math.pi * EARTH_RADIUS_KM),
        (GeoPoint(89.9, 0), GeoPoint(89.9, 180), 0.2 * math.pi / 180 * EARTH_RADIUS_KM),  # over the pole
        (GeoPoint(51.5074, -0.1278), GeoPoint(48.8566, 2.3522), 343.56),  # London - Paris
    ],
)
def test_known_distances(a, b, km):
    assert distance_km(a, b) == pytest.approx(km, abs=0.01)


# --- public rounding ------------------------------------------------------------------------

metres = st.sampled_from([100.0, 250.0, 1000.0])


@given(any_points, metres)
def test_rounding_moves_a_point_less_than_the_cell_size(p, m):
    assert distance_km(p, rounded(p, m)) * 1000 <= m


@given(any_points, metres)
def test_rounding_is_idempotent(p, m):
    once = rounded(p, m)
    assert rounded(once, m) == once


@given(
    any_points,
    st.floats(0, 360, allow_nan=False),
    st.floats(0, 0.6, allow_nan=False),
    metres,
)
def test_distinct_rounded_points_are_a_cell_apart_so_no_finer_position_leaks(p, bearing, km, m):
    q = destination(p, bearing, km * m / 100)
    rp, rq = rounded(p, m), rounded(q, m)
    if rp != rq:
        assert distance_km(rp, rq) * 1000 >= 0.95 * m


@given(st.floats(89.9996, 90.0), lons)
def test_everything_within_fifty_metres_of_the_pole_rounds_to_the_pole(lat, lon):
    assert rounded(GeoPoint(lat, lon)) == GeoPoint(90.0, 0.0)


def test_rounding_near_the_pole_widens_cells_in_degrees_not_shrinking_them_in_metres():
    near = rounded(GeoPoint(89.999, 10.0))  # ~110 m from the pole: a row of 6 or 7 cells
    assert near.lat == pytest.approx(89.9991, abs=1e-4)
    assert abs(near.lon - 10.0) >= 5.0 or near.lon == 0.0


def test_rounding_one_side_and_the_other_of_the_antimeridian_stays_close():
    a, b = rounded(GeoPoint(10, 179.99999)), rounded(GeoPoint(10, -179.99999))
    assert distance_km(a, b) * 1000 <= 150


def test_rounding_at_the_equator_is_about_a_thousandth_of_a_degree():
    r = rounded(GeoPoint(48.858370, 2.294481))
    assert abs(r.lat - 48.858370) < 0.0005 and abs(r.lon - 2.294481) < 0.001
    assert r != GeoPoint(48.858370, 2.294481)


# --- bounding box ---------------------------------------------------------------------------


@given(
    any_points,
    st.one_of(st.floats(0.01, 100), st.floats(100, 21000)),
    st.floats(0, 360, allow_nan=False),
    st.floats(0, 1, allow_nan=False),
)
def test_the_box_holds_every_point_within_the_radius(center, radius, bearing, fraction):
    p = destination(center, bearing, radius * fraction)
    assume(distance_km(center, p) <= radius)
    assert bbox(center, radius).contains(p)


@given(any_points, any_points, st.floats(1, 5000))
def test_the_box_holds_random_points_within_the_radius(center, p, radius):
    if distance_km(center, p) <= radius:
        assert bbox(center, radius).contains(p)


def test_a_box_across_the_antimeridian_has_two_lon_ranges():
    box = bbox(GeoPoint(0, 179.95), 10)
    assert len(box.lon_ranges) == 2
    (lo1, hi1), (lo2, hi2) = box.lon_ranges
    assert hi1 == 180.0 and lo2 == -180.0
    assert lo1 == pytest.approx(179.95 - 0.0899, abs=1e-3) and hi2 == pytest.approx(
        179.95 + 0.0899 - 360, abs=1e-3
    )
    assert box.contains(GeoPoint(0, -179.99)) and not box.contains(GeoPoint(0, 179.0))


def test_a_box_reaching_a_pole_takes_every_longitude():
    box = bbox(GeoPoint(89.95, 0), 10)
    assert box.lon_ranges == ((-180.0, 180.0),) and box.max_lat == 90.0
    assert box.contains(GeoPoint(89.99, 179.0))


def test_an_ordinary_box_is_tight():
    box = bbox(GeoPoint(0, 0), 5)
    ((lo, hi),) = box.lon_ranges
    half = 5 / EARTH_RADIUS_KM * 180 / math.pi  # 0.044966 degrees
    assert (box.min_lat, box.max_lat, lo, hi) == pytest.approx((-half, half, -half, half), abs=1e-7)


@given(any_points, st.lists(any_points, min_size=1, max_size=5))
def test_distances_from_a_centre_are_distance_km_bit_for_bit(centre, others):
    """The adapters' fast path decides radius and order exactly as `distance_km` does."""
    measure = distances_from(centre)
    for other in others:
        assert measure(other.lat, other.lon) == distance_km(centre, other)
