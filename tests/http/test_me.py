"""The signed-in user's profile: ETags, conditional requests, partial updates, erasure."""

from __future__ import annotations

from .problems import assert_problem


def test_the_profile_carries_an_etag_and_if_none_match_gives_304(alice):
    first = alice.get("/v1/me")
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag == '"1"'
    again = alice.get("/v1/me", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert alice.get("/v1/me", headers={"If-None-Match": '"99"'}).status_code == 200


def test_patch_changes_only_what_is_sent_and_bumps_the_etag(alice):
    response = alice.patch(
        "/v1/me",
        json={
            "display_name": "Alice B",
            "phone": "+44 7700 900123",
            "alert_location": {"lat": 51.5, "lon": -0.12},
            "alert_radius_km": 5,
        },
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["display_name"] == "Alice B" and body["phone"] == "+447700900123"
    assert body["alert_location"] == {"lat": 51.5, "lon": -0.12} and body["alert_radius_km"] == 5
    assert body["timezone"] == "UTC"
    assert response.headers["etag"] == '"2"'
    cleared = alice.patch("/v1/me", json={"phone": None, "alert_location": None}).json()
    assert (
        cleared["phone"] is None
        and cleared["alert_location"] is None
        and cleared["display_name"] == "Alice B"
    )


def test_a_stale_if_match_is_412_and_changes_nothing(alice):
    alice.patch("/v1/me", json={"display_name": "First"})
    stale = alice.patch("/v1/me", json={"display_name": "Second"}, headers={"If-Match": '"1"'})
    assert_problem(stale, 412, "precondition_failed")
    assert alice.get("/v1/me").json()["display_name"] == "First"


def test_a_malformed_if_match_is_412(alice):
    for value in ("3", 'W/"1"', '"abc"', "garbage"):
        assert_problem(
            alice.patch("/v1/me", json={}, headers={"If-Match": value}), 412, "precondition_failed"
        )
    assert alice.patch("/v1/me", json={}, headers={"If-Match": "*"}).status_code == 200


def test_invalid_profile_values_name_the_field(alice):
    assert_problem(
        alice.patch("/v1/me", json={"timezone": "Mars/Olympus"}), 422, "validation_error", "timezone"
    )
    assert_problem(alice.patch("/v1/me", json={"locale": "not a locale"}), 422, "validation_error", "locale")
    assert_problem(alice.patch("/v1/me", json={"phone": "12"}), 422, "validation_error", "phone")
    assert_problem(
        alice.patch("/v1/me", json={"alert_radius_km": 0}), 422, "validation_error", "alert_radius_km"
    )
    assert_problem(
        alice.patch("/v1/me", json={"alert_location": {"lat": 91, "lon": 0}}),
        422,
        "validation_error",
        "alert_location.lat",
    )
    assert_problem(alice.patch("/v1/me", json={"email": "x@example.com"}), 422, "validation_error", "email")


def test_fields_returns_only_the_named_fields(alice):
    response = alice.get("/v1/me?fields=id,email")
    assert response.json() == {"id": alice.id, "email": alice.email}
    assert_problem(alice.get("/v1/me?fields=id,password_hash"), 422, "validation_error", "fields")


def test_delete_me_records_an_erasure_request_once(alice):
    response = alice.delete("/v1/me")
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "status", "due_at"} and body["status"] == "pending"
    assert body["due_at"].endswith("Z")
    assert alice.delete("/v1/me").json()["id"] == body["id"]


def test_authenticated_reads_are_private_and_revalidated(alice):
    assert alice.get("/v1/me").headers["cache-control"] == "private, no-cache"
    assert alice.patch("/v1/me", json={}).headers["cache-control"] == "no-store"
