"""The notification use cases on the in-memory store: recipients, enqueue across callers,
reading and preferences."""

from __future__ import annotations

from datetime import UTC, datetime, time
from uuid import uuid4

import pytest

from adapters.memory.uow import MemoryStore
from adapters.messaging import FileEmailSender
from adapters.system import Uuid7Generator
from tailtracker_core.errors import NotFound
from tailtracker_core.model.accounts import User
from tailtracker_core.model.notifications import requests_for
from tailtracker_core.model.reminders import Category, Channel, NotificationPreferences, QuietHours
from tailtracker_core.usecases.deps import Deps
from tailtracker_core.usecases.notifications import (
    Deliverer,
    DeliveryOutcome,
    deliver,
    enqueue,
    recipients,
)

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return T0


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(Uuid7Generator(), Clock())


def _user(store: MemoryStore, email: str, **kw: str) -> User:
    user = User(uuid4(), email, "Alex", "hash", T0, **kw)  # type: ignore[arg-type]
    with store.uow_factory(user.id) as uow:
        uow.users.add(user)
        uow.commit()
    return user


def test_recipients_carry_timezone_preferences_and_reachable_channels(store: MemoryStore) -> None:
    ok = _user(store, "ok@example.org", timezone="Europe/Vienna")
    bounced = _user(store, "bounced@example.org")
    prefs = NotificationPreferences(quiet_hours=QuietHours(time(22), time(6)))
    with store.uow_factory(ok.id) as uow:
        uow.notification_preferences.put(ok.id, prefs, T0)
        uow.email_suppressions.add("Bounced@Example.org", "550", T0)
        uow.commit()
    with store.uow_factory(None) as uow:
        got = {r.user_id: r for r in recipients(uow, [ok.id, bounced.id, uuid4()])}
    assert set(got) == {ok.id, bounced.id}
    assert (got[ok.id].timezone, got[ok.id].preferences) == ("Europe/Vienna", prefs)
    assert got[ok.id].reachable == {Channel.IN_APP, Channel.EMAIL}
    assert got[bounced.id].reachable == {Channel.IN_APP}
    assert got[bounced.id].preferences == NotificationPreferences()


def test_a_fan_out_enqueues_once_per_recipient_and_channel(store: MemoryStore, tmp_path) -> None:
    a, b = _user(store, "a@example.org"), _user(store, "b@example.org", locale="de")
    deliverer = Deliverer(store.uow_factory, Clock(), Uuid7Generator(), FileEmailSender(tmp_path))
    params = {"pet_name": "Rex", "species": "dog", "distance_km": "1.2", "link": "https://x/1"}
    for _ in range(2):  # a retried fan-out task
        with store.uow_factory(None) as uow:
            reqs = requests_for(
                recipients(uow, [a.id, b.id]), Category.LOST_PET_ALERT, "lost:1", "lost_pet_alert", params, T0
            )
            added = enqueue(uow, deliverer.ids, T0, reqs)
            uow.commit()
    assert added == [False, False, False, False]
    outcomes = []
    for user in (a, b):
        with store.uow_factory(user.id) as uow:
            for ch in (Channel.IN_APP, Channel.EMAIL):
                d = uow.deliveries.get_by_key(f"lost:1|{user.id}|{ch}")
                assert d is not None
                outcomes.append((d.id, user.id))
    assert [deliver(deliverer, d, u) for d, u in outcomes] == [DeliveryOutcome.SENT] * 4
    assert len(list(tmp_path.glob("*.eml"))) == 2
    with store.uow_factory(b.id) as uow:
        [n] = uow.notifications.list_for_user(b.id, False, None, 10)
    assert n.title == "Vermisstes Tier in deiner Nähe: Rex (dog)"


def test_marketing_needs_consent_at_send_time(store: MemoryStore, tmp_path) -> None:
    m = _user(store, "m@example.org")
    deliverer = Deliverer(store.uow_factory, Clock(), Uuid7Generator(), FileEmailSender(tmp_path))
    from tailtracker_core.model.notifications import DeliveryRequest

    req = DeliveryRequest(
        "promo:1|x|in_app", m.id, Category.MARKETING, Channel.IN_APP, "sighting", {}, "promo:1", T0
    )
    with store.uow_factory(None) as uow:
        enqueue(uow, deliverer.ids, T0, [req])
        uow.commit()
    with store.uow_factory(m.id) as uow:
        d = uow.deliveries.get_by_key(req.key)
    assert d is not None
    assert deliver(deliverer, d.id, m.id) is DeliveryOutcome.CANCELLED
    with store.uow_factory(m.id) as uow:
        cancelled = uow.deliveries.get(d.id)
        assert uow.notifications.list_for_user(m.id, False, None, 10) == []
    assert cancelled is not None
    assert "marketing consent" in (cancelled.last_error or "")


def test_unrenderable_and_unavailable_deliveries_fail_with_the_reason(store: MemoryStore, tmp_path) -> None:
    from tailtracker_core.model.notifications import DeliveryRequest

    u = _user(store, "u@example.org")
    deliverer = Deliverer(store.uow_factory, Clock(), Uuid7Generator(), FileEmailSender(tmp_path))
    reqs = [
        DeliveryRequest("s:1|u|in_app", u.id, Category.SIGHTING, Channel.IN_APP, "sighting", {}, "s:1", T0),
        DeliveryRequest("s:1|u|push", u.id, Category.SIGHTING, Channel.PUSH, "sighting", {}, "s:1", T0),
    ]
    with store.uow_factory(None) as uow:
        enqueue(uow, deliverer.ids, T0, reqs)
        uow.commit()
    errors = []
    for r in reqs:
        with store.uow_factory(u.id) as uow:
            d = uow.deliveries.get_by_key(r.key)
        assert d is not None
        assert deliver(deliverer, d.id, u.id) is DeliveryOutcome.FAILED
        with store.uow_factory(u.id) as uow:
            errors.append(uow.deliveries.get(d.id).last_error)  # type: ignore[union-attr]
    assert "needs parameter" in errors[0]
    assert "push is not available" in errors[1]
    assert deliver(deliverer, uuid4(), u.id) is DeliveryOutcome.MISSING


def test_reading_someone_elses_notification_is_not_found(store: MemoryStore) -> None:
    from tailtracker_core.model.notifications import Notification
    from tailtracker_core.usecases import notifications as uc
    from tests.unit.support import Unused

    owner, other = _user(store, "o@example.org"), _user(store, "x@example.org")
    n = Notification(uuid4(), owner.id, uuid4(), Category.FAMILY, "t", "b", {}, T0)
    with store.uow_factory(owner.id) as uow:
        uow.notifications.add(n)
        uow.commit()
    deps = Deps(store.uow_factory, Clock(), Uuid7Generator(), Unused(), Unused(), Unused(), Unused())
    with pytest.raises(NotFound):
        uc.mark_read(deps, other.id, n.id)
    assert uc.mark_read(deps, owner.id, n.id).read_at == T0
