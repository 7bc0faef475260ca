"""The iCalendar feed, read back by real parsers: `icalendar` parses it and
`recurring_ical_events` expands it; the occurrences a calendar app computes must be the
core's own `CareSchedule.occurrences_between`, across DST in London, New York and Lord Howe."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.ical import CONTENT_TYPE, render_feed
from tailtracker_core.errors import ValidationFailed
from tailtracker_core.model.calendar import PetCare, describe_feed
from tailtracker_core.model.care import CareKind, CareSchedule
from tailtracker_core.model.pets import Pet, Sex, Species
from tailtracker_core.model.vaccines import Vaccination, Vaccine

ZONES = ["Europe/London", "America/New_York", "Australia/Lord_Howe"]
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
PET_ID = UUID("00000000-0000-7000-8000-0000000000aa")


def pet(name: str = "Rex", birth: date | None = None, species: Species = Species.DOG) -> Pet:
    return Pet(
        id=PET_ID if name == "Rex" else uuid4(),
        family_id=UUID(int=7),
        name=name,
        species=species,
        sex=Sex.MALE,
        created_at=NOW - timedelta(days=30),
        updated_at=NOW - timedelta(days=3),
        birth_date=birth,
    )


def schedule(rule: str, start: datetime, tz: str, title: str = "Heartworm pill") -> CareSchedule:
    return CareSchedule.create(uuid4(), PET_ID, CareKind.MEDICATION, title, rule, start, tz)


def parse(body: bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(body)


def app_occurrences(cal: icalendar.Calendar, lo: datetime, hi: datetime) -> list[datetime]:
    """What a calendar app shows: every expanded VEVENT starting in [lo, hi), as UTC instants."""
    starts = [e["DTSTART"].dt for e in recurring_ical_events.of(cal).between(lo - timedelta(days=1), hi)]
    return sorted(s.astimezone(UTC) for s in starts if isinstance(s, datetime) and lo <= s < hi)


def transitions(zone: str) -> list[datetime]:
    tz, out, prev = ZoneInfo(zone), [], None
    at = datetime(2025, 1, 1, tzinfo=UTC)
    while at < datetime(2028, 1, 1, tzinfo=UTC):
        off = at.astimezone(tz).utcoffset()
        if prev is not None and off != prev:
            out.append(at)
        prev, at = off, at + timedelta(hours=1)
    return out


TRANSITIONS = {z: transitions(z) for z in ZONES}


def nonexistent(wall: datetime, tz: ZoneInfo) -> bool:
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall


@st.composite
def rules(draw: st.DrawFn) -> str:
    freq = draw(st.sampled_from(["HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}"]
    if freq == "HOURLY":
        parts.append(f"INTERVAL={draw(st.integers(1, 12))}")
    elif draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 3))}")
    days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    if freq in ("DAILY", "WEEKLY") and draw(st.booleans()):
        parts.append("BYDAY=" + ",".join(draw(st.lists(st.sampled_from(days), min_size=1, unique=True))))
    if freq == "MONTHLY" and draw(st.booleans()):
        parts.append(f"BYDAY={draw(st.sampled_from(['1', '-1']))}{draw(st.sampled_from(days))}")
    if freq in ("DAILY", "WEEKLY") and draw(st.booleans()):
        hours = draw(st.lists(st.sampled_from([0, 1, 2, 3, 8, 20]), min_size=1, max_size=3, unique=True))
        parts.append("BYHOUR=" + ",".join(map(str, sorted(hours))))
    end = draw(st.sampled_from(["none", "count", "until-date", "until-utc"]))
    if end == "count":
        parts.append(f"COUNT={draw(st.integers(1, 60))}")
    elif end == "until-date":
        parts.append(f"UNTIL={draw(st.dates(date(2026, 1, 1), date(2027, 12, 31))):%Y%m%d}")
    elif end == "until-utc":  # whole hours, away from any zone's transition minute (01:00-03:00 local)
        u = draw(st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31))).replace(minute=0, second=0)
        parts.append(f"UNTIL={u.replace(hour=12):%Y%m%dT%H%M%S}Z")
    return ";".join(parts)


wall_times = st.builds(
    lambda d, h, m: datetime(d.year, d.month, d.day, h, m),
    st.dates(date(2025, 1, 1), date(2026, 12, 31)),
    st.sampled_from([0, 1, 2, 3, 8, 23]),
    st.sampled_from([0, 15, 30, 45]),
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[CareSchedule, datetime, datetime]:
    tz = draw(st.sampled_from(ZONES))
    rule = draw(rules())
    start = draw(wall_times)
    try:
        s = schedule(rule, start, tz)
    except ValidationFailed:  # an UNTIL before the first occurrence, or too dense
        s = schedule(rule.split(";UNTIL")[0].split(";BYHOUR")[0], start, tz)
    pivot = draw(st.sampled_from(TRANSITIONS[tz]))
    lo = pivot - timedelta(minutes=draw(st.integers(0, 20 * 24 * 60)))
    hi = lo + timedelta(minutes=draw(st.integers(1, 40 * 24 * 60)))
    return s, lo, hi


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_a_calendar_app_expands_the_feed_to_the_cores_occurrences(case):
    s, lo, hi = case
    cal = parse(render_feed(describe_feed("Rex", [PetCare(pet(), [s])], NOW)))
    core = s.occurrences_between(lo, hi)
    got = app_occurrences(cal, lo, hi)
    assert sorted(set(got)) == [o.starts_at for o in core], (s.rrule, s.dtstart, s.timezone, lo, hi)
    # Known difference (docs/calendar.md): two wall times the rule generates on either side of a
    # spring-forward gap meet at one instant; the core keeps one, RFC 5545 apps show both.
    tz = ZoneInfo(s.timezone)
    merged = {o.starts_at for o in core if nonexistent(o.local_start, tz)}
    assert {t for t in got if got.count(t) > 1} <= merged


def test_hand_checked_transitions_in_the_three_zones():
    cases = [
        # London spring forward: 01:30 does not exist, it is 02:30 BST (01:30Z); fall back: once.
        ("FREQ=DAILY", datetime(2026, 3, 27, 1, 30), "Europe/London", (2026, 3, 26), (2026, 3, 31)),
        ("FREQ=DAILY", datetime(2026, 10, 23, 1, 30), "Europe/London", (2026, 10, 22), (2026, 10, 28)),
        ("FREQ=DAILY", datetime(2026, 3, 6, 2, 30), "America/New_York", (2026, 3, 5), (2026, 3, 10)),
        ("FREQ=DAILY", datetime(2026, 10, 30, 1, 30), "America/New_York", (2026, 10, 29), (2026, 11, 4)),
        # Lord Howe moves by 30 minutes: 02:15 on 4 October 2026 is 02:45 +11:00.
        ("FREQ=DAILY", datetime(2026, 10, 2, 2, 15), "Australia/Lord_Howe", (2026, 10, 1), (2026, 10, 7)),
        ("FREQ=HOURLY", datetime(2026, 4, 4, 22, 0), "Australia/Lord_Howe", (2026, 4, 4), (2026, 4, 6)),
        ("FREQ=WEEKLY;BYDAY=SU", datetime(2026, 3, 1, 8, 0), "Europe/London", (2026, 3, 1), (2026, 4, 30)),
    ]
    for rule, start, tz, lo_d, hi_d in cases:
        s = schedule(rule, start, tz)
        lo, hi = datetime(*lo_d, tzinfo=UTC), datetime(*hi_d, tzinfo=UTC)
        cal = parse(render_feed(describe_feed("Rex", [PetCare(pet(), [s])], NOW)))
        want = [o.starts_at for o in s.occurrences_between(lo, hi)]
        assert want, rule
        assert app_occurrences(cal, lo, hi) == want, (rule, tz)
    # the daily 08:00 dose is 08:00 local on both sides of London's change
    s = schedule("FREQ=DAILY", datetime(2026, 3, 27, 8, 0), "Europe/London")
    cal = parse(render_feed(describe_feed("Rex", [PetCare(pet(), [s])], NOW)))
    local = [
        t.astimezone(ZoneInfo("Europe/London"))
        for t in app_occurrences(cal, NOW - timedelta(days=250), NOW - timedelta(days=239))
    ]
    assert {t.hour for t in local} == {8}


def test_the_feed_is_rfc_5545_with_a_vtimezone_per_zone_and_zoned_dtstarts():
    london = schedule("FREQ=DAILY;UNTIL=20270101", datetime(2026, 3, 1, 8, 0), "Europe/London")
    howe = schedule("FREQ=WEEKLY;BYDAY=MO", datetime(2026, 1, 5, 2, 15), "Australia/Lord_Howe", "Walk")
    also_london = schedule("FREQ=MONTHLY", datetime(2025, 5, 1, 9, 0), "Europe/London", "Flea drops")
    body = render_feed(describe_feed("Rex", [PetCare(pet(), [london, howe, also_london])], NOW))
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    assert body.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))  # folded, octets
    assert CONTENT_TYPE == "text/calendar; charset=utf-8"
    cal = parse(body)
    assert cal["VERSION"] == "2.0"
    assert cal["PRODID"] == "-//TailTracker//Calendar feed 1.0//EN"
    assert cal["X-WR-CALNAME"] == "Rex"
    zones = sorted(str(tz["TZID"]) for tz in cal.walk("VTIMEZONE"))
    assert zones == ["Australia/Lord_Howe", "Europe/London"]  # one each, used zones only
    assert cal.get_missing_tzids() == set()
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    e = events[f"care-{london.id}@tailtracker"]
    assert e["DTSTART"].params["TZID"] == "Europe/London"
    assert e["DTSTART"].dt == datetime(2026, 3, 1, 8, 0, tzinfo=ZoneInfo("Europe/London"))
    assert str(e["SUMMARY"]) == "Rex: Heartworm pill"
    assert e["DTSTAMP"].dt == NOW - timedelta(days=3)  # the content's last change, not the request
    until = e["RRULE"]["UNTIL"][0]
    assert until == datetime(2027, 1, 1, 23, 59, 59, tzinfo=UTC)  # a DATE UNTIL: that whole local day, in UTC
    assert b"UNTIL=20270101T235959Z" in body
    assert events[f"care-{howe.id}@tailtracker"]["DTSTART"].params["TZID"] == "Australia/Lord_Howe"


def test_the_same_content_renders_the_same_bytes_and_uids_are_stable():
    s = schedule("FREQ=DAILY", datetime(2026, 3, 1, 8, 0), "America/New_York")
    content = describe_feed("Rex", [PetCare(pet(birth=date(2026, 6, 1)), [s])], NOW)
    assert render_feed(content) == render_feed(content)
    later = describe_feed("Rex", [PetCare(pet(birth=date(2026, 6, 1)), [s])], NOW + timedelta(hours=5))
    assert render_feed(later) == render_feed(content)
    uids = [str(e["UID"]) for e in parse(render_feed(content)).walk("VEVENT")]
    assert len(uids) == len(set(uids))


def test_completed_occurrences_stay_and_recent_ones_are_marked():
    s = schedule("FREQ=DAILY", datetime(2026, 11, 1, 8, 0), "Europe/London")
    occ = s.occurrences_between(datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 22, tzinfo=UTC))
    done = [s.complete(o.key, uuid4(), NOW - timedelta(minutes=len(occ) - i)) for i, o in enumerate(occ)]
    content = describe_feed("Rex", [PetCare(pet(), [s], completions=done)], NOW)
    cal = parse(render_feed(content))
    lo, hi = datetime(2026, 11, 18, tzinfo=UTC), datetime(2026, 11, 24, tzinfo=UTC)
    assert app_occurrences(cal, lo, hi) == [o.starts_at for o in s.occurrences_between(lo, hi)]
    shown = {
        e["DTSTART"].dt.astimezone(UTC): str(e["SUMMARY"])
        for e in recurring_ical_events.of(cal).between(lo, hi)
    }
    assert shown[occ[0].starts_at] == "✓ Rex: Heartworm pill"
    assert shown[occ[1].starts_at] == "✓ Rex: Heartworm pill"
    assert shown[datetime(2026, 11, 22, 8, 0, tzinfo=UTC)] == "Rex: Heartworm pill"
    assert content.last_modified == done[-1].completed_at.replace(microsecond=0)


def test_vaccinations_due_are_all_day_events_without_superseded_doses_or_duplicates():
    birth = date(2026, 1, 10)
    dog = pet(birth=birth)
    rabies = Vaccine("rabies", "Rabies")
    first = Vaccination(uuid4(), PET_ID, rabies, date(2026, 4, 4), next_due_on=date(2026, 12, 1))
    booster = Vaccination(uuid4(), PET_ID, rabies, date(2026, 11, 1), next_due_on=date(2027, 11, 1))
    lepto = Vaccination(
        uuid4(), PET_ID, Vaccine("lepto", "Leptospirosis"), date(2026, 5, 1), date(2027, 5, 1)
    )
    content = describe_feed("Rex", [PetCare(dog, doses=[first, booster, lepto])], NOW)
    cal = parse(render_feed(content))
    events = [e for e in cal.walk("VEVENT")]
    by_uid = {str(e["UID"]): e for e in events}
    assert f"vaccination-{first.id}@tailtracker" not in by_uid  # superseded by the booster
    e = by_uid[f"vaccination-{booster.id}@tailtracker"]
    assert e["DTSTART"].dt == date(2027, 11, 1)
    assert e["DTSTART"].params.get("VALUE") == "DATE"
    assert e["DTEND"].dt == date(2027, 11, 2)
    assert str(e["SUMMARY"]) == "Rex: Rabies vaccination due"
    assert f"vaccination-{lepto.id}@tailtracker" in by_uid
    suggested = [e for e in events if str(e["UID"]).startswith("suggested-")]
    assert suggested  # DHPP doses for a puppy born in January 2026
    assert all(str(e["SUMMARY"]).endswith("vaccination suggested") for e in suggested)
    # the rabies revaccination the core schedule plans is the vet's date: shown once
    rabies_dates = [e["DTSTART"].dt for e in events if "Rabies" in str(e["SUMMARY"])]
    assert len(rabies_dates) == len(set(rabies_dates))
    assert date(2027, 11, 1) in rabies_dates
    # and a calendar app sees them on their days
    days = {
        e["DTSTART"].dt for e in recurring_ical_events.of(cal).between(date(2026, 1, 1), date(2031, 1, 1))
    }
    assert {date(2027, 11, 1), date(2027, 5, 1)} <= days


def test_a_family_feed_names_each_pet_and_orders_them():
    a = schedule("FREQ=DAILY", datetime(2026, 3, 1, 8, 0), "Europe/London", "Breakfast")
    whiskers = pet("Whiskers", species=Species.CAT)
    b = CareSchedule.create(
        uuid4(),
        whiskers.id,
        CareKind.FEEDING,
        "Dinner",
        "FREQ=DAILY",
        datetime(2026, 3, 1, 18, 0),
        "Australia/Lord_Howe",
    )
    content = describe_feed("The Smiths", [PetCare(whiskers, [b]), PetCare(pet(), [a])], NOW)
    cal = parse(render_feed(content))
    assert cal["X-WR-CALNAME"] == "The Smiths"
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["Rex: Breakfast", "Whiskers: Dinner"]


def test_an_empty_feed_is_still_a_valid_calendar():
    cal = parse(render_feed(describe_feed("Rex", [PetCare(pet())], NOW)))
    assert cal.walk("VEVENT") == []
    assert recurring_ical_events.of(cal).between(date(2026, 1, 1), date(2027, 1, 1)) == []
