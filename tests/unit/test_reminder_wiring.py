"""The composition root wires the scheduler's still-wanted hook into the delivery worker: a
care reminder whose occurrence is completed before it is sent ends `cancelled`, and one that
is still open is sent (in-app, stored once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from entrypoints.bootstrap import Settings, build
from tailtracker_core.model.accounts import User
from tailtracker_core.model.care import CareKind, CareSchedule
from tailtracker_core.model.cursors import care_next_fire_at
from tailtracker_core.model.families import Family
from tailtracker_core.model.notifications import DeliveryStatus
from tailtracker_core.model.pets import Pet, Sex, Species
from tailtracker_core.testing.reminder_contract import StepClock
from tailtracker_core.usecases.notifications import DeliveryOutcome, deliver
from tailtracker_core.usecases.reminders import run_pass


def test_a_completed_occurrence_is_cancelled_and_an_open_one_is_sent(tmp_path: Path) -> None:
    settings = Settings(
        var_dir=str(tmp_path),
        database_url="memory://",
        email_url=f"file://{tmp_path}/outbox",
        embedded_worker=False,
        embedded_scheduler=False,
    )
    container = build(settings)
    try:
        deps = container.deps
        due = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        now = due - timedelta(seconds=30)
        owner = User(deps.ids.new_id(), "o@example.org", "O", "h", now, "en", "UTC")
        family = Family.found(deps.ids.new_id(), "F", owner.id, now)
        pet = Pet(deps.ids.new_id(), family.id, "Rex", Species.DOG, Sex.MALE, now, now)
        schedule = CareSchedule.create(
            deps.ids.new_id(),
            pet.id,
            CareKind.FEEDING,
            "Dinner",
            "FREQ=HOURLY",
            due.replace(tzinfo=None) - timedelta(days=1),
            "UTC",
        )
        with deps.uow(owner.id) as uow:
            uow.users.add(owner)
            uow.families.add(family)
            uow.pets.add(pet)
            uow.care_schedules.add(schedule, family.id, care_next_fire_at(schedule, now))
            uow.commit()
        # Two passes: the occurrence due in 30 s, and the one an hour later.
        run_pass(deps.uow, deps.ids, StepClock(now))
        run_pass(deps.uow, deps.ids, StepClock(now + timedelta(hours=1)))
        first = f"{schedule.id}@{due.replace(tzinfo=None).isoformat()}"
        second = f"{schedule.id}@{(due + timedelta(hours=1)).replace(tzinfo=None).isoformat()}"
        with deps.uow(owner.id) as uow:
            uow.care_schedules.add_completion(schedule.complete(first, owner.id, now))
            a = uow.deliveries.get_by_key(f"{first}|{owner.id}|in_app")
            b = uow.deliveries.get_by_key(f"{second}|{owner.id}|in_app")
            assert a is not None
            assert b is not None
            for d in (a, b):  # as dispatch_due would when their time comes
                d.status = DeliveryStatus.QUEUED
                d.version += 1
                uow.deliveries.save(d)
            uow.commit()
        deliverer = container.handlers.deliverer
        assert deliver(deliverer, a.id, owner.id) is DeliveryOutcome.CANCELLED
        assert deliver(deliverer, b.id, owner.id) is DeliveryOutcome.SENT
        with deps.uow(owner.id) as uow:
            cancelled = uow.deliveries.get(a.id)
            assert cancelled is not None
            assert cancelled.status is DeliveryStatus.CANCELLED
            assert uow.notifications.list_for_user(owner.id, False, None, 10)[0].delivery_id == b.id
    finally:
        container.close()
