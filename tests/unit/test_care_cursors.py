"""Reminder cursors (model/cursors.py), next_occurrence, revisions and medical records."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tailtracker_core.errors import ValidationFailed
from tailtracker_core.model.care import CareKind, CareSchedule
from tailtracker_core.model.cursors import (
    EARLIEST_OFFSET,
    LATEST_OFFSET,
    OFFSET_STEP,
    care_next_fire_at,
    vaccination_candidates,
    vaccination_cursors,
    vaccination_next_fire_at,
)
from tailtracker_core.model.medical import MAX_FILES, MedicalRecord, MedicalRecordKind
from tailtracker_core.model.reminders import (
    Channel,
    NotificationPreferences,
    Recipient,
    ReminderSettings,
    care_reminders,
    vaccination_reminders,
)
from tailtracker_core.model.vaccines import Vaccination, Vaccine
from tests.unit.test_care_schedules import cases

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SID = UUID("00000000-0000-7000-8000-000000000001")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def dose(due: date | None, administered: date = date(2026, 1, 1), code: str = "rabies") -> Vaccination:
    return Vaccination(uuid4(), uuid4(), Vaccine(code, code), administered, due)


# --- the offsets the vaccination cursor relies on ---------------------------------------------


def test_every_zone_in_use_has_a_quarter_hour_offset_within_minus_12_and_plus_14() -> None:
    """The band [-12:00, +14:00] and the 15-minute grid hold for every zone, 1990 to 2040."""
    instants = [utc(y, m, 1) for y in range(1990, 2041, 5) for m in (1, 4, 7, 10)]
    for name in available_timezones():
        tz = ZoneInfo(name)
        for at in instants:
            off = at.astimezone(tz).utcoffset()
            assert off is not None
            assert -LATEST_OFFSET <= off <= EARLIEST_OFFSET, (name, at, off)
            assert off % OFFSET_STEP == timedelta(0), (name, at, off)


# --- vaccination cursors ------------------------------------------------------------------------

dues = st.dates(date(2000, 1, 10), date(2100, 1, 1))
afters = st.datetimes(datetime(2000, 1, 1), datetime(2100, 2, 1), timezones=st.just(UTC))


@FAST
@given(dues, afters)
def test_the_vaccination_cursor_is_the_first_candidate_at_or_after(due: date, after: datetime) -> None:
    expected = next((c for c in vaccination_candidates(due) if c >= after), None)
    assert vaccination_next_fire_at(dose(due, date(1999, 1, 1)), False, after) == expected


@FAST
@given(dues, afters, st.sampled_from(sorted(available_timezones())), st.sampled_from([7, 1]))
def test_no_reminder_in_any_zone_falls_before_the_cursor(
    due: date, after: datetime, zone: str, days: int
) -> None:
    """Every real reminder instant (09:00 local, RFC 5545 in gaps) is a candidate; none that is
    at or after `after` comes before the cursor."""
    wall = datetime.combine(due - timedelta(days=days), time(9, 0))
    at = wall.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    assert at in vaccination_candidates(due)
    cursor = vaccination_next_fire_at(dose(due, date(1999, 1, 1)), False, after)
    if at >= after:
        assert cursor is not None and cursor <= at


@FAST
@given(dues, afters)
def test_advancing_past_each_cursor_walks_every_candidate_once(due: date, after: datetime) -> None:
    d = dose(due, date(1999, 1, 1))
    seen, cursor = [], vaccination_next_fire_at(d, False, after)
    while cursor is not None:
        seen.append(cursor)
        cursor = vaccination_next_fire_at(d, False, cursor + timedelta(microseconds=1))
    assert seen == [c for c in vaccination_candidates(due) if c >= after]


def test_the_vaccination_cursor_by_hand() -> None:
    d = dose(date(2026, 12, 10))
    # 7 days before: 2026-12-03 09:00 at UTC+14 is 2026-12-02 19:00Z.
    assert vaccination_next_fire_at(d, False, utc(2026, 11, 25)) == utc(2026, 12, 2, 19)
    # inside the band: the next quarter hour
    assert vaccination_next_fire_at(d, False, utc(2026, 12, 3, 9, 1)) == utc(2026, 12, 3, 9, 15)
    # after the last zone's 7-day reminder (21:00Z), the 1-day band: 12-08 19:00Z
    assert vaccination_next_fire_at(d, False, utc(2026, 12, 3, 21, 0, 1)) == utc(2026, 12, 8, 19)
    assert vaccination_next_fire_at(d, False, utc(2026, 12, 9, 21)) == utc(2026, 12, 9, 21)
    assert vaccination_next_fire_at(d, False, utc(2026, 12, 9, 21, 0, 1)) is None
    assert vaccination_next_fire_at(d, True, utc(2026, 11, 25)) is None
    assert vaccination_next_fire_at(dose(None), False, utc(2026, 11, 25)) is None
    with pytest.raises(ValidationFailed):
        vaccination_next_fire_at(d, False, datetime(2026, 11, 25))
    custom = ReminderSettings(vaccination_days_before=(3,), vaccination_time=time(10, 30))
    assert vaccination_next_fire_at(d, False, utc(2026, 11, 25), custom) == utc(2026, 12, 6, 20, 30)


def test_a_later_dose_clears_the_earlier_cursor_and_deleting_it_brings_it_back() -> None:
    first = dose(date(2027, 1, 1), date(2026, 1, 1))
    later = Vaccination(
        uuid4(), first.pet_id, Vaccine("rabies", "Rabies"), date(2026, 6, 1), date(2029, 6, 1)
    )
    other = Vaccination(uuid4(), first.pet_id, Vaccine("dhpp", "DHPP"), date(2026, 6, 1), date(2027, 6, 1))
    now = utc(2026, 11, 25)
    both = vaccination_cursors([first, later, other], now)
    assert both[first.id] is None
    assert both[later.id] == vaccination_next_fire_at(later, False, now)
    assert both[other.id] == vaccination_next_fire_at(other, False, now)
    assert vaccination_cursors([first, other], now)[first.id] == vaccination_next_fire_at(first, False, now)


@FAST
@given(dues, afters, st.sampled_from(["Pacific/Kiritimati", "Etc/GMT+12", "Europe/London", "Asia/Kathmandu"]))
def test_the_planner_finds_nothing_before_the_cursor(due: date, after: datetime, zone: str) -> None:
    """The reminder planner (model/reminders.py) over [after, cursor) plans nothing for anyone."""
    d = dose(due, date(1999, 1, 1))
    cursor = vaccination_next_fire_at(d, False, after)
    end = cursor if cursor is not None else after + timedelta(days=366)
    people = [Recipient(uuid4(), zone, NotificationPreferences(), frozenset({Channel.IN_APP}))]
    if end > after:
        assert vaccination_reminders([d], people, after, min(end, after + timedelta(days=366))) == []


# --- care cursors and next_occurrence ---------------------------------------------------------


@FAST
@given(cases())
def test_next_occurrence_is_the_first_of_the_expansion_at_or_after(case) -> None:  # type: ignore[no-untyped-def]
    s, lo, hi = case
    nxt = s.next_occurrence(lo)
    occ = s.occurrences_between(lo, hi)
    if occ:
        assert nxt == occ[0]
    elif nxt is not None:
        assert nxt.starts_at >= hi


@FAST
@given(cases())
def test_the_care_cursor_plans_nothing_before_it(case) -> None:  # type: ignore[no-untyped-def]
    s, lo, _ = case
    cursor = care_next_fire_at(s, lo)
    people = [Recipient(uuid4(), "UTC", NotificationPreferences(), frozenset({Channel.IN_APP}))]
    end = cursor if cursor is not None else lo + timedelta(days=366)
    assert care_reminders([s], [], people, lo, min(end, lo + timedelta(days=366))) == []
    if cursor is not None:
        assert care_reminders([s], [], people, cursor, cursor + timedelta(seconds=1)) != []


def test_care_cursors_by_hand() -> None:
    pill = CareSchedule.create(
        SID, uuid4(), CareKind.MEDICATION, "Pill", "FREQ=DAILY", datetime(2026, 3, 1, 8), "Europe/London"
    )
    assert care_next_fire_at(pill, utc(2026, 3, 28, 9)) == utc(2026, 3, 29, 7)  # 08:00 BST
    assert care_next_fire_at(pill, utc(2026, 3, 29, 7)) == utc(2026, 3, 29, 7)  # at: included
    walk = CareSchedule.create(
        SID, uuid4(), CareKind.WALK, "Walk", "FREQ=DAILY", datetime(2026, 3, 1, 8), "UTC"
    )
    assert care_next_fire_at(walk, utc(2026, 3, 28)) is None  # not a reminded kind
    short = CareSchedule.create(
        SID, uuid4(), CareKind.FEEDING, "Food", "FREQ=DAILY;COUNT=3", datetime(2026, 3, 1, 8), "UTC"
    )
    assert care_next_fire_at(short, utc(2026, 3, 3, 8)) == utc(2026, 3, 3, 8)
    assert care_next_fire_at(short, utc(2026, 3, 3, 8, 1)) is None  # exhausted
    until = CareSchedule.create(
        SID,
        uuid4(),
        CareKind.FEEDING,
        "Food",
        "FREQ=WEEKLY;UNTIL=20260401T000000Z",
        datetime(2026, 3, 1, 8),
        "UTC",
    )
    assert care_next_fire_at(until, utc(2026, 3, 29, 9)) is None
    sparse = CareSchedule.create(
        SID,
        uuid4(),
        CareKind.MEDICATION,
        "Leap",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        datetime(2028, 2, 29, 8),
        "UTC",
    )
    assert care_next_fire_at(sparse, utc(2028, 3, 1)) == utc(2032, 2, 29, 8)
    assert care_next_fire_at(sparse, utc(2097, 1, 1)) is None  # 2100 is no leap year; none before 2101


def test_revising_a_schedule_checks_again_and_bumps_the_version() -> None:
    s = CareSchedule.create(
        SID, uuid4(), CareKind.MEDICATION, "Pill", "FREQ=DAILY", datetime(2026, 3, 1, 8), "UTC", " a note "
    )
    assert s.notes == "a note" and s.version == 1
    r = s.revise(CareKind.FEEDING, "Food", "rrule:freq=weekly", datetime(2026, 3, 2, 7), "Europe/Paris", None)
    assert (r.id, r.pet_id, r.kind, r.rrule, r.timezone, r.notes, r.version) == (
        s.id,
        s.pet_id,
        CareKind.FEEDING,
        "FREQ=WEEKLY",
        "Europe/Paris",
        None,
        2,
    )
    with pytest.raises(ValidationFailed) as e:
        s.revise(CareKind.FEEDING, "Food", "FREQ=SECONDLY", datetime(2026, 3, 2, 7), "UTC", None)
    assert e.value.errors[0].field == "rrule"
    with pytest.raises(ValidationFailed) as e:
        s.revise(CareKind.FEEDING, "Food", "FREQ=DAILY", datetime(2026, 3, 2, 7), "UTC", "\x00")
    assert e.value.errors[0].field == "notes"


def test_revising_a_vaccination_checks_again_and_bumps_the_version() -> None:
    d = Vaccination.record(
        uuid4(), uuid4(), Vaccine("Rabies", "Rabies"), date(2026, 1, 1), date(2026, 11, 25)
    )
    r = d.revise(
        Vaccine("rabies", "Rabies"), date(2026, 2, 1), date(2026, 11, 25), date(2029, 2, 1), " L1 ", "", None
    )
    assert (r.id, r.administered_on, r.next_due_on, r.lot_number, r.clinic, r.version) == (
        d.id,
        date(2026, 2, 1),
        date(2029, 2, 1),
        "L1",
        None,
        2,
    )
    with pytest.raises(ValidationFailed) as e:
        d.revise(d.vaccine, date(2026, 2, 1), date(2026, 11, 25), date(2026, 1, 1), None, None, None)
    assert e.value.errors[0].field == "next_due_on"


# --- medical records ------------------------------------------------------------------------------

NOW = utc(2026, 11, 25, 12)


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(MedicalRecordKind),
    occurred=st.dates(date(1970, 1, 1), date(2030, 1, 1)),
    title=st.text(max_size=210),
    vet=st.none() | st.text(max_size=210),
    files=st.lists(st.uuids(), max_size=25),
)
def test_a_medical_record_is_checked_and_normalised(kind, occurred, title, vet, files) -> None:  # type: ignore[no-untyped-def]
    who = uuid4()
    try:
        rec = MedicalRecord.create(uuid4(), uuid4(), kind, occurred, title, who, NOW, vet=vet, file_ids=files)
    except ValidationFailed as exc:
        field = exc.errors[0].field
        assert field in {"occurred_on", "title", "vet", "file_ids"}
        if field == "occurred_on":
            assert not date(1980, 1, 1) <= occurred <= NOW.date()
        if field == "file_ids":
            assert len(set(files)) > MAX_FILES
        return
    assert date(1980, 1, 1) <= rec.occurred_on <= NOW.date()
    assert 1 <= len(rec.title) <= 200 and rec.title == rec.title.strip()
    assert rec.file_ids == tuple(dict.fromkeys(files))
    assert rec.version == 1 and rec.created_at == rec.updated_at == NOW and rec.created_by == who
    later = NOW + timedelta(hours=1)
    revised = rec.revise(kind, rec.occurred_on, rec.title, later, "n", None, [])
    assert (revised.version, revised.created_at, revised.updated_at, revised.file_ids) == (2, NOW, later, ())


def test_a_future_medical_record_is_refused() -> None:
    with pytest.raises(ValidationFailed) as e:
        MedicalRecord.create(
            uuid4(), uuid4(), MedicalRecordKind.VISIT, date(2026, 11, 26), "Soon", uuid4(), NOW
        )
    assert e.value.errors[0].field == "occurred_on"
