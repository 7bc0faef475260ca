"""Properties of enqueue: whatever requests arrive, in whatever batches and order, each key is
stored once, and exactly the new deliveries due by then get one DeliveryDue event. Also the
notification settings refuse nonsense."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.uow import MemoryStore
from adapters.system import Uuid7Generator
from entrypoints.bootstrap import Settings, SettingsError
from tailtracker_core.events import DeliveryDue, event_from_json
from tailtracker_core.model.notifications import DeliveryRequest, DeliveryStatus, delivery_key
from tailtracker_core.model.reminders import Category, Channel
from tailtracker_core.usecases.notifications import enqueue

T0 = datetime(2026, 1, 1, tzinfo=UTC)
USERS = [UUID(int=i + 1) for i in range(3)]


class Clock:
    def now(self) -> datetime:
        return T0


requests = st.builds(
    lambda subject, user, channel, minutes: DeliveryRequest(
        delivery_key(f"s:{subject}", user, channel),
        user,
        Category.CARE_REMINDER,
        channel,
        "care_reminder.task",
        {},
        f"s:{subject}",
        T0 + timedelta(minutes=minutes),
    ),
    st.integers(0, 4),
    st.sampled_from(USERS),
    st.sampled_from([Channel.IN_APP, Channel.EMAIL]),
    st.integers(-30, 30),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(requests, max_size=12), max_size=5))
def test_each_key_once_and_one_event_per_new_due_delivery(batches: list[list[DeliveryRequest]]) -> None:
    store = MemoryStore(Uuid7Generator(), Clock())
    first: dict[str, DeliveryRequest] = {}
    for batch in batches:
        with store.uow_factory(None) as uow:
            added = enqueue(uow, store.ids, T0, batch)
            uow.commit()
        for request, new in zip(batch, added, strict=True):
            assert new is (request.key not in first)
            first.setdefault(request.key, request)
    events = [event_from_json(m.topic, m.payload) for m in store.outbox().claim(10_000)]
    due_ids = set()
    with store.uow_factory(None) as uow:
        for key, request in first.items():
            d = uow.deliveries.get_by_key(key)
            assert d is not None
            assert d.deliver_at == request.deliver_at  # the first request wins
            assert d.status is (
                DeliveryStatus.QUEUED if request.deliver_at <= T0 else DeliveryStatus.SCHEDULED
            )
            if d.status is DeliveryStatus.QUEUED:
                due_ids.add((d.id, d.user_id))
    assert all(isinstance(e, DeliveryDue) for e in events)
    assert sorted((e.delivery_id, e.user_id) for e in events) == sorted(due_ids)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NOTIFICATION_MAX_RETRIES", "-1", "MAX_RETRIES"),
        ("NOTIFICATION_MIN_BACKOFF_MS", "0", "MIN_BACKOFF"),
        ("NOTIFICATION_MAX_BACKOFF_MS", "10", "MAX_BACKOFF"),
        ("NOTIFICATION_LEASE_SECONDS", "0", "LEASE"),
        ("NOTIFICATION_MAX_RETRIES", "lots", "whole number"),
    ],
)
def test_notification_settings_refuse_nonsense(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({f"TAILTRACKER_{name}": value})


def test_notification_settings_are_read_from_the_environment() -> None:
    s = Settings.from_env(
        {"TAILTRACKER_NOTIFICATION_MAX_RETRIES": "3", "TAILTRACKER_NOTIFICATION_LEASE_SECONDS": "60"}
    )
    assert (s.notification_max_retries, s.notification_lease_seconds) == (3, 60)
