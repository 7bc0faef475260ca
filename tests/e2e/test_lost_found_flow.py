"""Lost and found over real HTTP, on each back end (see conftest.py): a lost report alerts a
consenting neighbour (in-app and by email, through the outbox, the relay, the fan-out actor
and the delivery actor) and not a neighbour without the consent; a found report returns the
right match; closing the report removes it from searches.

Each run picks its own spot on the map, so reports left by other tests or runs on the same
server never fall inside its searches.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.conftest import LiveServer
from tests.e2e.test_flow import Person, _expect, _outbox_message_to
from tests.e2e.test_flow import people as people  # the fixture

ALERT_TIMEOUT_S = 20.0


def _ago(**kw: float) -> str:
    return (datetime.now(UTC) - timedelta(**kw)).isoformat()


def _notifications(person: Person, category: str) -> list[dict[str, Any]]:
    items = _expect(person.get("/v1/notifications", params={"limit": 100}), 200)["items"]
    return [n for n in items if n["category"] == category]


def _wait_for(person: Person, category: str, timeout: float = ALERT_TIMEOUT_S) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = _notifications(person, category)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _alerts_on(person: Person, lat: float, lon: float, *, consent: bool) -> None:
    if consent:
        _expect(
            person.http.put(
                "/v1/me/consents/location_alerts",
                headers=person.auth,
                json={"granted": True, "policy_version": "2026-01", "method": "app"},
            ),
            200,
        )
    _expect(
        person.patch("/v1/me", json={"alert_location": {"lat": lat, "lon": lon}, "alert_radius_km": 5}), 200
    )


def test_lost_report_alerts_a_consenting_neighbour_matches_a_find_and_closes(
    live_server: LiveServer, people: Any
) -> None:
    rng = random.Random()
    lat, lon = rng.uniform(-60, 60), rng.uniform(-170, 170)
    owner, neighbour, silent, finder = (
        people("Owner"),
        people("Neighbour"),
        people("Silent"),
        people("Finder"),
    )
    for p in (owner, neighbour, silent, finder):
        p.register()
    _alerts_on(neighbour, lat + 0.01, lon, consent=True)  # ~1.1 km away, consented
    _alerts_on(silent, lat + 0.01, lon, consent=False)  # same place, no consent

    family_id = _expect(owner.get("/v1/families"), 200)["items"][0]["id"]
    pet = _expect(
        owner.post(
            "/v1/pets",
            json={
                "family_id": family_id,
                "name": "Pepper",
                "species": "dog",
                "breed": "Whippet",
                "colors": ["grey"],
            },
        ),
        201,
    )
    report = _expect(
        owner.post(
            "/v1/lost-reports",
            json={
                "pet_id": pet["id"],
                "last_seen_at": _ago(hours=1),
                "location": {"lat": lat, "lon": lon},
                "radius_km": 5,
            },
        ),
        201,
    )
    assert report["view"] == "family"
    _expect(
        owner.post(
            "/v1/lost-reports",
            json={
                "pet_id": pet["id"],
                "last_seen_at": _ago(hours=1),
                "location": {"lat": lat, "lon": lon},
                "radius_km": 5,
            },
        ),
        409,
        "conflict",
    )

    alerts = _wait_for(neighbour, "lost_pet_alert")
    assert len(alerts) == 1, alerts
    assert "Pepper" in alerts[0]["title"] and alerts[0]["data"]["report_id"] == report["id"]
    mail = _outbox_message_to(live_server.outbox, neighbour.email)
    assert "Pepper" in str(mail["Subject"])
    assert _notifications(silent, "lost_pet_alert") == []
    assert _notifications(owner, "lost_pet_alert") == []

    # Anyone, signed in or not, sees the public view and finds it nearby.
    public = _expect(owner.http.get(f"/v1/lost-reports/{report['id']}"), 200)
    assert public["view"] == "public" and "family_id" not in public and public["pet_name"] == "Pepper"
    nearby = _expect(owner.http.get("/v1/lost-reports", params={"lat": lat, "lon": lon, "radius_km": 5}), 200)
    assert [i["id"] for i in nearby["items"]] == [report["id"]]

    found = _expect(
        finder.post(
            "/v1/found-reports",
            json={
                "species": "dog",
                "seen_at": _ago(minutes=20),
                "location": {"lat": lat + 0.005, "lon": lon},
                "colors": ["grey"],
                "breed": "whippet",
            },
        ),
        201,
    )
    assert [m["report_id"] for m in found["matches"]] == [report["id"]]
    assert found["matches"][0]["score"] > 0.6
    matches = _expect(owner.get(f"/v1/lost-reports/{report['id']}/matches"), 200)["items"]
    assert [m["report_id"] for m in matches] == [found["id"]]
    assert _wait_for(owner, "lost_pet_match") and _wait_for(finder, "lost_pet_match")

    sighting = _expect(
        finder.post(
            f"/v1/lost-reports/{report['id']}/sightings",
            json={"seen_at": _ago(minutes=5), "location": {"lat": lat + 0.004, "lon": lon}},
        ),
        201,
    )
    assert [
        s["id"] for s in _expect(owner.get(f"/v1/lost-reports/{report['id']}/sightings"), 200)["items"]
    ] == [sighting["id"]]
    assert _wait_for(owner, "sighting")

    closed = _expect(owner.patch(f"/v1/lost-reports/{report['id']}", json={"status": "found"}), 200)
    assert closed["status"] == "found"
    after = _expect(owner.http.get("/v1/lost-reports", params={"lat": lat, "lon": lon, "radius_km": 5}), 200)
    assert after["items"] == []
    # Still exactly one alert for the neighbour once every background task has run.
    time.sleep(1.0)
    assert len(_notifications(neighbour, "lost_pet_alert")) == 1
