"""Delivery requests, preferences parsing and the delivery state machine."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from uuid import uuid4

import pytest

from tailtracker_core.errors import ValidationFailed
from tailtracker_core.model.notifications import (
    MAX_ERROR_LENGTH,
    Delivery,
    DeliveryRequest,
    DeliveryStatus,
    delivery_key,
    parse_preferences,
    request_from_reminder,
    requests_for,
)
from tailtracker_core.model.reminders import (
    Category,
    Channel,
    NotificationPreferences,
    QuietHours,
    Recipient,
    Reminder,
)

T0 = datetime(2026, 6, 1, 21, 30, tzinfo=UTC)  # 23:30 in Berlin (summer time)


def _recipient(**kw: object) -> Recipient:
    values: dict[str, object] = {
        "user_id": uuid4(),
        "timezone": "Europe/Berlin",
        "reachable": frozenset({Channel.IN_APP, Channel.EMAIL}),
    }
    values.update(kw)
    return Recipient(**values)  # type: ignore[arg-type]


def test_requests_follow_preferences_and_reachability() -> None:
    wants_email = _recipient()
    no_email = _recipient(preferences=NotificationPreferences({(Category.SIGHTING, Channel.EMAIL): False}))
    unreachable = _recipient(reachable=frozenset({Channel.IN_APP}))
    out = requests_for(
        [wants_email, no_email, unreachable], Category.SIGHTING, "sighting:1", "sighting", {}, T0
    )
    assert [(r.user_id, r.channel) for r in out] == [
        (wants_email.user_id, Channel.IN_APP),
        (wants_email.user_id, Channel.EMAIL),
        (no_email.user_id, Channel.IN_APP),
        (unreachable.user_id, Channel.IN_APP),
    ]
    assert out[1].key == delivery_key("sighting:1", wants_email.user_id, Channel.EMAIL)
    assert {r.deliver_at for r in out} == {T0}


def test_quiet_hours_defer_except_for_urgent_news_about_ones_own_pet() -> None:
    quiet = _recipient(preferences=NotificationPreferences(quiet_hours=QuietHours(time(22), time(7))))
    [deferred] = requests_for(
        [quiet], Category.LOST_PET_ALERT, "lost:1", "lost_pet_alert", {}, T0, channels=[Channel.IN_APP]
    )
    assert deferred.deliver_at == datetime(2026, 6, 2, 5, 0, tzinfo=UTC)  # 07:00 Berlin
    [urgent] = requests_for(
        [quiet], Category.SIGHTING, "s:1", "sighting", {}, T0, channels=[Channel.IN_APP], about_own_pet=True
    )
    assert urgent.deliver_at == T0


def test_a_reminder_becomes_a_request_with_the_same_key() -> None:
    pet = uuid4()
    reminder = Reminder(
        "occ:1|u|email",
        Category.CARE_REMINDER,
        Channel.EMAIL,
        uuid4(),
        pet,
        "occ:1",
        T0,
        T0 + timedelta(hours=1),
    )
    req = request_from_reminder(reminder, "care_reminder.feeding", {"pet_name": "Rex"})
    assert (req.key, req.deliver_at, req.channel) == (reminder.key, reminder.deliver_at, Channel.EMAIL)
    assert req.params == {"pet_id": str(pet), "pet_name": "Rex"}


def test_preferences_are_parsed_and_bad_input_is_refused_together() -> None:
    prefs = parse_preferences(
        {"care_reminder": {"email": True, "push": False}, "marketing": {}}, {"start": "22:00", "end": "07:30"}
    )
    assert prefs.choices == {
        (Category.CARE_REMINDER, Channel.EMAIL): True,
        (Category.CARE_REMINDER, Channel.PUSH): False,
    }
    assert prefs.quiet_hours == QuietHours(time(22), time(7, 30))
    assert parse_preferences({}, None) == NotificationPreferences()
    with pytest.raises(ValidationFailed) as caught:
        parse_preferences(
            {"weather": {"email": True}, "sighting": {"fax": True, "in_app": False, "sms": "yes"}},
            {"start": "25:00", "end": "07:00+02:00"},
        )
    assert sorted(e.field for e in caught.value.errors) == [
        "categories.sighting.fax",
        "categories.sighting.in_app",
        "categories.sighting.sms",
        "categories.weather",
        "quiet_hours.end",
        "quiet_hours.start",
    ]
    with pytest.raises(ValidationFailed, match="differ"):
        parse_preferences({}, {"start": "22:00", "end": "22:00"})


def test_the_delivery_state_machine() -> None:
    req = DeliveryRequest("k", uuid4(), Category.SIGHTING, Channel.EMAIL, "sighting", {}, "s", T0)
    now = T0 - timedelta(minutes=1)
    scheduled = Delivery.from_request(uuid4(), req, now)
    assert scheduled.status is DeliveryStatus.SCHEDULED
    d = Delivery.from_request(uuid4(), req, T0)
    assert d.status is DeliveryStatus.QUEUED
    assert not d.status.final
    d.start_attempt(T0, timedelta(minutes=5))
    assert (d.attempts, d.version, d.busy(T0 + timedelta(minutes=4)), d.busy(T0 + timedelta(minutes=5))) == (
        1,
        2,
        True,
        False,
    )
    d.mark_retrying("x" * 2000)
    assert len(d.last_error or "") == MAX_ERROR_LENGTH
    assert not d.busy(T0)
    d.mark_sent(T0)
    assert (d.status, d.sent_at, d.version, d.status.final) == (DeliveryStatus.SENT, T0, 4, True)
