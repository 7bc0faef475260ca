"""Reminder planning: recipients, channels, idempotency keys, completion, superseding, quiet hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from tailtracker_core.model.care import CareKind, CareSchedule
from tailtracker_core.model.families import Family
from tailtracker_core.model.reminders import (
    Category,
    Channel,
    NotificationPreferences,
    QuietHours,
    Recipient,
    care_reminders,
    deliver_at,
    recipients_of,
    vaccination_reminders,
)
from tailtracker_core.model.roles import Role
from tailtracker_core.model.vaccines import CORE_VACCINES, Vaccination

PET = uuid4()
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ZONES = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "UTC"]


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def pill(kind: CareKind = CareKind.MEDICATION, tz: str = "Europe/London") -> CareSchedule:
    return CareSchedule.create(
        uuid4(), PET, kind, "Pill", "FREQ=DAILY;BYHOUR=8,20", datetime(2026, 1, 1, 8), tz
    )


EMAIL_ON = NotificationPreferences({(Category.CARE_REMINDER, Channel.EMAIL): True})
ALL_CHANNELS = frozenset(Channel)

recipients_strategy = st.lists(
    st.builds(
        Recipient,
        st.uuids(),
        st.sampled_from(ZONES),
        st.sampled_from([NotificationPreferences(), EMAIL_ON]),
        st.sampled_from([frozenset({Channel.IN_APP}), ALL_CHANNELS]),
    ),
    max_size=4,
    unique_by=lambda r: r.user_id,
)


def test_recipients_are_the_family_members_who_may_read():
    owner, member, viewer, stranger = (uuid4() for _ in range(4))
    fam = Family.found(uuid4(), "Home", owner, T0)
    fam.join(member, Role.MEMBER, T0)
    fam.join(viewer, Role.VIEWER, T0)
    people = {u: Recipient(u, "UTC") for u in (owner, member, viewer, stranger)}
    assert {r.user_id for r in recipients_of(fam, people)} == {owner, member, viewer}


def test_medication_reminds_at_each_occurrence_in_app_always_and_by_email_when_chosen():
    a = Recipient(uuid4(), "UTC", EMAIL_ON, ALL_CHANNELS)
    b = Recipient(uuid4(), "UTC", NotificationPreferences(), ALL_CHANNELS)  # email is opt-in
    c = Recipient(uuid4(), "UTC", EMAIL_ON)  # chose email but has no verified address
    s = pill()
    got = care_reminders([s], [], [a, b, c], utc(2026, 1, 2), utc(2026, 1, 3))
    assert {(r.recipient_id, r.channel) for r in got} == {
        (a.user_id, Channel.IN_APP),
        (a.user_id, Channel.EMAIL),
        (b.user_id, Channel.IN_APP),
        (c.user_id, Channel.IN_APP),
    } and len(got) == 8
    assert {r.due_at for r in got} == {utc(2026, 1, 2, 8), utc(2026, 1, 2, 20)}
    assert all(r.category is Category.CARE_REMINDER and r.pet_id == PET for r in got)


def test_only_medication_and_feeding_remind():
    r = [Recipient(uuid4(), "UTC")]
    for kind in CareKind:
        got = care_reminders([pill(kind)], [], r, utc(2026, 1, 2), utc(2026, 1, 3))
        assert bool(got) == (kind in (CareKind.MEDICATION, CareKind.FEEDING))


def test_a_completed_occurrence_is_never_reminded():
    s = pill()
    r = [Recipient(uuid4(), "UTC", EMAIL_ON, ALL_CHANNELS)]
    morning = s.occurrences_between(utc(2026, 1, 2), utc(2026, 1, 2, 12))[0]
    done = s.complete(morning.key, uuid4(), utc(2026, 1, 2, 7))
    got = care_reminders([s], [done], r, utc(2026, 1, 2), utc(2026, 1, 3))
    assert {x.subject for x in got} == {f"{s.id}@2026-01-02T20:00:00"}


@settings(max_examples=60, deadline=None)
@given(recipients_strategy, st.integers(0, 300), st.integers(1, 20), st.sampled_from(ZONES))
def test_keys_are_unique_per_occurrence_recipient_and_channel_and_windows_never_repeat(people, day, n, tz):
    s = pill(tz=tz)
    start = T0 + timedelta(days=day)
    cut = start + timedelta(hours=7 * n)
    whole = care_reminders([s], [], people, start, start + timedelta(days=6))
    split = care_reminders([s], [], people, start, cut) + care_reminders(
        [s], [], people, cut, start + timedelta(days=6)
    )
    keys = [r.key for r in whole]
    assert len(keys) == len(set(keys)) == len({(r.subject, r.recipient_id, r.channel) for r in whole})
    assert sorted(keys) == sorted(r.key for r in split)  # a restarted scheduler neither loses nor duplicates


def dose(given_on: date, due: date | None) -> Vaccination:
    return Vaccination.record(
        uuid4(), PET, CORE_VACCINES["rabies"], given_on, date(2099, 1, 1), next_due_on=due
    )


def test_vaccinations_remind_7_and_1_days_before_at_0900_in_each_recipients_timezone():
    v = dose(date(2025, 4, 1), date(2026, 4, 1))
    london, sydney = Recipient(uuid4(), "Europe/London"), Recipient(uuid4(), "Australia/Sydney")
    got = vaccination_reminders([v], [london, sydney], utc(2026, 3, 1), utc(2026, 4, 30))
    when = {(r.recipient_id, r.due_at) for r in got}
    assert when == {
        (london.user_id, utc(2026, 3, 25, 9)),  # 09:00 GMT
        (london.user_id, utc(2026, 3, 31, 8)),  # 09:00 BST
        (sydney.user_id, utc(2026, 3, 24, 22)),  # 09:00 AEDT
        (sydney.user_id, utc(2026, 3, 30, 22)),
    }
    assert len({r.key for r in got}) == 4


def test_superseded_or_undated_doses_are_never_reminded():
    old, new = dose(date(2025, 4, 1), date(2026, 4, 1)), dose(date(2026, 3, 1), date(2029, 3, 1))
    undated = Vaccination.record(uuid4(), PET, CORE_VACCINES["dhpp"], date(2025, 1, 1), date(2026, 1, 1))
    got = vaccination_reminders(
        [old, new, undated], [Recipient(uuid4(), "UTC")], utc(2026, 3, 1), utc(2027, 3, 1)
    )
    assert got == []


def test_quiet_hours_defer_care_reminders_to_their_end():
    quiet = NotificationPreferences(quiet_hours=QuietHours(time(22), time(7)))
    r = Recipient(uuid4(), "Europe/London", quiet)
    late = CareSchedule.create(
        uuid4(), PET, CareKind.MEDICATION, "Late", "FREQ=DAILY", datetime(2026, 6, 1, 23), "Europe/London"
    )
    [rem] = care_reminders([late], [], [r], utc(2026, 6, 2), utc(2026, 6, 3))
    assert rem.due_at == utc(2026, 6, 2, 22)  # 23:00 BST
    assert rem.deliver_at == utc(2026, 6, 3, 6)  # 07:00 BST the next morning


def test_security_and_own_pet_alerts_ignore_quiet_hours_others_wait():
    r = Recipient(uuid4(), "UTC", NotificationPreferences(quiet_hours=QuietHours(time(22), time(7))))
    night = utc(2026, 6, 1, 23)
    assert deliver_at(night, Category.SECURITY, r) == night
    assert deliver_at(night, Category.SIGHTING, r, about_own_pet=True) == night
    assert deliver_at(night, Category.LOST_PET_ALERT, r, about_own_pet=True) == night
    assert deliver_at(night, Category.LOST_PET_ALERT, r) == utc(2026, 6, 2, 7)
    assert deliver_at(night, Category.LOST_PET_MATCH, r, about_own_pet=True) == utc(2026, 6, 2, 7)
    assert deliver_at(utc(2026, 6, 1, 12), Category.FAMILY, r) == utc(2026, 6, 1, 12)


times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@settings(max_examples=300)
@given(
    st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    times,
    times,
    st.sampled_from(ZONES),
    st.sampled_from(list(Category)),
)
def test_deferral_never_goes_back_and_lands_outside_quiet_hours(at, start, end, tz, category):
    quiet = QuietHours(start, end)
    r = Recipient(uuid4(), tz, NotificationPreferences(quiet_hours=quiet))
    out = deliver_at(at, category, r)
    assert at <= out <= at + timedelta(hours=25)
    local = out.astimezone(ZoneInfo(tz)).time().replace(tzinfo=None)
    if category is not Category.SECURITY and out != at:
        assert not quiet.contains(local) or local == end  # the end is outside [start, end)
    if category is Category.SECURITY or start == end:
        assert out == at


def test_preferences_defaults_and_choices():
    p = NotificationPreferences()
    assert p.wants(Category.CARE_REMINDER, Channel.IN_APP)
    assert not p.wants(Category.CARE_REMINDER, Channel.EMAIL)
    assert p.wants(Category.CARE_REMINDER, Channel.PUSH)
    assert p.wants(Category.SECURITY, Channel.EMAIL)
    assert not p.wants(Category.MARKETING, Channel.EMAIL)
    assert not p.wants(Category.BILLING, Channel.SMS)
    off = NotificationPreferences({(Category.CARE_REMINDER, Channel.IN_APP): False})
    assert off.wants(Category.CARE_REMINDER, Channel.IN_APP)  # in_app is always stored
