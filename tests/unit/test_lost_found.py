from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tailtracker_core.errors import Conflict, TierLimitExceeded, ValidationFailed
from tailtracker_core.model.consent import ConsentMethod, ConsentRecord, Purpose
from tailtracker_core.model.geo import GeoPoint, distance_km, rounded
from tailtracker_core.model.lost_found import (
    AlertCandidate,
    AlertSettings,
    FoundReport,
    LostReport,
    PublicLostReport,
    ReportStatus,
    Sighting,
    alert_key,
    alert_recipients,
    ensure_no_open_report,
    has_location_alerts_consent,
    public_view,
)
from tailtracker_core.model.pets import Pet, PetDraft, Sex, Size, Species
from tailtracker_core.model.tiers import Tier, TierLimits, TierTable
from tests.unit.test_geo import destination

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
BERLIN = GeoPoint(52.52, 13.405)


def make_pet(**changes) -> Pet:
    draft = PetDraft(name="Biscuit", species=Species.DOG, breed="Beagle", colors=["tan", "white"])
    return Pet.create(uuid4(), uuid4(), attrs.evolve(draft, **changes), NOW - timedelta(days=400))


def open_report(pet: Pet | None = None, **kw) -> LostReport:
    args = {
        "last_seen_at": NOW - timedelta(hours=3),
        "location": BERLIN,
        "radius_km": 5.0,
        "description": "Ran after a squirrel in the park",
        "reward": None,
        "tier": Tier.FREE,
        "existing": [],
        "now": NOW,
    } | kw
    return LostReport.open(uuid4(), pet or make_pet(), **args)


# --- opening a lost report ----------------------------------------------------------------


def test_opening_a_report_keeps_the_pet_family_and_times_in_utc():
    pet = make_pet()
    cest = timezone(timedelta(hours=2))
    r = open_report(pet, last_seen_at=datetime(2025, 6, 1, 11, 0, tzinfo=cest), reward="  €100 ")
    assert (r.pet_id, r.family_id, r.status, r.opened_at) == (pet.id, pet.family_id, ReportStatus.OPEN, NOW)
    assert r.last_seen_at == datetime(2025, 6, 1, 9, 0, tzinfo=UTC) and r.last_seen_at.tzinfo is UTC
    assert r.reward == "€100"


@pytest.mark.parametrize(
    "last_seen_at",
    [NOW + timedelta(seconds=1), NOW + timedelta(days=3), datetime(2025, 6, 1, 11, 0)],  # naive
)
def test_last_seen_in_the_future_or_without_a_zone_is_refused(last_seen_at):
    with pytest.raises(ValidationFailed) as err:
        open_report(last_seen_at=last_seen_at)
    assert err.value.errors[0].field == "last_seen_at"


def test_last_seen_exactly_now_is_accepted():
    assert open_report(last_seen_at=NOW).last_seen_at == NOW


@pytest.mark.parametrize("radius", [0, -1.0, float("nan"), float("inf"), True])
def test_a_radius_must_be_a_positive_finite_number(radius):
    with pytest.raises(ValidationFailed) as err:
        open_report(radius_km=radius)
    assert err.value.errors[0].field == "radius_km"


@pytest.mark.parametrize(("tier", "limit"), [(Tier.FREE, 5.0), (Tier.PREMIUM, 25.0), (Tier.PRO, 50.0)])
def test_the_radius_is_at_most_the_tiers_maximum(tier, limit):
    assert open_report(tier=tier, radius_km=limit).radius_km == limit
    with pytest.raises(TierLimitExceeded) as err:
        open_report(tier=tier, radius_km=limit + 0.001)
    assert err.value.code == "tier_limit_exceeded" and err.value.allowed == int(limit)


def test_the_tier_table_is_a_setting():
    table = TierTable({Tier.FREE: TierLimits(2, 2, 8.0, False, 1, 1, 1)})
    assert open_report(radius_km=8.0, tiers=table).radius_km == 8.0


def test_text_fields_refuse_control_characters():
    with pytest.raises(ValidationFailed) as err:
        open_report(description="bad\x00byte")
    assert err.value.errors[0].field == "description"


statuses = st.sampled_from(list(ReportStatus))


@given(st.lists(st.tuples(st.integers(0, 3), statuses), max_size=8), st.integers(0, 3))
def test_a_pet_has_at_most_one_open_report(existing_spec, which):
    pets = [make_pet() for _ in range(4)]
    existing = []
    for pet_index, status in existing_spec:
        r = open_report(pets[pet_index])
        r.status = status
        existing.append(r)
    clash = any(r.pet_id == pets[which].id and r.status is ReportStatus.OPEN for r in existing)
    if clash:
        with pytest.raises(Conflict):
            open_report(pets[which], existing=existing)
        with pytest.raises(Conflict):
            ensure_no_open_report(pets[which].id, existing)
    else:
        assert open_report(pets[which], existing=existing).is_open


# --- transitions --------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "status"), [("mark_found", "found"), ("close", "closed")])
def test_an_open_report_is_marked_found_or_closed_once(first, status):
    r = open_report()
    getattr(r, first)(NOW + timedelta(hours=1))
    assert (r.status, r.resolved_at, r.version) == (ReportStatus(status), NOW + timedelta(hours=1), 2)
    getattr(r, first)(NOW + timedelta(hours=2))  # a retry changes nothing
    assert (r.resolved_at, r.version) == (NOW + timedelta(hours=1), 2)


@pytest.mark.parametrize(("first", "then"), [("mark_found", "close"), ("close", "mark_found")])
def test_found_and_closed_are_final(first, then):
    r = open_report()
    getattr(r, first)(NOW)
    with pytest.raises(Conflict):
        getattr(r, then)(NOW)


# --- found reports and sightings ----------------------------------------------------------


def test_a_found_report_normalises_its_fields():
    f = FoundReport.file(
        uuid4(),
        uuid4(),
        Species.CAT,
        [" Black", "white ", "black", ""],
        NOW - timedelta(hours=1),
        BERLIN,
        NOW,
        breed="  ",
        sex=Sex.UNKNOWN,
        size=Size.SMALL,
    )
    assert f.colours == ("black", "white") and f.breed is None and f.sex is None and f.filed_at == NOW


def test_a_found_report_from_the_future_is_refused():
    with pytest.raises(ValidationFailed) as err:
        FoundReport.file(uuid4(), uuid4(), Species.CAT, [], NOW + timedelta(minutes=5), BERLIN, NOW)
    assert err.value.errors[0].field == "seen_at"


def test_a_sighting_goes_to_an_open_report_and_names_the_family_to_notify():
    r = open_report()
    s = Sighting.record(uuid4(), r, uuid4(), NOW, GeoPoint(52.53, 13.41), "by the canal", NOW)
    assert (s.report_id, s.family_id, s.notice_key) == (r.id, r.family_id, f"sighting:{s.id}")
    r.mark_found(NOW)
    with pytest.raises(Conflict):
        Sighting.record(uuid4(), r, uuid4(), NOW, BERLIN, None, NOW)


# --- public view --------------------------------------------------------------------------


def test_the_public_view_shows_the_animal_and_a_rounded_point_never_the_owner():
    pet = make_pet(size=Size.MEDIUM)
    r = open_report(pet, location=GeoPoint(52.520008, 13.404954), reward="500 EUR, call 0176 1234567")
    photo = uuid4()
    view = public_view(r, pet, photo)
    assert {f.name for f in attrs.fields(PublicLostReport)} == {
        "report_id",
        "status",
        "pet_name",
        "species",
        "breed",
        "colours",
        "size",
        "photo_id",
        "location",
        "last_seen_at",
    }
    assert (view.pet_name, view.breed, view.colours, view.size, view.photo_id) == (
        "Biscuit",
        "Beagle",
        ("tan", "white"),
        Size.MEDIUM,
        photo,
    )
    assert view.location == rounded(r.location) and view.location != r.location
    assert str(pet.family_id) not in repr(view) and "0176" not in repr(view)


def test_the_public_view_needs_the_reports_own_pet():
    with pytest.raises(ValueError):
        public_view(open_report(), make_pet())


# --- who is alerted -----------------------------------------------------------------------


def consent(user: UUID, granted: bool, at: datetime, purpose=Purpose.LOCATION_ALERTS) -> ConsentRecord:
    return ConsentRecord.record(uuid4(), user, purpose, granted, "2025-01", at, ConsentMethod.APP)


def test_consent_is_the_latest_location_alerts_record():
    u = uuid4()
    assert not has_location_alerts_consent([])
    assert not has_location_alerts_consent([consent(u, True, NOW, Purpose.MARKETING)])
    assert has_location_alerts_consent([consent(u, True, NOW)])
    assert not has_location_alerts_consent([consent(u, True, NOW), consent(u, False, NOW + timedelta(1))])
    assert has_location_alerts_consent([consent(u, True, NOW + timedelta(1)), consent(u, False, NOW)])


users = [uuid4() for _ in range(6)]


@st.composite
def candidates(draw, report: LostReport):
    where = destination(
        report.location,
        draw(st.floats(0, 360)),
        draw(st.one_of(st.floats(0, 2 * report.radius_km), st.just(report.radius_km))),
    )
    families = {uuid4()} | ({report.family_id} if draw(st.booleans()) else set())
    return AlertCandidate(
        user_id=draw(st.sampled_from(users)),
        alert_location=where,
        alert_radius_km=draw(st.floats(0.1, 60)),
        consented=draw(st.booleans()),
        family_ids=frozenset(families) if draw(st.booleans()) else frozenset(),
        alerts_today=draw(st.integers(0, 12)),
    )


@st.composite
def alert_worlds(draw):
    report = open_report(
        location=GeoPoint(draw(st.floats(-89, 89)), draw(st.floats(-180, 180))),
        radius_km=draw(st.floats(0.5, 50)),
        tier=Tier.PRO,
    )
    cap = draw(st.integers(0, 12))
    return report, draw(st.lists(candidates(report), max_size=12)), AlertSettings(daily_cap=cap)


def qualifies(c: AlertCandidate, r: LostReport, cap: int) -> bool:
    d = distance_km(r.location, c.alert_location)
    return (
        c.consented
        and d <= r.radius_km
        and d <= c.alert_radius_km
        and r.family_id not in c.family_ids
        and c.alerts_today < cap
    )


@given(alert_worlds())
def test_alerts_go_to_exactly_the_qualifying_users_once_each_nearest_first(world):
    report, cands, settings = world
    alerts = alert_recipients(report, cands, settings)
    by_user = {c.user_id: c for c in cands}
    for a in alerts:
        ok = [c for c in cands if c.user_id == a.recipient_id and qualifies(c, report, settings.daily_cap)]
        assert ok, f"{by_user[a.recipient_id]} should not be alerted"
        assert a.key == alert_key(report.id, a.recipient_id) == f"lost_pet_alert:{report.id}:{a.recipient_id}"
        assert a.distance_km == min(distance_km(report.location, c.alert_location) for c in ok)
    expected = {c.user_id for c in cands if qualifies(c, report, settings.daily_cap)}
    assert [a.recipient_id for a in alerts] == list(dict.fromkeys(a.recipient_id for a in alerts))
    assert {a.recipient_id for a in alerts} == expected
    assert [a.distance_km for a in alerts] == sorted(a.distance_km for a in alerts)


@given(alert_worlds(), st.sampled_from(["mark_found", "close"]))
def test_a_report_that_is_not_open_alerts_nobody(world, how):
    report, cands, settings = world
    getattr(report, how)(NOW)
    assert alert_recipients(report, cands, settings) == []


def test_the_daily_cap_defaults_to_ten():
    r = open_report()
    base = AlertCandidate(uuid4(), BERLIN, 5.0, True, frozenset(), 9)
    assert [a.recipient_id for a in alert_recipients(r, [base])] == [base.user_id]
    assert alert_recipients(r, [attrs.evolve(base, alerts_today=10)]) == []


def test_both_radii_bound_the_alert():
    r = open_report(radius_km=5.0)
    three_km = destination(BERLIN, 90, 3.0)
    near_but_narrow = AlertCandidate(uuid4(), three_km, 2.0, True, frozenset(), 0)
    six_km_wide = AlertCandidate(uuid4(), destination(BERLIN, 0, 6.0), 50.0, True, frozenset(), 0)
    fits = AlertCandidate(uuid4(), three_km, 3.5, True, frozenset(), 0)
    assert [a.recipient_id for a in alert_recipients(r, [near_but_narrow, six_km_wide, fits])] == [
        fits.user_id
    ]
