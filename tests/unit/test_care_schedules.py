"""Care schedules: expansion in local wall time across DST, range guards, validation, completion."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tailtracker_core.errors import ValidationFailed
from tailtracker_core.model.care import CareCompletion, CareKind, CareSchedule, Occurrence, mark_completed

ZONES = [
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "UTC",
]
SID = UUID("00000000-0000-7000-8000-000000000001")


def schedule(rule: str, dtstart: datetime, tz: str, kind: CareKind = CareKind.MEDICATION) -> CareSchedule:
    return CareSchedule.create(SID, uuid4(), kind, "Heartworm pill", rule, dtstart, tz)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _transitions(zone: str) -> list[datetime]:
    """UTC instants (to the hour) where the zone's offset changes, 2025 to 2027."""
    tz, out = ZoneInfo(zone), []
    at, prev = utc(2025, 1, 1), None
    while at < utc(2028, 1, 1):
        off = at.astimezone(tz).utcoffset()
        if prev is not None and off != prev:
            out.append(at)
        prev, at = off, at + timedelta(hours=1)
    return out or [utc(2026, 3, 29)]


TRANSITIONS = {z: _transitions(z) for z in ZONES}


@st.composite
def rules(draw: st.DrawFn, hourly: bool = True) -> str:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY"] + (["HOURLY"] if hourly else [])))
    parts = [f"FREQ={freq}"]
    if freq == "HOURLY":
        parts.append(f"INTERVAL={draw(st.integers(2, 12))}")
    elif draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 4))}")
    days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    if freq in ("DAILY", "WEEKLY") and draw(st.booleans()):
        parts.append("BYDAY=" + ",".join(draw(st.lists(st.sampled_from(days), min_size=1, unique=True))))
    if freq == "MONTHLY" and draw(st.booleans()):  # "last Sunday" is when Europe changes its clocks
        parts.append(f"BYDAY={draw(st.sampled_from(['1', '2', '-1']))}{draw(st.sampled_from(days))}")
    end = draw(st.sampled_from(["none", "count", "until"]))
    if end == "count":
        parts.append(f"COUNT={draw(st.integers(1, 80))}")
    elif end == "until":  # floating (local) UNTIL, so the oracle below can hand it to dateutil as is
        u = draw(st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31)))
        parts.append(f"UNTIL={u:%Y%m%dT%H%M%S}")
    return ";".join(parts)


wall_times = st.builds(
    lambda d, h, m: datetime(d.year, d.month, d.day, h, m),
    st.one_of(
        st.dates(datetime(2025, 6, 1).date(), datetime(2026, 12, 31).date()),
        st.dates(datetime(2000, 1, 1).date(), datetime(2025, 6, 1).date()),  # old: fast-forwarded
    ),
    st.sampled_from([0, 1, 2, 3, 8, 23]),
    st.sampled_from([0, 15, 30, 45]),
)


@st.composite
def cases(draw: st.DrawFn, hourly: bool = True) -> tuple[CareSchedule, datetime, datetime]:
    tz = draw(st.sampled_from(ZONES))
    rule = draw(rules(hourly))
    start = draw(wall_times)
    try:
        s = schedule(rule, start, tz)
    except ValidationFailed:  # e.g. an UNTIL before the first occurrence
        s = schedule(rule.split(";UNTIL")[0], start, tz)
    pivot = draw(st.sampled_from(TRANSITIONS[tz]))
    lo = pivot - timedelta(minutes=draw(st.integers(0, 40 * 24 * 60)))
    hi = lo + timedelta(minutes=draw(st.integers(0, 60 * 24 * 60)))
    return s, lo, hi


def nonexistent(wall: datetime, tz: ZoneInfo) -> bool:
    return wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall


FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(cases())
def test_occurrences_are_sorted_unique_and_inside_the_range(case):
    s, lo, hi = case
    occ = s.occurrences_between(lo, hi)
    starts = [o.starts_at for o in occ]
    assert starts == sorted(set(starts))
    assert all(lo <= at < hi and at.tzinfo is UTC for at in starts)
    assert len({o.key for o in occ}) == len(occ)
    assert all(o.key == f"{SID}@{o.local_start.isoformat()}" for o in occ)


@FAST
@given(cases())
def test_wall_time_is_the_rules_unless_a_gap_moved_it_forward_by_the_gap(case):
    s, lo, hi = case
    tz = ZoneInfo(s.timezone)
    for o in s.occurrences_between(lo, hi):
        actual = o.starts_at.astimezone(tz)
        if actual.replace(tzinfo=None) != o.local_start:
            assert nonexistent(o.local_start, tz)
            gap = actual.utcoffset() - o.local_start.replace(tzinfo=tz).utcoffset()
            assert gap > timedelta(0)
            assert actual.replace(tzinfo=None) - o.local_start == gap


@FAST
@given(cases(hourly=False))
def test_a_daily_weekly_or_monthly_rule_keeps_dtstarts_time_and_fires_once_a_day_at_most(case):
    s, lo, hi = case
    occ = s.occurrences_between(lo, hi)
    assert all(o.local_start.time() == s.dtstart.time() for o in occ)
    assert len({o.local_start.date() for o in occ}) == len(occ)  # no double firing at fall-back


@FAST
@given(cases(), st.floats(0, 1))
def test_splitting_the_range_splits_the_occurrences(case, where):
    s, lo, hi = case
    mid = lo + (hi - lo) * where
    assert s.occurrences_between(lo, hi) == s.occurrences_between(lo, mid) + s.occurrences_between(mid, hi)


@FAST
@given(cases())
def test_expansion_matches_dateutil_from_the_real_dtstart(case):
    # The core moves DTSTART forward to stay fast on old schedules; the plain expansion is the oracle.
    s, lo, hi = case
    assume(not (s.rrule.startswith("FREQ=HOURLY") and s.dtstart.year < 2025))  # the oracle is slow there
    tz = ZoneInfo(s.timezone)
    oracle = rrulestr(s.rrule + ";WKST=MO", dtstart=s.dtstart)
    naive = oracle.between(
        lo.astimezone(tz).replace(tzinfo=None) - timedelta(days=2),
        hi.astimezone(tz).replace(tzinfo=None) + timedelta(days=2),
        inc=True,
    )
    expected: dict[datetime, datetime] = {}
    for wall in naive:
        at = wall.replace(tzinfo=tz).astimezone(UTC)
        if lo <= at < hi:
            expected.setdefault(at, wall)
    assert [(o.starts_at, o.local_start) for o in s.occurrences_between(lo, hi)] == sorted(expected.items())


@st.composite
def plain_daily_rules(draw: st.DrawFn) -> str:
    """Daily rules of INTERVAL, BYHOUR, BYMINUTE and UNTIL only: the core expands them without
    dateutil (`_daily_walls`)."""
    parts = ["FREQ=DAILY"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.integers(1, 9))}")
    if draw(st.booleans()):
        hours = draw(st.lists(st.integers(0, 23), min_size=1, max_size=4, unique=True))
        parts.append("BYHOUR=" + ",".join(map(str, hours)))
    if draw(st.booleans()):
        minutes = draw(st.lists(st.sampled_from([0, 5, 15, 30, 45, 59]), min_size=1, max_size=3, unique=True))
        parts.append("BYMINUTE=" + ",".join(map(str, minutes)))
    if draw(st.booleans()):
        u = draw(st.datetimes(datetime(2020, 1, 1), datetime(2028, 12, 31)))
        parts.append(f"UNTIL={u:%Y%m%dT%H%M%S}{draw(st.sampled_from(['', 'Z']))}")
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(['MO', 'SU']))}")
    return ";".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plain_daily_rules(),
    wall_times,
    st.sampled_from(ZONES),
    st.integers(-3 * 24 * 60, 3 * 366 * 24 * 60),  # the window's start, in minutes after DTSTART
    st.integers(0, 40 * 24 * 60),
)
def test_a_plain_daily_rule_is_expanded_as_dateutil_expands_it(rule, start, tz, after, minutes):
    from tailtracker_core.model.care import _build, _daily_walls, _parse_rule, _until_local

    try:
        s = schedule(rule, start, tz)
    except ValidationFailed:  # e.g. an UNTIL before the first occurrence
        assume(False)
        return
    parts = _parse_rule(s.rrule)
    until = _until_local(parts["UNTIL"], ZoneInfo(tz)) if "UNTIL" in parts else None
    lo = s.dtstart + timedelta(minutes=after)  # to the minute: the edges can be wall times
    hi = lo + timedelta(minutes=minutes)
    oracle = _build(parts, s.dtstart, until).between(lo, hi, inc=True)  # from the real DTSTART
    assert _daily_walls(parts, s.dtstart, until, lo, hi) == oracle


# Hand-checked transitions (2026). -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "wall", "expected_utc", "expected_local"),
    [
        # spring forward: the wall time does not exist; read with the offset from before the gap
        ("Europe/London", datetime(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1, 30), "02:30+01:00"),
        ("America/New_York", datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 7, 30), "03:30-04:00"),
        ("Australia/Lord_Howe", datetime(2026, 10, 4, 2, 15), utc(2026, 10, 3, 15, 45), "02:45+11:00"),
        ("Pacific/Chatham", datetime(2026, 9, 27, 3, 0), utc(2026, 9, 26, 14, 15), "04:00+13:45"),
        # fall back: the wall time happens twice; the first one is meant
        ("Europe/London", datetime(2026, 10, 25, 1, 30), utc(2026, 10, 25, 0, 30), "01:30+01:00"),
        ("America/New_York", datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30), "01:30-04:00"),
        ("Australia/Lord_Howe", datetime(2026, 4, 5, 1, 45), utc(2026, 4, 4, 14, 45), "01:45+11:00"),
        ("Pacific/Chatham", datetime(2026, 4, 5, 2, 30), utc(2026, 4, 4, 12, 45), "02:30+13:45"),
    ],
)
def test_exact_transitions_fire_once_at_the_rfc_5545_instant(tz, wall, expected_utc, expected_local):
    s = schedule("FREQ=DAILY", wall - timedelta(days=10), tz)
    day = s.occurrences_between(expected_utc - timedelta(hours=12), expected_utc + timedelta(hours=12))
    assert [o.starts_at for o in day] == [expected_utc]
    assert day[0].local_start == wall
    assert (
        day[0].starts_at.astimezone(ZoneInfo(tz)).isoformat()[11:]
        == expected_local[:5] + ":00" + expected_local[5:]
    )


def test_a_daily_0800_dose_stays_at_0800_local_across_both_london_changes():
    s = schedule("FREQ=DAILY", datetime(2026, 1, 1, 8, 0), "Europe/London")
    occ = s.occurrences_between(utc(2026, 3, 27), utc(2026, 11, 1))
    assert len(occ) == (datetime(2026, 11, 1) - datetime(2026, 3, 27)).days
    london = ZoneInfo("Europe/London")
    assert {o.starts_at.astimezone(london).time().isoformat() for o in occ} == {"08:00:00"}
    assert {o.starts_at.hour for o in occ} == {7, 8}


def test_hourly_rule_through_the_gap_fires_once_per_instant():
    s = schedule("FREQ=HOURLY", datetime(2026, 3, 1, 0, 0), "Europe/London")
    occ = s.occurrences_between(utc(2026, 3, 29, 0), utc(2026, 3, 29, 3))
    # wall 01:00 does not exist and means 02:00 BST, the instant wall 02:00 names: one occurrence
    assert [o.starts_at for o in occ] == [utc(2026, 3, 29, 0), utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)]
    assert [o.local_start.hour for o in occ] == [0, 1, 3]


def test_hourly_rule_through_the_repeated_hour_follows_wall_time():
    s = schedule("FREQ=HOURLY", datetime(2026, 10, 1, 0, 0), "Europe/London")
    occ = s.occurrences_between(utc(2026, 10, 24, 23), utc(2026, 10, 25, 3))
    assert [o.local_start.hour for o in occ] == [0, 1, 2]  # wall 01:00 once, in its first instance
    assert [o.starts_at.hour for o in occ] == [23, 0, 2]


def test_until_in_utc_is_compared_as_the_instant_it_names():
    s = schedule("FREQ=DAILY;UNTIL=20260701T070000Z", datetime(2026, 6, 28, 8, 0), "Europe/London")
    occ = s.occurrences_between(utc(2026, 6, 1), utc(2026, 8, 1))
    assert [o.local_start.day for o in occ] == [28, 29, 30, 1]  # 1 July 08:00 BST is 07:00Z


def test_until_as_a_date_includes_that_whole_local_day():
    s = schedule("FREQ=DAILY;UNTIL=20260630", datetime(2026, 6, 28, 20, 0), "America/New_York")
    occ = s.occurrences_between(utc(2026, 6, 1), utc(2026, 8, 1))
    assert [o.local_start.day for o in occ] == [28, 29, 30]


def test_keys_do_not_depend_on_the_range_asked():
    s = schedule("FREQ=WEEKLY;BYDAY=MO,TH", datetime(2026, 1, 5, 7, 45), "Pacific/Chatham")
    wide = s.occurrences_between(utc(2026, 1, 1), utc(2026, 12, 31))
    narrow = s.occurrences_between(utc(2026, 6, 1), utc(2026, 6, 30))
    assert {o.key for o in narrow} <= {o.key for o in wide}
    assert len(wide) == 104


def test_an_old_hourly_schedule_is_expanded_in_the_time_of_its_range():
    s = schedule("FREQ=HOURLY;INTERVAL=6", datetime(2000, 1, 1, 2, 0), "Australia/Lord_Howe")
    began = time.perf_counter()
    occ = s.occurrences_between(utc(2099, 1, 1), utc(2099, 1, 8))
    assert time.perf_counter() - began < 0.1
    assert len(occ) == 28


# Ranges. ------------------------------------------------------------------------------------------


def test_range_guards():
    s = schedule("FREQ=DAILY", datetime(2026, 1, 1, 8), "UTC")
    with pytest.raises(ValidationFailed) as err:
        s.occurrences_between(utc(2026, 2, 1), utc(2026, 1, 1))
    assert err.value.errors[0].field == "to"
    with pytest.raises(ValidationFailed) as err:
        s.occurrences_between(utc(2026, 1, 1), utc(2027, 1, 2, 0, 0, 1))
    assert err.value.errors[0].field == "to"
    with pytest.raises(ValidationFailed) as err:
        s.occurrences_between(datetime(2026, 1, 1), utc(2026, 1, 2))
    assert err.value.errors[0].field == "from"
    assert len(s.occurrences_between(utc(2026, 1, 1), utc(2026, 1, 1) + timedelta(days=366))) == 366
    assert s.occurrences_between(utc(2026, 1, 1, 8), utc(2026, 1, 1, 8)) == []


def test_aware_bounds_in_any_offset_mean_their_instant():
    s = schedule("FREQ=DAILY", datetime(2026, 1, 1, 8), "Europe/London")
    tokyo = ZoneInfo("Asia/Tokyo")
    a = s.occurrences_between(datetime(2026, 5, 1, 9, tzinfo=tokyo), datetime(2026, 5, 3, 9, tzinfo=tokyo))
    b = s.occurrences_between(utc(2026, 5, 1, 0), utc(2026, 5, 3, 0))
    assert a == b


# Validation. --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "dtstart", "tz", "field"),
    [
        ("FREQ=DAILY;BYDAY=XX", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("FREQ=FORTNIGHTLY", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("INTERVAL=2", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("FREQ=DAILY;FREQ=WEEKLY", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("FREQ=DAILY;INTERVAL=0", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20260301T000000Z", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("FREQ=DAILY;UNTIL=2026-03-01", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("FREQ=DAILY;UNTIL=20260231T000000Z", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("FREQ=DAILY;UNTIL=20251231T000000Z", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("FREQ=DAILY;BYSECOND=5", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("FREQ=MINUTELY;INTERVAL=90", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("FREQ=HOURLY;BYMINUTE=0,30", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        (
            "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12;BYMINUTE=0,30",
            datetime(2026, 1, 1, 8),
            "UTC",
            "rrule",
        ),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", datetime(2026, 1, 1, 8), "UTC", "rrule"),
        ("FREQ=DAILY", datetime(2026, 1, 1, 8), "Mars/Olympus_Mons", "timezone"),
        ("FREQ=DAILY", datetime(2026, 1, 1, 8, tzinfo=UTC), "UTC", "dtstart"),
        ("FREQ=DAILY", datetime(1999, 12, 31, 8), "UTC", "dtstart"),
        ("FREQ=DAILY", datetime(2101, 1, 1, 8), "UTC", "dtstart"),
        ("FREQ=DAILY", datetime(2026, 1, 1, 8, 0, 30), "UTC", "dtstart"),
    ],
)
def test_invalid_schedules_are_refused_naming_the_field(rule, dtstart, tz, field):
    with pytest.raises(ValidationFailed) as err:
        schedule(rule, dtstart, tz)
    assert err.value.errors[0].field == field


def test_a_good_schedule_is_normalised():
    s = CareSchedule.create(
        SID,
        uuid4(),
        CareKind.FEEDING,
        "  Dinner ",
        "rrule:freq=daily;byhour=7,19",
        datetime(2026, 1, 1, 7),
        "Europe/London",
    )
    assert (s.title, s.rrule) == ("Dinner", "FREQ=DAILY;BYHOUR=7,19")
    assert len(s.occurrences_between(utc(2026, 1, 2), utc(2026, 1, 3))) == 2
    with pytest.raises(ValidationFailed) as err:
        CareSchedule.create(SID, uuid4(), CareKind.OTHER, " ", "FREQ=DAILY", datetime(2026, 1, 1), "UTC")
    assert err.value.errors[0].field == "title"


def test_a_rule_that_fires_every_leap_day_is_accepted():
    s = schedule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", datetime(2026, 1, 1, 9), "UTC")
    assert [o.local_start.year for o in s.occurrences_between(utc(2028, 1, 1), utc(2028, 12, 31))] == [2028]


# Completion. --------------------------------------------------------------------------------------


def test_completing_an_occurrence_records_who_and_when_and_marks_it():
    s = schedule("FREQ=DAILY", datetime(2026, 3, 1, 1, 30), "Europe/London")
    occ = s.occurrences_between(utc(2026, 3, 28), utc(2026, 3, 31))
    gap_day = occ[1]
    assert gap_day.local_start == datetime(2026, 3, 29, 1, 30)
    who = uuid4()
    done = s.complete(gap_day.key, who, utc(2026, 3, 29, 6))
    assert done == CareCompletion(SID, gap_day.key, who, utc(2026, 3, 29, 6), gap_day.starts_at)
    marked = mark_completed(occ, [done])
    assert [o.completed for o in marked] == [False, True, False]
    assert marked[1].completion == done


def test_the_first_completion_of_an_occurrence_wins():
    o = Occurrence(SID, "k", datetime(2026, 1, 1), utc(2026, 1, 1))
    first = CareCompletion(SID, "k", uuid4(), utc(2026, 1, 1, 1))
    later = CareCompletion(SID, "k", uuid4(), utc(2026, 1, 1, 2))
    assert mark_completed([o], [later, first])[0].completion == first


@pytest.mark.parametrize(
    "key",
    [
        f"{SID}@2026-03-29T01:31:00",  # not a wall time of the rule
        f"{uuid4()}@2026-03-29T01:30:00",  # another schedule
        f"{SID}@yesterday",
        f"{SID}@2026-03-29T01:30:00+00:00",
        "nonsense",
    ],
)
def test_completing_something_that_is_not_an_occurrence_is_refused(key):
    s = schedule("FREQ=DAILY", datetime(2026, 3, 1, 1, 30), "Europe/London")
    with pytest.raises(ValidationFailed) as err:
        s.complete(key, uuid4(), utc(2026, 3, 30))
    assert err.value.errors[0].field == "occurrence_key"


def test_an_occurrence_can_be_completed_from_a_day_before_it():
    s = schedule("FREQ=DAILY", datetime(2026, 3, 1, 8, 0), "UTC")
    key = f"{SID}@2026-03-10T08:00:00"
    with pytest.raises(ValidationFailed):
        s.complete(key, uuid4(), utc(2026, 3, 9, 7, 59))
    assert s.complete(key, uuid4(), utc(2026, 3, 9, 8, 0)).occurrence_key == key
