"""Notifications over HTTP: list (unread filter, cursor, fields), read, read-all, preferences,
bad input, and isolation between users. Notifications are made the way production makes
them: enqueue, then the worker's deliver use case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from entrypoints.bootstrap import Container
from tailtracker_core.model.notifications import DeliveryRequest, delivery_key
from tailtracker_core.model.reminders import Category, Channel
from tailtracker_core.model.subscriptions import Subscription, SubscriptionStatus
from tailtracker_core.model.tiers import Tier
from tailtracker_core.usecases.notifications import DeliveryOutcome, deliver, enqueue

from .problems import assert_problem


def notify(container: Container, user_id: str, subject: str, pet_name: str = "Biscuit") -> None:
    uid = UUID(user_id)
    deps = container.deps
    request = DeliveryRequest(
        delivery_key(subject, uid, Channel.IN_APP),
        uid,
        Category.SIGHTING,
        Channel.IN_APP,
        "sighting",
        {"pet_name": pet_name, "seen_at": "14:05", "link": f"https://x.example/{subject}"},
        subject,
        datetime.now(UTC),
    )
    with deps.uow(None) as uow:
        enqueue(uow, deps.ids, datetime.now(UTC), [request])
        uow.commit()
    with deps.uow(uid) as uow:
        delivery = uow.deliveries.get_by_key(request.key)
    assert delivery is not None
    assert deliver(container.handlers.deliverer, delivery.id, uid) is DeliveryOutcome.SENT


def test_notifications_list_newest_first_and_filter_unread(alice, http_container):
    for i in range(3):
        notify(http_container, alice.id, f"sighting:{i}", pet_name=f"Pet{i}")
    body = alice.get("/v1/notifications").json()
    assert [n["title"] for n in body["items"]] == ["Pet2 was seen", "Pet1 was seen", "Pet0 was seen"]
    assert body["next_cursor"] is None
    first = body["items"][0]
    assert set(first) == {"id", "category", "title", "body", "data", "created_at", "read_at"}
    assert first["category"] == "sighting" and first["read_at"] is None
    assert first["data"] == {"link": "https://x.example/sighting:2", "subject": "sighting:2"}
    assert first["created_at"].endswith("Z")

    read = alice.post(f"/v1/notifications/{body['items'][1]['id']}/read")
    assert read.status_code == 200, read.text
    assert read.json()["read_at"].endswith("Z")
    again = alice.post(f"/v1/notifications/{body['items'][1]['id']}/read")
    assert again.json()["read_at"] == read.json()["read_at"]  # the first read time stays

    unread = alice.get("/v1/notifications", params={"unread": "true"}).json()["items"]
    assert [n["title"] for n in unread] == ["Pet2 was seen", "Pet0 was seen"]
    everything = alice.get("/v1/notifications", params={"unread": "false"}).json()["items"]
    assert len(everything) == 3


def test_pages_follow_the_cursor_and_fields_trim(alice, http_container):
    for i in range(5):
        notify(http_container, alice.id, f"s:{i}")
    first = alice.get("/v1/notifications", params={"limit": 2, "fields": "id,title"}).json()
    assert all(set(n) == {"id", "title"} for n in first["items"])
    seen = [n["id"] for n in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = alice.get("/v1/notifications", params={"limit": 2, "cursor": cursor}).json()
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen, reverse=True)


def test_read_all_marks_only_mine(alice, bob, http_container):
    notify(http_container, alice.id, "a:1")
    notify(http_container, alice.id, "a:2")
    notify(http_container, bob.id, "b:1")
    response = alice.post("/v1/notifications/read-all")
    assert response.status_code == 200, response.text
    assert response.json() == {"marked_read": 2}
    assert alice.post("/v1/notifications/read-all").json() == {"marked_read": 0}
    assert alice.get("/v1/notifications", params={"unread": "true"}).json()["items"] == []
    assert len(bob.get("/v1/notifications", params={"unread": "true"}).json()["items"]) == 1


def test_other_peoples_notifications_are_invisible(alice, bob, http_container):
    notify(http_container, bob.id, "b:secret")
    [bobs] = bob.get("/v1/notifications").json()["items"]
    assert alice.get("/v1/notifications").json()["items"] == []
    assert_problem(alice.post(f"/v1/notifications/{bobs['id']}/read"), 404, "not_found")
    assert bob.get("/v1/notifications").json()["items"][0]["read_at"] is None
    assert_problem(alice.post(f"/v1/notifications/{uuid.uuid4()}/read"), 404, "not_found")


def test_notifications_need_a_signed_in_user(api):
    assert_problem(api.get("/v1/notifications"), 401, "unauthorized")
    assert_problem(api.post("/v1/notifications/read-all"), 401, "unauthorized")
    assert_problem(api.get("/v1/notification-preferences"), 401, "unauthorized")


def test_bad_list_parameters_are_422(alice):
    for params, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"fields": "title,secret"}, "fields"),
    ):
        assert_problem(alice.get("/v1/notifications", params=params), 422, "validation_error", field)
    assert alice.get("/v1/notifications", params={"unread": "maybe"}).status_code in (400, 422)
    assert_problem(alice.post("/v1/notifications/not-a-uuid/read"), 422, "validation_error")


def premium(container: Container, account) -> None:
    deps = container.deps
    with deps.uow(account.id_uuid) as uow:
        uow.subscriptions.add(
            Subscription(deps.ids.new_id(), account.id_uuid, Tier.PREMIUM, SubscriptionStatus.ACTIVE, None)
        )
        uow.commit()


def test_sms_needs_a_tier_with_sms(alice, http_container):
    payload = {"categories": {"sighting": {"sms": True}}, "quiet_hours": {"start": "22:00", "end": "06:00"}}
    assert_problem(alice.put("/v1/notification-preferences", json=payload), 403, "tier_limit_exceeded")
    assert alice.get("/v1/notification-preferences").json()["quiet_hours"] is None  # nothing stored
    off = {"categories": {"sighting": {"sms": False}}}
    assert alice.put("/v1/notification-preferences", json=off).status_code == 200
    premium(http_container, alice)
    response = alice.put("/v1/notification-preferences", json=payload)
    assert response.status_code == 200, response.text
    assert response.json()["categories"]["sighting"]["sms"] is True


def test_preferences_default_then_replace(alice, http_container):
    body = alice.get("/v1/notification-preferences").json()
    assert set(body["categories"]) == {
        "care_reminder",
        "lost_pet_alert",
        "lost_pet_match",
        "sighting",
        "family",
        "billing",
        "security",
        "marketing",
    }
    assert body["categories"]["care_reminder"] == {"push": True, "email": False, "sms": False}
    assert body["categories"]["marketing"] == {"push": False, "email": False, "sms": False}
    assert body["quiet_hours"] is None

    premium(http_container, alice)
    put = alice.put(
        "/v1/notification-preferences",
        json={
            "categories": {"care_reminder": {"email": True, "push": False}, "lost_pet_alert": {"sms": True}},
            "quiet_hours": {"start": "22:00", "end": "07:30"},
        },
    )
    assert put.status_code == 200, put.text
    assert put.json()["categories"]["care_reminder"] == {"push": False, "email": True, "sms": False}
    assert put.json()["categories"]["lost_pet_alert"] == {"push": True, "email": True, "sms": True}
    assert put.json()["quiet_hours"] == {"start": "22:00", "end": "07:30"}
    assert alice.get("/v1/notification-preferences").json() == put.json()

    # PUT replaces: what is left out goes back to the default.
    cleared = alice.put("/v1/notification-preferences", json={}).json()
    assert cleared["categories"]["care_reminder"] == {"push": True, "email": False, "sms": False}
    assert cleared["quiet_hours"] is None


def test_preferences_are_per_user(alice, bob):
    alice.put("/v1/notification-preferences", json={"quiet_hours": {"start": "23:00", "end": "06:00"}})
    assert bob.get("/v1/notification-preferences").json()["quiet_hours"] is None


def test_bad_preferences_are_422_and_change_nothing(alice):
    alice.put("/v1/notification-preferences", json={"quiet_hours": {"start": "21:00", "end": "06:00"}})
    before = alice.get("/v1/notification-preferences").json()
    cases = [
        ({"categories": {"weather": {"email": True}}}, "categories.weather"),
        ({"categories": {"sighting": {"fax": True}}}, "categories.sighting.fax"),
        ({"categories": {"sighting": {"in_app": False}}}, "categories.sighting.in_app"),
        ({"categories": {"sighting": {"email": "yes"}}}, "categories.sighting.email"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "22:00", "end": "7pm"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "22:00"}}, "quiet_hours.end"),
        ({"surprise": 1}, "surprise"),
    ]
    for payload, field in cases:
        response = alice.put("/v1/notification-preferences", json=payload)
        body = assert_problem(response, 422, "validation_error")
        fields = [e["field"] for e in body["errors"]]
        assert any(field in f for f in fields), (payload, fields)
    assert alice.get("/v1/notification-preferences").json() == before
