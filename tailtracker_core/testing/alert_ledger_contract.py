"""Contract of the alert ledger (`uow.alert_ledger`), `families.member_ids` and
`consents.histories`: the cross-user paths of lost-pet alerts and notices, as a pytest base
class.

Subclass `AlertLedgerContract` and provide `uow_factory` over one EMPTY store. Claims are made
by nobody (the fan-out runs for no user) and member ids are asked by an outsider, as the
documented paths allow; counts are read acting as the user (a user sees their own rows). An
adapter with row-level security runs the suite with it on.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from tailtracker_core.model.consent import ConsentMethod, ConsentRecord, Purpose
from tailtracker_core.model.families import Membership
from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.model.roles import Role
from tailtracker_core.ports import UnitOfWorkFactory
from tailtracker_core.testing.ids import TestIds
from tailtracker_core.testing.lost_found_contract import (
    arrange_family,
    arrange_lost_report,
    arrange_pet,
    arrange_user,
)

__all__ = ["AlertLedgerContract"]

_ids = TestIds()
_NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
_DAY = date(2026, 11, 21)


class AlertLedgerContract:
    @pytest.fixture
    def uow_factory(self) -> UnitOfWorkFactory:
        raise NotImplementedError

    def _reports(self, uow_factory: UnitOfWorkFactory, n: int) -> list[UUID]:
        owner = arrange_user(uow_factory)
        family = arrange_family(uow_factory, owner)
        out: list[UUID] = []
        for i in range(n):
            pet = arrange_pet(uow_factory, owner, family, name=f"Pet {i}")
            out.append(arrange_lost_report(uow_factory, owner, pet, GeoPoint(51.5, -0.1)).id)
        return out

    def _claim(self, uow_factory: UnitOfWorkFactory, user: UUID, report: UUID, day: date, cap: int) -> bool:
        with uow_factory(None) as uow:
            ok = uow.alert_ledger.claim(user, report, day, cap, _NOW)
            uow.commit()
        return ok

    def test_once_per_report_and_user_on_any_day(self, uow_factory: UnitOfWorkFactory) -> None:
        user = arrange_user(uow_factory)
        (report,) = self._reports(uow_factory, 1)
        assert self._claim(uow_factory, user.id, report, _DAY, 10) is True
        assert self._claim(uow_factory, user.id, report, _DAY, 10) is False
        assert self._claim(uow_factory, user.id, report, date(2026, 11, 22), 10) is False
        with uow_factory(user.id) as uow:
            assert uow.alert_ledger.count(user.id, _DAY) == 1
            assert uow.alert_ledger.count(user.id, date(2026, 11, 22)) == 0

    def test_cap_per_user_and_local_day(self, uow_factory: UnitOfWorkFactory) -> None:
        user, other = arrange_user(uow_factory), arrange_user(uow_factory)
        reports = self._reports(uow_factory, 4)
        assert [self._claim(uow_factory, user.id, r, _DAY, 3) for r in reports] == [True, True, True, False]
        # Another day has its own count; another user is not affected.
        assert self._claim(uow_factory, user.id, reports[3], date(2026, 11, 22), 3) is True
        assert self._claim(uow_factory, other.id, reports[0], _DAY, 3) is True
        with uow_factory(user.id) as uow:
            assert uow.alert_ledger.count(user.id, _DAY) == 3

    def test_a_claim_rolls_back_with_its_transaction(self, uow_factory: UnitOfWorkFactory) -> None:
        user = arrange_user(uow_factory)
        (report,) = self._reports(uow_factory, 1)
        with uow_factory(None) as uow:
            assert uow.alert_ledger.claim(user.id, report, _DAY, 10, _NOW) is True
            uow.rollback()
        assert self._claim(uow_factory, user.id, report, _DAY, 10) is True

    def test_parallel_claims_never_exceed_the_cap(self, uow_factory: UnitOfWorkFactory) -> None:
        user = arrange_user(uow_factory)
        reports = self._reports(uow_factory, 12)
        results: list[bool] = []
        lock = threading.Lock()

        def claim(report: UUID) -> None:
            ok = self._claim(uow_factory, user.id, report, _DAY, 5)
            with lock:
                results.append(ok)

        threads = [threading.Thread(target=claim, args=(r,)) for r in reports]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [False] * 7 + [True] * 5
        with uow_factory(user.id) as uow:
            assert uow.alert_ledger.count(user.id, _DAY) == 5

    def test_member_ids_for_anyone(self, uow_factory: UnitOfWorkFactory) -> None:
        owner, member, outsider = (
            arrange_user(uow_factory),
            arrange_user(uow_factory),
            arrange_user(uow_factory),
        )
        family = arrange_family(uow_factory, owner)
        with uow_factory(owner.id) as uow:
            uow.families.add_member(Membership(family.id, member.id, Role.MEMBER, _NOW))
            uow.commit()
        with uow_factory(outsider.id) as uow:
            assert uow.families.member_ids(family.id) == sorted([owner.id, member.id])
        with uow_factory(None) as uow:
            assert uow.families.member_ids(family.id) == sorted([owner.id, member.id])
            assert uow.families.member_ids(outsider.id) == []

    def test_claim_many_applies_the_same_rules_in_one_call(self, uow_factory: UnitOfWorkFactory) -> None:
        users = [arrange_user(uow_factory) for _ in range(3)]
        reports = self._reports(uow_factory, 3)
        # users[0] is at the cap already (2 of 2) for _DAY; users[1] was alerted about reports[2].
        for r in reports[:2]:
            assert self._claim(uow_factory, users[0].id, r, _DAY, 2)
        assert self._claim(uow_factory, users[1].id, reports[2], _DAY, 2)
        claims = [(u.id, _DAY) for u in users] + [(users[0].id, date(2026, 11, 22))]
        with uow_factory(None) as uow:
            assert uow.alert_ledger.claim_many(reports[2], [], 2, _NOW) == set()
            claimed = uow.alert_ledger.claim_many(reports[2], claims, 2, _NOW)
            uow.commit()
        # users[0] is refused for _DAY (at the cap) but claimed on another day (still one claim for
        # the pair); users[1] was alerted about this report already.
        assert claimed == {users[2].id, users[0].id}
        with uow_factory(None) as uow:
            assert uow.alert_ledger.claim_many(reports[2], claims, 2, _NOW) == set()  # a re-run
            uow.commit()
        with uow_factory(users[0].id) as uow:
            assert uow.alert_ledger.count(users[0].id, _DAY) == 2
            assert uow.alert_ledger.count(users[0].id, date(2026, 11, 22)) == 1

    def test_parallel_batches_never_exceed_the_cap(self, uow_factory: UnitOfWorkFactory) -> None:
        users = [arrange_user(uow_factory) for _ in range(4)]
        reports = self._reports(uow_factory, 8)
        claimed: list[set[UUID]] = []
        lock = threading.Lock()

        def batch(report: UUID) -> None:
            with uow_factory(None) as uow:
                got = uow.alert_ledger.claim_many(report, [(u.id, _DAY) for u in reversed(users)], 3, _NOW)
                uow.commit()
            with lock:
                claimed.append(got)

        threads = [threading.Thread(target=batch, args=(r,)) for r in reports]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for user in users:
            assert sum(user.id in c for c in claimed) == 3
            with uow_factory(user.id) as uow:
                assert uow.alert_ledger.count(user.id, _DAY) == 3

    def test_consent_histories_of_several_users(self, uow_factory: UnitOfWorkFactory) -> None:
        a, b, c = arrange_user(uow_factory), arrange_user(uow_factory), arrange_user(uow_factory)
        records = []
        for i, (user, granted) in enumerate([(a, True), (a, False), (b, True)]):
            record = ConsentRecord.record(
                _ids.new_id(),
                user.id,
                Purpose.LOCATION_ALERTS,
                granted,
                "2026-01",
                _NOW.replace(minute=i),
                ConsentMethod.APP,
            )
            records.append(record)
            with uow_factory(user.id) as uow:
                uow.consents.add(record)
                uow.commit()
        with uow_factory(None) as uow:
            got = uow.consents.histories([a.id, b.id, c.id, a.id])
            assert uow.consents.histories([]) == {}
        assert got == {a.id: records[:2], b.id: records[2:]}
