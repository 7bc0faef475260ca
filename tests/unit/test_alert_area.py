"""A user's lost-pet alert area: location and radius, checked against the tier."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from tailtracker_core.errors import TierLimitExceeded, ValidationFailed
from tailtracker_core.model.accounts import User
from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.model.tiers import DEFAULT_TIER_LIMITS, Tier, TierLimits, TierTable


def _user() -> User:
    return User(uuid4(), "a@example.org", "A", "hash", datetime(2026, 1, 1, tzinfo=UTC))


def test_alert_location_reads_the_stored_point() -> None:
    user = _user()
    assert user.alert_location is None
    user.set_alert_area(GeoPoint(78.2232, 15.6267), 5, Tier.FREE)
    assert user.alert_location == GeoPoint(78.2232, 15.6267)
    assert (user.alert_lat, user.alert_lon, user.alert_radius_km) == (78.2232, 15.6267, 5.0)
    assert isinstance(user.alert_radius_km, float)


def test_clearing_the_area() -> None:
    user = _user()
    user.set_alert_area(GeoPoint(0, 179.99), 2.5, Tier.FREE)
    user.set_alert_area(None, None, Tier.FREE)
    assert (user.alert_location, user.alert_radius_km) == (None, None)


@pytest.mark.parametrize(("tier", "allowed"), [(Tier.FREE, 5.0), (Tier.PREMIUM, 25.0), (Tier.PRO, 50.0)])
def test_the_tier_maximum_is_allowed_and_above_it_is_refused(tier: Tier, allowed: float) -> None:
    user = _user()
    user.set_alert_area(GeoPoint(51.5, -0.12), allowed, tier)
    assert user.alert_radius_km == allowed
    with pytest.raises(TierLimitExceeded):
        user.set_alert_area(GeoPoint(51.5, -0.12), allowed + 0.001, tier)
    assert user.alert_radius_km == allowed  # unchanged after a refusal


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, True, "5"])
def test_radius_must_be_a_finite_number_above_zero(bad: object) -> None:
    user = _user()
    with pytest.raises(ValidationFailed) as err:
        user.set_alert_area(GeoPoint(51.5, -0.12), bad, Tier.PRO)  # type: ignore[arg-type]
    assert err.value.errors[0].field == "alert_radius_km"
    assert user.alert_location is None


def test_the_tier_table_is_a_setting() -> None:
    limits = dict(DEFAULT_TIER_LIMITS)
    limits[Tier.FREE] = TierLimits(2, 2, 1.0, False, 1, 60, 20)
    user = _user()
    with pytest.raises(TierLimitExceeded):
        user.set_alert_area(GeoPoint(0, 0), 2.0, Tier.FREE, TierTable(limits))
