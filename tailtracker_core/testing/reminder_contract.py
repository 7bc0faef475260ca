"""Contract of the reminder scheduler's port (`uow.reminders`) and of a scheduler pass over it
(`usecases.reminders.run_pass`), as a pytest base class.

Subclass `ReminderSchedulerContract` and provide `uow_factory` (a UnitOfWorkFactory over one
EMPTY store). Data is written as a member of its family (row-level security on, where the
adapter has it); the scheduler works with no acting user, across families, as in production.
Deliveries are read back as their recipient.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from tailtracker_core.model.accounts import User
from tailtracker_core.model.care import CareKind, CareSchedule
from tailtracker_core.model.cursors import care_next_fire_at, vaccination_next_fire_at
from tailtracker_core.model.families import Family, Membership
from tailtracker_core.model.notifications import Delivery, DeliveryStatus
from tailtracker_core.model.pets import Pet, Sex, Species
from tailtracker_core.model.reminders import Category, Channel, NotificationPreferences
from tailtracker_core.model.roles import Role
from tailtracker_core.model.vaccines import Vaccination, Vaccine
from tailtracker_core.ports import IdGenerator, UnitOfWorkFactory
from tailtracker_core.testing.ids import TestIds
from tailtracker_core.usecases.reminders import SchedulerSettings, run_pass, still_wanted

__all__ = ["ReminderSchedulerContract", "StepClock"]

T0 = datetime(2026, 12, 1, 7, 59, 20, tzinfo=UTC)  # 40 s before an 08:00 (London) dose


class StepClock:
    """A clock the test moves by hand."""

    __test__ = False

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class ReminderSchedulerContract:
    @pytest.fixture
    def ids(self) -> IdGenerator:
        return TestIds()

    # --- helpers -------------------------------------------------------------------------------

    def family(
        self,
        uow_factory: UnitOfWorkFactory,
        ids: IdGenerator,
        people: list[tuple[str, Role]] | None = None,
        pet_name: str = "Rex",
    ) -> tuple[list[User], Family, Pet]:
        """Users (timezone, role), the first the owner; a family with them; a pet."""
        people = people or [("Europe/London", Role.OWNER)]
        users = [
            User(ids.new_id(), f"r-{ids.new_id().hex}@example.org", f"U{i}", "h", T0, "en", tz)
            for i, (tz, _) in enumerate(people)
        ]
        family = Family.found(ids.new_id(), "Family", users[0].id, T0)
        for u, (_, role) in zip(users[1:], people[1:], strict=True):
            family.members[u.id] = Membership(family.id, u.id, role, T0)
        pet = Pet(ids.new_id(), family.id, pet_name, Species.DOG, Sex.MALE, T0, T0)
        with uow_factory(users[0].id) as uow:
            for u in users:
                uow.users.add(u)
            uow.families.add(family)  # the owner adds everyone (owners first)
            uow.pets.add(pet)
            uow.commit()
        return users, family, pet

    def schedule(
        self,
        uow_factory: UnitOfWorkFactory,
        ids: IdGenerator,
        owner: User,
        family: Family,
        pet: Pet,
        after: datetime = T0,
        **kw: Any,
    ) -> CareSchedule:
        fields: dict[str, Any] = {
            "kind": CareKind.MEDICATION,
            "title": "Heart pill",
            "rule": "FREQ=DAILY",
            "dtstart": datetime(2026, 11, 1, 8, 0),
            "timezone": "Europe/London",
            **kw,
        }
        s = CareSchedule.create(ids.new_id(), pet.id, **fields)
        with uow_factory(owner.id) as uow:
            uow.care_schedules.add(s, family.id, care_next_fire_at(s, after))
            uow.commit()
        return s

    def dose(
        self,
        uow_factory: UnitOfWorkFactory,
        ids: IdGenerator,
        owner: User,
        family: Family,
        pet: Pet,
        due: date,
    ) -> Vaccination:
        v = Vaccination(ids.new_id(), pet.id, Vaccine("rabies", "Rabies"), date(2025, 12, 1), due)
        with uow_factory(owner.id) as uow:
            uow.vaccinations.add(
                v, family.id, vaccination_next_fire_at(v, False, datetime(2026, 11, 1, tzinfo=UTC))
            )
            uow.commit()
        return v

    def delivery(self, uow_factory: UnitOfWorkFactory, user: User, key: str) -> Delivery | None:
        with uow_factory(user.id) as uow:
            return uow.deliveries.get_by_key(key)

    def email_on(self, uow_factory: UnitOfWorkFactory, user: User) -> None:
        prefs = NotificationPreferences(choices={(Category.CARE_REMINDER, Channel.EMAIL): True})
        with uow_factory(user.id) as uow:
            uow.notification_preferences.put(user.id, prefs, T0)
            uow.commit()

    # --- the port ------------------------------------------------------------------------------

    def test_claims_are_due_rows_strictly_before_earliest_first_across_families(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        (a,), fa, pa = self.family(uow_factory, ids)
        (b,), fb, pb = self.family(uow_factory, ids, [("America/New_York", Role.OWNER)], "Mia")
        early = self.schedule(uow_factory, ids, a, fa, pa)  # 2026-12-01 08:00Z
        late = self.schedule(uow_factory, ids, b, fb, pb, timezone="America/New_York")  # 13:00Z
        self.schedule(uow_factory, ids, a, fa, pa, kind=CareKind.GROOMING)  # no cursor
        at_8 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
        with uow_factory(None) as uow:
            assert uow.reminders.claim_care_schedules(at_8, 10) == []  # strictly before
            got = uow.reminders.claim_care_schedules(at_8 + timedelta(days=1), 10)
            assert [(d.schedule, d.family_id, d.next_fire_at) for d in got] == [
                (early, fa.id, at_8),
                (late, fb.id, datetime(2026, 12, 1, 13, 0, tzinfo=UTC)),
            ]
            assert [
                d.schedule.id for d in uow.reminders.claim_care_schedules(at_8 + timedelta(days=1), 1)
            ] == [early.id]
            assert uow.reminders.claim_care_schedules(at_8 + timedelta(days=1), 0) == []

    def test_claims_of_vaccinations_and_audiences_and_completions(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        users, family, pet = self.family(
            uow_factory, ids, [("Europe/London", Role.OWNER), ("Asia/Tokyo", Role.VIEWER)]
        )
        v = self.dose(uow_factory, ids, users[0], family, pet, date(2026, 12, 20))
        first = datetime(2026, 12, 13, 9, 0, tzinfo=UTC) - timedelta(hours=14)
        with uow_factory(None) as uow:
            got = uow.reminders.claim_vaccinations(first + timedelta(seconds=1), 10)
            assert [(d.dose, d.family_id, d.next_fire_at) for d in got] == [(v, family.id, first)]
            assert uow.reminders.claim_vaccinations(first, 10) == []
            audience = uow.reminders.audiences([pet.id, ids.new_id()])
            assert list(audience) == [pet.id]
            assert audience[pet.id].pet_name == "Rex"
            assert audience[pet.id].family_id == family.id
            assert dict(audience[pet.id].members) == {users[0].id: Role.OWNER, users[1].id: Role.VIEWER}
            assert uow.reminders.audiences([]) == {}
        s = self.schedule(uow_factory, ids, users[0], family, pet)
        key = f"{s.id}@2026-12-01T08:00:00"
        with uow_factory(users[0].id) as uow:
            done = uow.care_schedules.add_completion(s.complete(key, users[0].id, T0))
            uow.commit()
        with uow_factory(None) as uow:
            at_8 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
            assert uow.reminders.completions([s.id], at_8, at_8 + timedelta(minutes=1)) == [done]
            assert (
                uow.reminders.completions([s.id], at_8 + timedelta(minutes=1), at_8 + timedelta(days=1)) == []
            )
            assert uow.reminders.completions([], at_8, at_8 + timedelta(days=1)) == []

    def test_many_cursors_move_at_once(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        (owner,), family, pet = self.family(uow_factory, ids)
        a = self.schedule(uow_factory, ids, owner, family, pet)
        b = self.schedule(uow_factory, ids, owner, family, pet, title="B")
        v = self.dose(uow_factory, ids, owner, family, pet, date(2026, 12, 20))
        later = T0 + timedelta(days=3)
        with uow_factory(None) as uow:
            uow.reminders.advance_care_schedules({a.id: later, b.id: None})
            uow.reminders.advance_vaccinations({v.id: later})
            uow.reminders.advance_care_schedules({})
            uow.commit()
        with uow_factory(owner.id) as uow:
            assert uow.care_schedules.next_fire_at(a.id) == later
            assert uow.care_schedules.next_fire_at(b.id) is None
            assert uow.vaccinations.next_fire_at(v.id) == later

    # --- a scheduler pass ----------------------------------------------------------------------

    def test_a_dose_due_in_the_next_minute_reaches_every_member_once_on_each_channel(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        users, family, pet = self.family(
            uow_factory,
            ids,
            [("Europe/London", Role.OWNER), ("Europe/Berlin", Role.MEMBER), ("UTC", Role.VIEWER)],
        )
        self.email_on(uow_factory, users[1])
        s = self.schedule(uow_factory, ids, users[0], family, pet)
        clock = StepClock(T0)
        result = run_pass(uow_factory, ids, clock)
        assert (result.care_rows, result.enqueued) == (1, 4)  # 3 in-app + 1 email (opted in)
        occurrence = f"{s.id}@2026-12-01T08:00:00"
        at_8 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
        for user, channels in zip(
            users, [{Channel.IN_APP}, {Channel.IN_APP, Channel.EMAIL}, {Channel.IN_APP}], strict=True
        ):
            for ch in (Channel.IN_APP, Channel.EMAIL):
                d = self.delivery(uow_factory, user, f"{occurrence}|{user.id}|{ch}")
                if ch not in channels:
                    assert d is None
                    continue
                assert d is not None
                assert (d.status, d.deliver_at, d.category) == (
                    DeliveryStatus.SCHEDULED,
                    at_8,
                    Category.CARE_REMINDER,
                )
                assert d.template == "care_reminder.medication"
                assert d.params["pet_name"] == "Rex"
                assert d.params["task_title"] == "Heart pill"
                assert d.params["pet_id"] == str(pet.id)
        berlin = self.delivery(uow_factory, users[1], f"{occurrence}|{users[1].id}|in_app")
        assert berlin is not None
        assert berlin.params["due_local"] == "2026-12-01 09:00"
        with uow_factory(users[0].id) as uow:
            assert uow.care_schedules.next_fire_at(s.id) == at_8 + timedelta(days=1)
        # Run again, at the same instant and later: nothing new, the cursor has moved on.
        assert run_pass(uow_factory, ids, clock).enqueued == 0
        clock.at = at_8 + timedelta(seconds=1)
        again = run_pass(uow_factory, ids, clock)
        assert (again.care_rows, again.enqueued, again.dispatched) == (0, 0, 4)  # due now: queued
        assert self.delivery(uow_factory, users[0], f"{occurrence}|{users[0].id}|in_app").status is (  # type: ignore[union-attr]
            DeliveryStatus.QUEUED
        )

    def test_a_replanned_window_inserts_nothing(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        (owner,), family, pet = self.family(uow_factory, ids)
        s = self.schedule(uow_factory, ids, owner, family, pet)
        clock = StepClock(T0)
        assert run_pass(uow_factory, ids, clock).enqueued == 1
        # An edit puts the cursor back (as updating a schedule does): the same keys, no copies.
        with uow_factory(owner.id) as uow:
            uow.care_schedules.advance(s.id, care_next_fire_at(s, T0 - timedelta(hours=1)))
            uow.commit()
        replay = run_pass(uow_factory, ids, clock)
        assert (replay.care_rows, replay.enqueued) == (1, 0)

    def test_completed_occurrences_and_unreminded_kinds_are_never_reminded(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        (owner,), family, pet = self.family(uow_factory, ids)
        s = self.schedule(uow_factory, ids, owner, family, pet)
        self.schedule(uow_factory, ids, owner, family, pet, kind=CareKind.WALK)
        with uow_factory(owner.id) as uow:
            uow.care_schedules.add_completion(s.complete(f"{s.id}@2026-12-01T08:00:00", owner.id, T0))
            uow.commit()
        result = run_pass(uow_factory, ids, StepClock(T0))
        assert (result.care_rows, result.enqueued) == (1, 0)
        # The next day's dose is reminded as usual.
        nxt = run_pass(uow_factory, ids, StepClock(T0 + timedelta(days=1)))
        assert (nxt.care_rows, nxt.enqueued) == (1, 1)

    def test_a_scheduler_that_was_down_does_not_send_stale_reminders(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        (owner,), family, pet = self.family(uow_factory, ids)
        s = self.schedule(uow_factory, ids, owner, family, pet, rule="FREQ=HOURLY;INTERVAL=6")
        down_until = T0 + timedelta(days=3)
        result = run_pass(uow_factory, ids, StepClock(down_until))
        # 24 hours of lateness at most: the 4 occurrences of the last day (none before it) and
        # the one due in the next minute.
        assert result.enqueued == 5
        with uow_factory(owner.id) as uow:
            cursor = uow.care_schedules.next_fire_at(s.id)
        assert cursor is not None
        assert cursor >= down_until + timedelta(seconds=60)

    def test_vaccination_reminders_7_and_1_days_before_at_9_in_each_recipients_zone(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        users, family, pet = self.family(
            uow_factory,
            ids,
            [
                ("Europe/London", Role.OWNER),
                ("America/New_York", Role.MEMBER),
                ("Australia/Lord_Howe", Role.VIEWER),
            ],
        )
        v = self.dose(uow_factory, ids, users[0], family, pet, date(2026, 12, 20))
        clock = StepClock(datetime(2026, 12, 1, tzinfo=UTC))
        settings = SchedulerSettings(lookahead=timedelta(seconds=60))
        passes = 0
        while True:  # wake the scheduler whenever the cursor says so, as the loop would
            with uow_factory(users[0].id) as uow:
                cursor = uow.vaccinations.next_fire_at(v.id)
            if cursor is None:
                break
            clock.at = cursor - timedelta(seconds=30)
            run_pass(uow_factory, ids, clock, settings)
            passes += 1
            assert passes < 300
        for user in users:
            for days in (7, 1):
                key = f"vaccination:{v.id}:2026-12-20:-{days}d|{user.id}|in_app"
                d = self.delivery(uow_factory, user, key)
                assert d is not None, key
                local_nine = datetime.combine(date(2026, 12, 20) - timedelta(days=days), time(9, 0))
                expected = local_nine.replace(tzinfo=ZoneInfo(user.timezone)).astimezone(UTC)
                assert d.deliver_at == expected
                assert d.template == "care_reminder.vaccination_due"
                assert d.params["days"] == str(days)
                assert d.params["due_on"] == "2026-12-20"
                assert d.params["vaccine"] == "Rabies"

    def test_still_wanted_until_completed_changed_or_deleted(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        users, family, pet = self.family(
            uow_factory, ids, [("Europe/London", Role.OWNER), ("UTC", Role.MEMBER)]
        )
        owner, member = users
        s = self.schedule(uow_factory, ids, owner, family, pet)
        run_pass(uow_factory, ids, StepClock(T0))
        key = f"{s.id}@2026-12-01T08:00:00"
        d = self.delivery(uow_factory, member, f"{key}|{member.id}|in_app")
        assert d is not None

        def wanted() -> bool:
            with uow_factory(member.id) as uow:
                return still_wanted(uow, d)  # type: ignore[arg-type]

        assert wanted()
        with uow_factory(owner.id) as uow:
            uow.care_schedules.add_completion(s.complete(key, owner.id, T0))
            uow.commit()
        assert not wanted()
        # Another schedule whose time changed: its old occurrence is no longer wanted.
        s2 = self.schedule(uow_factory, ids, owner, family, pet, title="Other")
        run_pass(uow_factory, ids, StepClock(T0 + timedelta(days=1)))
        key2 = f"{s2.id}@2026-12-02T08:00:00"
        d = self.delivery(uow_factory, member, f"{key2}|{member.id}|in_app")
        assert d is not None
        assert wanted()
        moved = s2.revise(s2.kind, s2.title, s2.rrule, datetime(2026, 11, 1, 8, 30), s2.timezone, None)
        with uow_factory(owner.id) as uow:
            uow.care_schedules.save(moved, care_next_fire_at(moved, T0))
            uow.commit()
        assert not wanted()
        back = moved.revise(s2.kind, s2.title, s2.rrule, s2.dtstart, s2.timezone, "back")
        with uow_factory(owner.id) as uow:
            uow.care_schedules.save(back, None)
            uow.commit()
        assert wanted()  # the original time again
        with uow_factory(owner.id) as uow:
            uow.care_schedules.delete(s2.id)
            uow.commit()
        assert not wanted()

    def test_still_wanted_for_doses(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        (owner,), family, pet = self.family(uow_factory, ids)
        v = self.dose(uow_factory, ids, owner, family, pet, date(2026, 12, 20))
        d = Delivery(
            ids.new_id(),
            f"vaccination:{v.id}:2026-12-20:-7d|{owner.id}|in_app",
            owner.id,
            Category.CARE_REMINDER,
            Channel.IN_APP,
            "care_reminder.vaccination_due",
            {},
            f"vaccination:{v.id}:2026-12-20:-7d",
            DeliveryStatus.QUEUED,
            T0,
            T0,
        )

        def wanted() -> bool:
            with uow_factory(owner.id) as uow:
                return still_wanted(uow, d)

        assert wanted()
        later = Vaccination(
            ids.new_id(), pet.id, Vaccine("rabies", "Rabies"), date(2026, 12, 10), date(2029, 12, 10)
        )
        with uow_factory(owner.id) as uow:
            uow.vaccinations.add(later, family.id, None)
            uow.commit()
        assert not wanted()  # superseded by the later dose
        with uow_factory(owner.id) as uow:
            uow.vaccinations.delete(later.id)
            uow.vaccinations.delete(v.id)
            uow.commit()
        assert not wanted()

    def test_a_recipient_who_left_the_family_is_not_reminded(
        self, uow_factory: UnitOfWorkFactory, ids: IdGenerator
    ) -> None:
        users, family, pet = self.family(
            uow_factory, ids, [("Europe/London", Role.OWNER), ("UTC", Role.MEMBER)]
        )
        s = self.schedule(uow_factory, ids, users[0], family, pet)
        run_pass(uow_factory, ids, StepClock(T0))
        d = self.delivery(uow_factory, users[1], f"{s.id}@2026-12-01T08:00:00|{users[1].id}|in_app")
        assert d is not None
        with uow_factory(users[0].id) as uow:
            fam = uow.families.get(family.id)
            assert fam is not None
            del fam.members[users[1].id]
            fam.version += 1
            uow.families.save(fam)
            uow.commit()
        with uow_factory(users[1].id) as uow:
            assert not still_wanted(uow, d)

    def test_other_subjects_are_left_alone(self, uow_factory: UnitOfWorkFactory, ids: IdGenerator) -> None:
        (owner,), _, _ = self.family(uow_factory, ids)
        for subject in ("sighting:1", f"{UUID(int=0)}-not-a-key", "vaccination:x:y:z", "x@y"):
            d = Delivery(
                ids.new_id(),
                f"{subject}|{owner.id}|in_app",
                owner.id,
                Category.CARE_REMINDER,
                Channel.IN_APP,
                "t",
                {},
                subject,
                DeliveryStatus.QUEUED,
                T0,
                T0,
            )
            with uow_factory(owner.id) as uow:
                assert still_wanted(uow, d), subject
