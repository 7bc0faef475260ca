"""Contract of the care-task read side (`CareTaskReader`), as a pytest base class.

Subclass `CareTaskReaderContract` and provide, over one EMPTY store:

- `uow_factory`: a sync UnitOfWorkFactory, used to arrange the data (as its owners) and as the
  reference: through `usecases.care_queries.read_care_tasks`, the reader must give the tasks
  `care.list_care_tasks` gives (the same repositories, the same expansion);
- `care_task_reader`: the CareTaskReader under test, reading the same store. The suite closes it.

Some expectations are written out by hand (DST gaps and overlaps, window edges, first
completion wins), so a fault shared by the reader and the reference still fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar
from uuid import UUID

import pytest

from tailtracker_core.errors import NotFound, ValidationFailed
from tailtracker_core.model.accounts import User
from tailtracker_core.model.care import CareCompletion, CareKind, CareSchedule
from tailtracker_core.model.families import Family
from tailtracker_core.model.pets import Pet
from tailtracker_core.model.roles import Role
from tailtracker_core.ports import CareTaskReader, Clock, IdGenerator, UnitOfWorkFactory
from tailtracker_core.testing.ids import TestIds
from tailtracker_core.testing.reader_contract import ReaderKit
from tailtracker_core.usecases import care, care_queries
from tailtracker_core.usecases.care import CareTask
from tailtracker_core.usecases.deps import Deps

__all__ = ["CareTaskReaderContract"]

T = TypeVar("T")
_ids = TestIds()

MARCH = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))  # EU spring forward: 29th
NOVEMBER = (datetime(2026, 10, 25, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))  # US fall back: 1st


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class _FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _use_case_deps(uow_factory: UnitOfWorkFactory) -> Deps:
    """`care.list_care_tasks` reads `deps.uow` only; the other ports are never touched."""
    unused: Any = None
    clock: Clock = _FixedClock()
    ids: IdGenerator = _ids
    return Deps(uow_factory, clock, ids, unused, unused, unused, unused)


class CareTaskReaderContract(ReaderKit):
    """The behaviour every CareTaskReader shares with the use case it stands in for."""

    @pytest.fixture
    def aio(self, care_task_reader: CareTaskReader) -> Iterator[asyncio.Runner]:
        with asyncio.Runner() as runner:
            yield runner
            runner.run(care_task_reader.close())

    def schedule(
        self,
        uow_factory: UnitOfWorkFactory,
        owner: User,
        pet: Pet,
        rule: str,
        dtstart: datetime,
        timezone: str,
        **kw: Any,
    ) -> CareSchedule:
        fields: dict[str, Any] = {"kind": CareKind.MEDICATION, "title": "Pill", **kw}
        schedule = CareSchedule.create(
            _ids.new_id(), pet.id, rule=rule, dtstart=dtstart, timezone=timezone, **fields
        )
        with uow_factory(owner.id) as uow:
            uow.care_schedules.add(schedule, pet.family_id, None)
            uow.commit()
        return schedule

    def complete(
        self, uow_factory: UnitOfWorkFactory, user: User, schedule: CareSchedule, wall: datetime, at: datetime
    ) -> CareCompletion:
        occurrence = schedule.occurrence(f"{schedule.id}@{wall.isoformat()}")
        assert occurrence is not None, wall
        completion = CareCompletion(schedule.id, occurrence.key, user.id, at, occurrence.starts_at)
        with uow_factory(user.id) as uow:
            stored = uow.care_schedules.add_completion(completion)
            uow.commit()
        return stored

    def tasks(
        self,
        aio: asyncio.Runner,
        reader: CareTaskReader,
        actor: User,
        pet_id: UUID,
        window: tuple[datetime, datetime],
        after: care_queries.TaskCursor | None = None,
        limit: int = 10_000,
    ) -> tuple[list[CareTask], bool]:
        return self.run(aio, care_queries.read_care_tasks(reader, actor.id, pet_id, *window, after, limit))

    def use_case(
        self, uow_factory: UnitOfWorkFactory, actor: User, pet_id: UUID, window: tuple[datetime, datetime]
    ) -> list[CareTask]:
        return care.list_care_tasks(_use_case_deps(uow_factory), actor.id, pet_id, *window)

    def a_pet_with_care(self, uow_factory: UnitOfWorkFactory) -> tuple[User, Family, Pet, list[CareSchedule]]:
        """Four schedules across the DST changes of March (Europe) and November (US): a nightly
        pill in the hour Berlin skips, a 01:30 pill in the hour New York repeats, a twice-daily
        feeding in Tokyo (no DST), a Monday/Thursday walk in London; and a COUNT-limited rule."""
        owner = self.user(uow_factory)
        family = self.family(uow_factory, owner)
        pet = self.pet(uow_factory, owner, family)
        schedules = [
            self.schedule(
                uow_factory, owner, pet, "FREQ=DAILY", datetime(2026, 1, 1, 2, 30), "Europe/Berlin"
            ),
            self.schedule(
                uow_factory, owner, pet, "FREQ=DAILY", datetime(2026, 1, 1, 1, 30), "America/New_York"
            ),
            self.schedule(
                uow_factory,
                owner,
                pet,
                "FREQ=DAILY;BYHOUR=8,18;BYMINUTE=0",
                datetime(2026, 1, 1, 8, 0),
                "Asia/Tokyo",
                kind=CareKind.FEEDING,
                title="Food 🐾",
                notes="Half a can",
            ),
            self.schedule(
                uow_factory,
                owner,
                pet,
                "FREQ=WEEKLY;BYDAY=MO,TH",
                datetime(2026, 2, 2, 7, 15),
                "Europe/London",
                kind=CareKind.WALK,
                title="Long walk",
            ),
            self.schedule(
                uow_factory, owner, pet, "FREQ=DAILY;COUNT=40", datetime(2026, 3, 20, 9, 0), "Europe/Berlin"
            ),
        ]
        return owner, family, pet, schedules

    # --- the same tasks as the use case -------------------------------------------------------

    def test_the_tasks_are_the_use_cases_across_dst_changes(
        self, uow_factory: UnitOfWorkFactory, care_task_reader: CareTaskReader, aio: asyncio.Runner
    ) -> None:
        owner, _, pet, (berlin, new_york, tokyo, london, counted) = self.a_pet_with_care(uow_factory)
        self.complete(uow_factory, owner, berlin, datetime(2026, 3, 29, 2, 30), MARCH[0] + timedelta(days=29))
        self.complete(uow_factory, owner, tokyo, datetime(2026, 3, 2, 18, 0), MARCH[0] + timedelta(days=2))
        self.complete(
            uow_factory, owner, new_york, datetime(2026, 11, 1, 1, 30), NOVEMBER[0] + timedelta(days=8)
        )
        for window in (MARCH, NOVEMBER):
            got, more = self.tasks(aio, care_task_reader, owner, pet.id, window)
            assert more is False
            assert got == self.use_case(uow_factory, owner, pet.id, window)
            assert got, window
            assert all(window[0] <= t.occurrence.starts_at < window[1] for t in got)
            assert [t.occurrence.starts_at for t in got] == sorted(t.occurrence.starts_at for t in got)
        march, _ = self.tasks(aio, care_task_reader, owner, pet.id, MARCH)
        nightly = {t.occurrence.local_start.date().day: t for t in march if t.schedule.id == berlin.id}
        # 02:30 does not exist on 29 March in Berlin: it takes the offset from before (+01:00)
        assert nightly[28].occurrence.starts_at == datetime(2026, 3, 28, 1, 30, tzinfo=UTC)
        assert nightly[29].occurrence.starts_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
        assert nightly[30].occurrence.starts_at == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)
        assert nightly[29].occurrence.completed
        assert not nightly[28].occurrence.completed
        assert len(nightly) == 31
        assert sum(t.schedule.id == tokyo.id for t in march) == 62
        assert sum(t.schedule.id == counted.id for t in march) == 12  # from the 20th to the 31st
        assert sum(t.occurrence.completed for t in march) == 2
        november, _ = self.tasks(aio, care_task_reader, owner, pet.id, NOVEMBER)
        pills = [t for t in november if t.schedule.id == new_york.id]
        first = [t for t in pills if t.occurrence.local_start.date() == datetime(2026, 11, 1).date()]
        # 01:30 happens twice on 1 November in New York: one occurrence, the first (EDT, -04:00)
        assert [t.occurrence.starts_at for t in first] == [datetime(2026, 11, 1, 5, 30, tzinfo=UTC)]
        assert first[0].occurrence.completion is not None
        assert first[0].occurrence.completion.completed_by == owner.id
        assert len(pills) == 31
        walk = next(t for t in november if t.schedule.id == london.id)
        assert (walk.schedule.kind, walk.schedule.title) == (CareKind.WALK, "Long walk")
        food = next(t for t in november if t.schedule.id == tokyo.id)
        assert (food.schedule.title, food.schedule.notes) == ("Food 🐾", "Half a can")

    def test_the_source_is_what_the_repositories_hold(
        self, uow_factory: UnitOfWorkFactory, care_task_reader: CareTaskReader, aio: asyncio.Runner
    ) -> None:
        owner, _, pet, schedules = self.a_pet_with_care(uow_factory)
        for day in (3, 1, 2):
            self.complete(
                uow_factory,
                owner,
                schedules[0],
                datetime(2026, 3, day, 2, 30),
                MARCH[0] + timedelta(days=day),
            )
        self.complete(uow_factory, owner, schedules[2], datetime(2026, 2, 27, 8, 0), MARCH[0])  # before
        self.complete(uow_factory, owner, schedules[2], datetime(2026, 4, 1, 18, 0), MARCH[1])  # after
        midnight = self.schedule(uow_factory, owner, pet, "FREQ=DAILY", datetime(2026, 1, 1, 0, 0), "UTC")
        schedules.append(midnight)
        for edge in MARCH:  # the window's first instant is in it, its end is not
            self.complete(uow_factory, owner, midnight, edge.replace(tzinfo=None), edge)
        found = self.run(aio, care_task_reader.care_source(owner.id, pet.id, *MARCH))
        assert found is not None
        with uow_factory(owner.id) as uow:
            stored = uow.care_schedules.for_pet(pet.id)
            done = uow.care_schedules.completions([s.id for s in stored], *MARCH)
        assert found.role is Role.OWNER
        assert found.schedules == stored == sorted(schedules, key=lambda s: s.id)
        assert found.completions == done
        assert [c.occurrence_key.rsplit("@")[1] for c in found.completions] == [
            "2026-03-01T00:00:00",
            "2026-03-01T02:30:00",
            "2026-03-02T02:30:00",
            "2026-03-03T02:30:00",
        ]
        for s in found.schedules:
            assert type(s.id) is UUID
            assert type(s.pet_id) is UUID
            assert s.dtstart.tzinfo is None
        for c in found.completions:
            assert type(c.schedule_id) is UUID
            assert type(c.completed_by) is UUID
            assert c.completed_at.utcoffset() == timedelta(0)
            assert c.occurs_at is not None
            assert c.occurs_at.utcoffset() == timedelta(0)

    def test_the_first_completion_wins_and_other_pets_stay_out(
        self, uow_factory: UnitOfWorkFactory, care_task_reader: CareTaskReader, aio: asyncio.Runner
    ) -> None:
        owner, member = self.user(uow_factory), self.user(uow_factory)
        family = self.family(uow_factory, owner, (member, Role.MEMBER))
        pet, other = self.pet(uow_factory, owner, family), self.pet(uow_factory, owner, family)
        pill = self.schedule(uow_factory, owner, pet, "FREQ=DAILY", datetime(2026, 1, 1, 9, 0), "UTC")
        elsewhere = self.schedule(uow_factory, owner, other, "FREQ=DAILY", datetime(2026, 1, 1, 9, 0), "UTC")
        wall = datetime(2026, 3, 10, 9, 0)
        first = self.complete(uow_factory, member, pill, wall, datetime(2026, 3, 10, 9, 5, tzinfo=UTC))
        self.complete(uow_factory, owner, pill, wall, datetime(2026, 3, 10, 9, 1, tzinfo=UTC))  # refused
        self.complete(uow_factory, owner, elsewhere, wall, datetime(2026, 3, 10, 9, 2, tzinfo=UTC))
        got, _ = self.tasks(aio, care_task_reader, owner, pet.id, MARCH)
        assert {t.schedule.id for t in got} == {pill.id}
        assert len(got) == 31
        done = [t.occurrence.completion for t in got if t.occurrence.completion is not None]
        assert done == [first]
        assert got == self.use_case(uow_factory, owner, pet.id, MARCH)

    def test_a_pet_without_schedules_has_no_tasks(
        self, uow_factory: UnitOfWorkFactory, care_task_reader: CareTaskReader, aio: asyncio.Runner
    ) -> None:
        owner = self.user(uow_factory)
        pet = self.pet(uow_factory, owner, self.family(uow_factory, owner))
        assert self.tasks(aio, care_task_reader, owner, pet.id, MARCH) == ([], False)
        found = self.run(aio, care_task_reader.care_source(owner.id, pet.id, *MARCH))
        assert found is not None
        assert (found.role, found.schedules, found.completions) == (Role.OWNER, [], [])

    # --- who may read -------------------------------------------------------------------------

    def test_every_member_reads_the_tasks_and_outsiders_get_not_found(
        self, uow_factory: UnitOfWorkFactory, care_task_reader: CareTaskReader, aio: asyncio.Runner
    ) -> None:
        owner, member, viewer, outsider = (self.user(uow_factory) for _ in range(4))
        family = self.family(uow_factory, owner, (member, Role.MEMBER), (viewer, Role.VIEWER))
        self.family(uow_factory, outsider)  # a member elsewhere
        pet = self.pet(uow_factory, owner, family)
        pill = self.schedule(uow_factory, owner, pet, "FREQ=DAILY", datetime(2026, 1, 1, 9, 0), "UTC")
        self.complete(uow_factory, owner, pill, datetime(2026, 3, 2, 9, 0), MARCH[0] + timedelta(days=1))
        expected = self.use_case(uow_factory, owner, pet.id, MARCH)
        for user, role in ((owner, Role.OWNER), (member, Role.MEMBER), (viewer, Role.VIEWER)):
            assert self.tasks(aio, care_task_reader, user, pet.id, MARCH) == (expected, False)
            found = self.run(aio, care_task_reader.care_source(user.id, pet.id, *MARCH))
            assert found is not None
            assert found.role is role
        for pet_id in (pet.id, _ids.new_id()):
            with pytest.raises(NotFound, match="pet not found"):
                self.tasks(aio, care_task_reader, outsider, pet_id, MARCH)
            with pytest.raises(NotFound, match="pet not found"):
                self.use_case(uow_factory, outsider, pet_id, MARCH)
        # the reader itself shows an outsider nothing: no pet, or no role and no rows
        found = self.run(aio, care_task_reader.care_source(outsider.id, pet.id, *MARCH))
        assert found is None or (found.role, found.schedules, found.completions) == (None, [], [])

    # --- the window ---------------------------------------------------------------------------

    def test_the_window_includes_its_start_and_excludes_its_end(
        self, uow_factory: UnitOfWorkFactory, care_task_reader: CareTaskReader, aio: asyncio.Runner
    ) -> None:
        owner = self.user(uow_factory)
        pet = self.pet(uow_factory, owner, self.family(uow_factory, owner))
        pill = self.schedule(uow_factory, owner, pet, "FREQ=DAILY", datetime(2026, 1, 1, 9, 0), "UTC")
        self.complete(uow_factory, owner, pill, datetime(2026, 3, 5, 9, 0), MARCH[0] + timedelta(days=5))
        window = (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
        got, _ = self.tasks(aio, care_task_reader, owner, pet.id, window)
        assert [t.occurrence.local_start.day for t in got] == [2, 3, 4]
        assert not any(t.occurrence.completed for t in got)  # the 5th is outside, with its completion
        assert got == self.use_case(uow_factory, owner, pet.id, window)
        empty = (window[0], window[0])
        assert self.tasks(aio, care_task_reader, owner, pet.id, empty) == ([], False)
        plus_one = timezone(timedelta(hours=1))  # the same instants with another offset
        shifted = (window[0].astimezone(plus_one), window[1].astimezone(plus_one))
        assert self.tasks(aio, care_task_reader, owner, pet.id, shifted) == (got, False)

    def test_a_bad_window_is_refused_before_reading(
        self, uow_factory: UnitOfWorkFactory, care_task_reader: CareTaskReader, aio: asyncio.Runner
    ) -> None:
        owner = self.user(uow_factory)
        pet = self.pet(uow_factory, owner, self.family(uow_factory, owner))
        start = datetime(2026, 3, 1, tzinfo=UTC)
        for end, field in ((start - timedelta(seconds=1), "to"), (start + timedelta(days=367), "to")):
            with pytest.raises(ValidationFailed) as refused:
                self.tasks(aio, care_task_reader, owner, pet.id, (start, end))
            assert refused.value.errors[0].field == field
        with pytest.raises(ValidationFailed):  # a year is allowed, not more, even for an outsider
            self.tasks(
                aio,
                care_task_reader,
                self.user(uow_factory),
                _ids.new_id(),
                (start, start + timedelta(days=400)),
            )
        assert self.tasks(aio, care_task_reader, owner, pet.id, (start, start + timedelta(days=366))) == (
            [],
            False,
        )

    # --- pages --------------------------------------------------------------------------------

    def test_pages_after_a_cursor_add_up_to_the_whole_window(
        self, uow_factory: UnitOfWorkFactory, care_task_reader: CareTaskReader, aio: asyncio.Runner
    ) -> None:
        owner, _, pet, (berlin, *_) = self.a_pet_with_care(uow_factory)
        # 09:00 UTC, when Tokyo's 18:00 feeding starts too: two tasks at one instant every day
        self.schedule(uow_factory, owner, pet, "FREQ=DAILY", datetime(2026, 1, 1, 9, 0), "UTC")
        self.complete(uow_factory, owner, berlin, datetime(2026, 3, 29, 2, 30), MARCH[0] + timedelta(days=29))
        whole, _ = self.tasks(aio, care_task_reader, owner, pet.id, MARCH)
        assert len(whole) > 100
        pages: list[CareTask] = []
        after: care_queries.TaskCursor | None = None
        while True:
            page, more = self.tasks(aio, care_task_reader, owner, pet.id, MARCH, after, 17)
            assert len(page) == (17 if more else len(whole) % 17)
            pages += page
            if not more:
                break
            after = (page[-1].occurrence.starts_at, page[-1].occurrence.key)
        assert pages == whole
        # two tasks at one instant: the key orders them, and a cursor between them splits them
        same = next(
            i
            for i in range(len(whole) - 1)
            if whole[i].occurrence.starts_at == whole[i + 1].occurrence.starts_at
        )
        cursor = (whole[same].occurrence.starts_at, whole[same].occurrence.key)
        assert self.tasks(aio, care_task_reader, owner, pet.id, MARCH, cursor, 1) == ([whole[same + 1]], True)
        # a cursor before the window changes nothing, one after it leaves nothing
        early = (MARCH[0] - timedelta(days=3), "")
        assert self.tasks(aio, care_task_reader, owner, pet.id, MARCH, early, 500) == (whole, False)
        late = (MARCH[1] + timedelta(days=3), "")
        assert self.tasks(aio, care_task_reader, owner, pet.id, MARCH, late, 500) == ([], False)
        assert self.tasks(aio, care_task_reader, owner, pet.id, MARCH, None, len(whole)) == (whole, False)
