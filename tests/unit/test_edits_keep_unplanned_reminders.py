"""An edit between a reminder's instant and the scheduler's next pass must not skip that
reminder (a bug: the edit used to recompute the cursor from its own `now`, past the instant
the scheduler had not planned yet). A future cursor still follows the edit."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tailtracker_core.model.accounts import User
from tailtracker_core.model.care import CareKind
from tailtracker_core.model.families import Family
from tailtracker_core.model.pets import Pet, Sex, Species
from tailtracker_core.model.reminders import Category
from tailtracker_core.usecases import care
from tailtracker_core.usecases.deps import Deps
from tailtracker_core.usecases.reminders import run_pass
from tests.unit.support import FakeClock, add_user, memory_deps


def _pet(deps: Deps) -> tuple[Pet, User]:
    owner = add_user(deps, "owner@example.org", "Owner")
    now = deps.clock.now()
    family = Family.found(deps.ids.new_id(), "F", owner.id, now)
    pet = Pet(deps.ids.new_id(), family.id, "Rex", Species.DOG, Sex.MALE, now, now)
    with deps.uow(owner.id) as uow:
        uow.families.add(family)
        uow.pets.add(pet)
        uow.commit()
    return pet, owner


def test_a_schedule_edited_after_its_dose_time_but_before_the_pass_still_reminds() -> None:
    deps, _, clock = memory_deps(FakeClock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC)))
    pet, owner = _pet(deps)
    draft = care.ScheduleDraft(
        CareKind.MEDICATION, "Heart pill", "FREQ=DAILY", datetime(2026, 11, 1, 8, 0), "Europe/London"
    )
    schedule = care.create_care_schedule(deps, owner.id, pet.id, draft)
    clock.current = datetime(2026, 12, 1, 8, 0, 10, tzinfo=UTC)  # 08:00 London has passed; no pass yet
    care.update_care_schedule(
        deps,
        owner.id,
        schedule.id,
        care.ScheduleChanges(notes="with food"),
    )
    with deps.uow(owner.id) as uow:
        assert uow.care_schedules.next_fire_at(schedule.id) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    clock.current = datetime(2026, 12, 1, 8, 0, 20, tzinfo=UTC)
    run_pass(deps.uow, deps.ids, clock)
    key = f"{schedule.id}@2026-12-01T08:00:00|{owner.id}|in_app"
    with deps.uow(owner.id) as uow:
        reminded = uow.deliveries.get_by_key(key)
        assert reminded is not None
        assert reminded.category is Category.CARE_REMINDER
        # and the cursor moved on past it: tomorrow's dose
        assert uow.care_schedules.next_fire_at(schedule.id) == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_a_future_cursor_follows_the_edit() -> None:
    deps, _, clock = memory_deps(FakeClock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC)))
    pet, owner = _pet(deps)
    draft = care.ScheduleDraft(
        CareKind.MEDICATION, "Heart pill", "FREQ=DAILY", datetime(2026, 11, 1, 8, 0), "Europe/London"
    )
    schedule = care.create_care_schedule(deps, owner.id, pet.id, draft)
    clock.current = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
    care.update_care_schedule(
        deps,
        owner.id,
        schedule.id,
        care.ScheduleChanges(starts_at=datetime(2026, 11, 1, 7, 45)),
    )
    with deps.uow(owner.id) as uow:
        assert uow.care_schedules.next_fire_at(schedule.id) == datetime(2026, 12, 1, 7, 45, tzinfo=UTC)


def test_a_dose_edited_on_its_reminder_day_before_the_pass_still_reminds() -> None:
    deps, _, clock = memory_deps(FakeClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC)))
    pet, owner = _pet(deps)
    draft = care.VaccinationDraft("rabies", date(2025, 12, 8), next_due_on=date(2026, 12, 8))
    view = care.record_vaccination(deps, owner.id, pet.id, draft)
    # 7 days before the due date at 09:00 London: 2026-12-01 09:00 UTC. The scheduler has not
    # run since the dose was recorded; the owner fixes the lot number at 09:00:10.
    clock.current = datetime(2026, 12, 1, 9, 0, 10, tzinfo=UTC)
    care.update_vaccination(deps, owner.id, view.dose.id, care.VaccinationChanges(lot_number="A1"))
    clock.current = datetime(2026, 12, 1, 9, 0, 20, tzinfo=UTC)
    run_pass(deps.uow, deps.ids, clock)
    key = f"vaccination:{view.dose.id}:2026-12-08:-7d|{owner.id}|in_app"
    with deps.uow(owner.id) as uow:
        reminded = uow.deliveries.get_by_key(key)
        assert reminded is not None
        assert reminded.deliver_at == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
