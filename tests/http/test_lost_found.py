"""Lost and found over HTTP: every endpoint, who sees what, bad input (nothing stored), the
notices of sightings and matches, and the alert fan-out use case on the app's own store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from entrypoints.bootstrap import Container
from tailtracker_core.model.reminders import Category, Channel
from tailtracker_core.model.subscriptions import Subscription, SubscriptionStatus
from tailtracker_core.model.tiers import Tier
from tailtracker_core.usecases.lost_alerts import alert_batch

from .problems import assert_problem

LONDON = {"lat": 51.5074, "lon": -0.1278}
CHIP = "985112345678903"


def _ago(**kw: float) -> str:
    return (datetime.now(UTC) - timedelta(**kw)).isoformat()


def _pet(account: Any, **extra: Any) -> dict[str, Any]:
    body = {"family_id": account.personal_family(), "name": "Biscuit", "species": "dog", "colors": ["brown"]}
    response = account.post("/v1/pets", json={**body, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _open(account: Any, pet_id: str, **extra: Any) -> Any:
    body = {"pet_id": pet_id, "last_seen_at": _ago(hours=2), "location": LONDON, "radius_km": 5, **extra}
    return account.post("/v1/lost-reports", json=body)


def _opened(account: Any, **pet_extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    pet = _pet(account, **pet_extra)
    response = _open(account, pet["id"])
    assert response.status_code == 201, response.text
    return pet, dict(response.json())


def _deliveries(container: Container, category: Category) -> list[Any]:
    return [d for d in container.database.data.deliveries.values() if d.category is category]


def _grant_alerts(account: Any, lat: float, lon: float, radius_km: float = 5) -> None:
    consent = account.put(
        "/v1/me/consents/location_alerts",
        json={"granted": True, "policy_version": "2026-01", "method": "app"},
    )
    assert consent.status_code == 200, consent.text
    me = account.patch(
        "/v1/me", json={"alert_location": {"lat": lat, "lon": lon}, "alert_radius_km": radius_km}
    )
    assert me.status_code == 200, me.text


# --- lost reports ---------------------------------------------------------------------------


def test_open_report_family_view_public_view_and_etag(alice, bob, api):
    pet, report = _opened(alice)
    assert report["view"] == "family" and report["status"] == "open" and report["pet_id"] == pet["id"]
    assert report["location"] == LONDON and report["radius_km"] == 5
    got = alice.get(f"/v1/lost-reports/{report['id']}")
    assert got.status_code == 200 and got.json()["view"] == "family"
    etag = got.headers["etag"]
    assert alice.get(f"/v1/lost-reports/{report['id']}", headers={"If-None-Match": etag}).status_code == 304

    for caller in (bob, api):  # a signed-in outsider, and nobody at all
        public = caller.get(f"/v1/lost-reports/{report['id']}")
        assert public.status_code == 200, public.text
        body = public.json()
        assert set(body) == {
            "view",
            "id",
            "status",
            "pet_name",
            "species",
            "breed",
            "colors",
            "size",
            "photo_id",
            "location",
            "last_seen_at",
        }
        assert body["view"] == "public" and body["pet_name"] == "Biscuit" and body["colors"] == ["brown"]
        assert body["location"] != LONDON  # the ~100 m cell, not the exact point
        assert abs(body["location"]["lat"] - LONDON["lat"]) < 0.001
        assert "etag" not in public.headers
    assert_problem(api.get(f"/v1/lost-reports/{UUID(int=7)}"), 404, "not_found")
    bad_token = api.get(f"/v1/lost-reports/{report['id']}", headers={"Authorization": "Bearer nonsense"})
    assert_problem(bad_token, 401, "unauthorized")


def test_open_report_bad_input_stores_nothing(alice, bob, api):
    pet = _pet(alice)
    cases: list[tuple[dict[str, Any], int, str, str | None]] = [
        ({"location": {"lat": 90.5, "lon": 0}}, 422, "validation_error", None),
        ({"location": {"lat": 0, "lon": -180.01}}, 422, "validation_error", None),
        ({"location": {"lat": "NaN", "lon": 0}}, 422, "validation_error", None),
        ({"radius_km": 0}, 422, "validation_error", None),
        ({"radius_km": -1}, 422, "validation_error", None),
        ({"radius_km": 5.01}, 403, "tier_limit_exceeded", None),  # free tier: 5 km
        (
            {"last_seen_at": (datetime.now(UTC) + timedelta(minutes=5)).isoformat()},
            422,
            "validation_error",
            "last_seen_at",
        ),
        ({"last_seen_at": "2026-11-25T10:00:00"}, 422, "validation_error", "last_seen_at"),
        ({"description": "x" * 5001}, 422, "validation_error", None),
        ({"surprise": 1}, 422, "validation_error", None),
    ]
    for extra, status, code, field in cases:
        assert_problem(_open(alice, pet["id"], **extra), status, code, field)
    assert api.get("/v1/lost-reports", params={**LONDON, "radius_km": 5}).json()["items"] == []
    assert_problem(_open(bob, pet["id"]), 404, "not_found")  # an outsider cannot tell it exists
    assert_problem(api.post("/v1/lost-reports", json={"pet_id": pet["id"]}), 401, "unauthorized")
    first = _open(alice, pet["id"])
    assert first.status_code == 201
    assert_problem(_open(alice, pet["id"]), 409, "conflict")
    items = api.get("/v1/lost-reports", params={**LONDON, "radius_km": 5}).json()["items"]
    assert [i["id"] for i in items] == [first.json()["id"]]


def test_a_premium_family_may_use_a_wider_radius(alice, http_container):
    with http_container.deps.uow(alice.id_uuid) as uow:
        uow.subscriptions.add(
            Subscription(
                http_container.deps.ids.new_id(), alice.id_uuid, Tier.PREMIUM, SubscriptionStatus.ACTIVE, None
            )
        )
        uow.commit()
    pet = _pet(alice)
    assert _open(alice, pet["id"], radius_km=25).status_code == 201
    other = _pet(alice, name="Other")
    assert_problem(_open(alice, other["id"], radius_km=25.5), 403, "tier_limit_exceeded")


def test_search_distances_do_not_give_the_exact_point_away(alice, api):
    """Regression: the search showed metre-precise distances to the exact last-seen point, so
    three searches from known places located it (trilateration) despite the ~100 m rounding."""
    from tailtracker_core.model.geo import GeoPoint, distance_km, rounded

    pet = _pet(alice)
    exact = GeoPoint(51.50737, -0.12776)
    response = alice.post(
        "/v1/lost-reports",
        json={
            "pet_id": pet["id"],
            "last_seen_at": _ago(hours=1),
            "location": {"lat": exact.lat, "lon": exact.lon},
            "radius_km": 5,
        },
    )
    assert response.status_code == 201, response.text
    public = rounded(exact, 100.0)
    for lat, lon in ((51.52, -0.13), (51.50, -0.10), (51.49, -0.15)):
        items = api.get("/v1/lost-reports", params={"lat": lat, "lon": lon, "radius_km": 5}).json()["items"]
        assert items[0]["location"] == {"lat": public.lat, "lon": public.lon}
        assert items[0]["distance_km"] == round(distance_km(GeoPoint(lat, lon), public), 1)


def test_search_nearest_first_species_filter_and_closing(alice, bob, api):
    _, near = _opened(alice)
    cat = _pet(bob, name="Tom", species="cat", colors=["black"])
    far = bob.post(
        "/v1/lost-reports",
        json={
            "pet_id": cat["id"],
            "last_seen_at": _ago(hours=1),
            "location": {"lat": 51.53, "lon": -0.1278},  # ~2.5 km north
            "radius_km": 5,
        },
    )
    assert far.status_code == 201, far.text
    found = api.get("/v1/lost-reports", params={**LONDON, "radius_km": 5}).json()
    assert [i["id"] for i in found["items"]] == [near["id"], far.json()["id"]]
    assert found["next_cursor"] is None
    assert found["items"][0]["distance_km"] < found["items"][1]["distance_km"]
    assert set(found["items"][0]) >= {"pet_name", "species", "location", "distance_km"}
    assert "family_id" not in found["items"][0] and "description" not in found["items"][0]
    cats = api.get("/v1/lost-reports", params={**LONDON, "radius_km": 5, "species": "cat"}).json()["items"]
    assert [i["id"] for i in cats] == [far.json()["id"]]
    small = api.get("/v1/lost-reports", params={**LONDON, "radius_km": 1}).json()["items"]
    assert [i["id"] for i in small] == [near["id"]]
    fields = api.get("/v1/lost-reports", params={**LONDON, "fields": "id,distance_km"}).json()["items"]
    assert all(set(i) == {"id", "distance_km"} for i in fields)

    closed = alice.patch(f"/v1/lost-reports/{near['id']}", json={"status": "closed"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    after = api.get("/v1/lost-reports", params={**LONDON, "radius_km": 5}).json()["items"]
    assert [i["id"] for i in after] == [far.json()["id"]]
    # The public view of a closed report still answers (a shared link shows it ended).
    assert api.get(f"/v1/lost-reports/{near['id']}").json()["status"] == "closed"


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"lat": 91, "lon": 0}, 422, "validation_error"),
        ({"lat": -90.1, "lon": 0}, 422, "validation_error"),
        ({"lat": 0, "lon": 180.5}, 422, "validation_error"),
        ({"lat": "NaN", "lon": 0}, 422, "validation_error"),
        ({"lat": 0, "lon": "nan"}, 422, "validation_error"),
        ({"lat": 0, "lon": 0, "radius_km": 0}, 422, "validation_error"),
        ({"lat": 0, "lon": 0, "radius_km": "NaN"}, 422, "validation_error"),
        ({"lat": 0, "lon": 0, "radius_km": 6}, 403, "tier_limit_exceeded"),  # signed out: free tier
        ({"lon": 0}, 422, "validation_error"),
        ({"lat": 0, "lon": 0, "species": "dragon"}, 422, "validation_error"),
    ],
)
def test_search_bad_input(api, params, status, code):
    assert_problem(api.get("/v1/lost-reports", params=params), status, code)


def test_patch_rules(alice, bob, new_account):
    _, report = _opened(alice)
    url = f"/v1/lost-reports/{report['id']}"
    assert_problem(bob.patch(url, json={"status": "found"}), 404, "not_found")
    assert_problem(alice.patch(url, json={"status": "open"}), 422, "validation_error")
    assert_problem(
        alice.patch(url, json={"status": "found"}, headers={"If-Match": '"9"'}), 412, "precondition_failed"
    )
    edited = alice.patch(url, json={"description": "  Wears a red collar  ", "reward": "€200"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["description"] == "Wears a red collar" and edited.headers["etag"] == '"2"'
    assert "description" not in bob.get(url).json()  # free text is the family's only
    found = alice.patch(url, json={"status": "found"}, headers={"If-Match": '"2"'})
    assert found.status_code == 200 and found.json()["status"] == "found" and found.json()["resolved_at"]
    assert alice.patch(url, json={"status": "found"}).status_code == 200  # a retry changes nothing
    assert_problem(alice.patch(url, json={"status": "closed"}), 409, "conflict")
    assert_problem(alice.patch(url, json={"reward": "more"}), 409, "conflict")


# --- sightings ------------------------------------------------------------------------------


def test_sightings_notify_the_family_at_once_and_only_the_family_reads_them(alice, bob, api, http_container):
    _, report = _opened(alice)
    url = f"/v1/lost-reports/{report['id']}/sightings"
    seen = bob.post(
        url,
        json={"seen_at": _ago(minutes=10), "location": {"lat": 51.51, "lon": -0.13}, "note": "by the pond"},
    )
    assert seen.status_code == 201, seen.text
    assert seen.json()["note"] == "by the pond" and seen.json()["reporter_id"] == bob.id
    notices = _deliveries(http_container, Category.SIGHTING)
    assert {(str(d.user_id), d.channel) for d in notices} == {
        (alice.id, Channel.IN_APP),
        (alice.id, Channel.EMAIL),
    }
    assert all(d.key.startswith(f"sighting:{seen.json()['id']}|") for d in notices)
    assert notices[0].params["pet_name"] == "Biscuit" and report["id"] in notices[0].params["link"]

    listed = alice.get(url)
    assert listed.status_code == 200 and [s["id"] for s in listed.json()["items"]] == [seen.json()["id"]]
    assert_problem(bob.get(url), 404, "not_found")
    assert_problem(api.get(url), 401, "unauthorized")
    assert_problem(api.post(url, json={"seen_at": _ago(minutes=1), "location": LONDON}), 401, "unauthorized")


def test_sighting_bad_input_and_closed_reports(alice, bob, http_container):
    _, report = _opened(alice)
    url = f"/v1/lost-reports/{report['id']}/sightings"
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert_problem(
        bob.post(url, json={"seen_at": future, "location": LONDON}), 422, "validation_error", "seen_at"
    )
    assert_problem(
        bob.post(url, json={"seen_at": _ago(minutes=1), "location": {"lat": 100, "lon": 0}}),
        422,
        "validation_error",
    )
    assert_problem(
        bob.post(
            f"/v1/lost-reports/{UUID(int=5)}/sightings", json={"seen_at": _ago(minutes=1), "location": LONDON}
        ),
        404,
        "not_found",
    )
    assert alice.patch(f"/v1/lost-reports/{report['id']}", json={"status": "closed"}).status_code == 200
    assert_problem(bob.post(url, json={"seen_at": _ago(minutes=1), "location": LONDON}), 409, "conflict")
    assert alice.get(url).json()["items"] == []
    assert _deliveries(http_container, Category.SIGHTING) == []


# --- found reports and matches ------------------------------------------------------------------


def test_found_report_returns_the_right_match_and_notifies_both_sides_once(
    alice, bob, new_account, http_container
):
    _, report = _opened(alice, breed="Beagle", size="medium", sex="female")
    other_pet = _pet(alice, name="Other", species="cat", colors=["white"])
    assert _open(alice, other_pet["id"]).status_code == 201  # a cat: never matches a dog
    body = {
        "species": "dog",
        "seen_at": _ago(hours=1),
        "location": {"lat": 51.51, "lon": -0.13},
        "colors": ["Brown"],
        "breed": "beagle",
        "size": "medium",
        "sex": "female",
    }
    filed = bob.post("/v1/found-reports", json=body)
    assert filed.status_code == 201, filed.text
    out = filed.json()
    assert [m["report_id"] for m in out["matches"]] == [report["id"]]
    match = out["matches"][0]
    assert match["score"] > 0.6 and not match["certain"] and 0 < match["distance_km"] < 1
    assert out["colors"] == ["brown"] and out["microchip"] is None

    lost_side = alice.get(f"/v1/lost-reports/{report['id']}/matches").json()["items"]
    assert lost_side == [{**match, "report_id": out["id"]}]
    assert bob.get(f"/v1/found-reports/{out['id']}/matches").json()["items"] == [match]
    carol = new_account("Carol")
    assert_problem(carol.get(f"/v1/lost-reports/{report['id']}/matches"), 404, "not_found")
    assert_problem(carol.get(f"/v1/found-reports/{out['id']}/matches"), 404, "not_found")

    notices = _deliveries(http_container, Category.LOST_PET_MATCH)
    assert sorted((str(d.user_id), d.channel.value) for d in notices) == sorted(
        [(alice.id, "in_app"), (alice.id, "email"), (bob.id, "in_app"), (bob.id, "email")]
    )
    assert {d.subject for d in notices} == {f"lost_pet_match:{report['id']}:{out['id']}"}


def test_a_chip_match_is_certain_and_a_lost_report_matches_earlier_found_reports(alice, bob, http_container):
    found = bob.post(
        "/v1/found-reports",
        json={
            "species": "dog",
            "seen_at": _ago(hours=1),
            "location": {"lat": 51.6, "lon": -0.2},
            "microchip": CHIP,
        },
    )
    assert found.status_code == 201 and found.json()["matches"] == []
    _, report = _opened(alice, microchip=CHIP)  # opened after: matched against the found report
    items = alice.get(f"/v1/lost-reports/{report['id']}/matches").json()["items"]
    assert items == [
        {
            "report_id": found.json()["id"],
            "score": 1.0,
            "distance_km": items[0]["distance_km"],
            "certain": True,
        }
    ]
    assert (
        bob.get(f"/v1/found-reports/{found.json()['id']}/matches").json()["items"][0]["report_id"]
        == report["id"]
    )
    assert {str(d.user_id) for d in _deliveries(http_container, Category.LOST_PET_MATCH)} == {
        alice.id,
        bob.id,
    }


def test_a_chip_match_is_found_however_far_the_animal_travelled(alice, bob, http_container):
    edinburgh = {"lat": 55.9533, "lon": -3.1883}  # 534 km from the last-seen point in London

    def found(species: str, **extra: str) -> Any:
        body = {"species": species, "seen_at": _ago(hours=1), "location": edinburgh, **extra}
        return bob.post("/v1/found-reports", json=body)

    _, report = _opened(alice, microchip=CHIP)
    unchipped = found("dog")
    assert unchipped.status_code == 201 and unchipped.json()["matches"] == []  # outside the window
    chipped = found("dog", microchip="985 112-345.678.903")  # written as on a shelter's form
    assert chipped.status_code == 201, chipped.text
    [match] = chipped.json()["matches"]
    assert match["report_id"] == report["id"] and match["certain"] and match["score"] == 1.0
    assert 530 < match["distance_km"] < 540
    assert {str(d.user_id) for d in _deliveries(http_container, Category.LOST_PET_MATCH)} == {
        alice.id,
        bob.id,
    }

    # The other way round: a chipped animal found far away before its family reported it lost.
    earlier = found("cat", microchip="941000012345678")
    assert earlier.status_code == 201 and earlier.json()["matches"] == []
    _, cat_report = _opened(alice, name="Mittens", species="cat", microchip="941000012345678")
    [back] = alice.get(f"/v1/lost-reports/{cat_report['id']}/matches").json()["items"]
    assert back["report_id"] == earlier.json()["id"] and back["certain"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"microchip": "12345"}, "microchip"),
        ({"microchip": "98511234567890X"}, "microchip"),
        ({"seen_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, "seen_at"),
        ({"location": {"lat": 0, "lon": 200}}, None),
        ({"species": "unicorn"}, None),
        ({"colors": ["c"] * 11}, None),
    ],
)
def test_found_report_bad_input_stores_nothing(bob, http_container, extra, field):
    body = {"species": "dog", "seen_at": _ago(hours=1), "location": LONDON, **extra}
    assert_problem(bob.post("/v1/found-reports", json=body), 422, "validation_error", field)
    assert http_container.database.data.found_reports == {}


def test_found_report_needs_sign_in(api):
    body = {"species": "dog", "seen_at": _ago(hours=1), "location": LONDON}
    assert_problem(api.post("/v1/found-reports", json=body), 401, "unauthorized")


# --- alert settings and the fan-out ---------------------------------------------------------------


def test_alert_settings_follow_the_tier(alice):
    only_location = alice.patch("/v1/me", json={"alert_location": LONDON}).json()
    assert only_location["alert_location"] == LONDON and only_location["alert_radius_km"] == 5
    assert_problem(alice.patch("/v1/me", json={"alert_radius_km": 6}), 403, "tier_limit_exceeded")
    assert_problem(
        alice.patch("/v1/me", json={"alert_location": {"lat": 0, "lon": 181}}), 422, "validation_error"
    )
    assert alice.get("/v1/me").json()["alert_radius_km"] == 5


def test_fan_out_alerts_consenting_neighbours_once_within_both_radii(alice, new_account, http_container):
    near = new_account("Near")
    _grant_alerts(near, 51.51, -0.128)  # ~0.3 km away
    no_consent = new_account("NoConsent")
    no_consent.patch("/v1/me", json={"alert_location": {"lat": 51.51, "lon": -0.128}, "alert_radius_km": 5})
    small_radius = new_account("Small")
    _grant_alerts(small_radius, 51.53, -0.128, radius_km=1)  # ~2.5 km away, own radius 1 km
    far = new_account("Far")
    _grant_alerts(far, 51.6, -0.128)  # ~10 km away
    _grant_alerts(alice, 51.5074, -0.1278)  # the owner: never alerted about her own pet
    _, report = _opened(alice)

    deps = http_container.deps
    result = alert_batch(deps, UUID(report["id"]), None, batch_size=2)
    assert result.candidates == 2 and result.next_after is not None  # a full page: there may be more
    rest = alert_batch(deps, UUID(report["id"]), result.next_after, batch_size=2)
    assert rest.next_after is None
    alerts = _deliveries(http_container, Category.LOST_PET_ALERT)
    assert sorted((str(d.user_id), d.channel.value) for d in alerts) == sorted(
        [(near.id, "in_app"), (near.id, "email")]
    )
    assert alerts[0].params["pet_name"] == "Biscuit" and alerts[0].params["distance_km"] == "0.3"
    # A re-run of every batch (a worker killed before acknowledging) sends nothing twice.
    assert alert_batch(deps, UUID(report["id"]), None, batch_size=10).alerted == 0
    assert len(_deliveries(http_container, Category.LOST_PET_ALERT)) == 2
    # A closed report alerts nobody.
    alice.patch(f"/v1/lost-reports/{report['id']}", json={"status": "closed"})
    assert alert_batch(deps, UUID(report["id"]), None).candidates == 0


def test_fan_out_caps_alerts_per_recipient_and_day(new_account, http_container):
    neighbour = new_account("Neighbour")
    _grant_alerts(neighbour, 51.5074, -0.1278)
    owners = [new_account(f"Owner {i}") for i in range(12)]
    reports = [_opened(o)[1] for o in owners]
    for r in reports:
        alert_batch(http_container.deps, UUID(r["id"]), None)
    alerted = {
        d.subject
        for d in _deliveries(http_container, Category.LOST_PET_ALERT)
        if str(d.user_id) == neighbour.id
    }
    assert len(alerted) == 10
    assert alerted == {f"lost_pet_alert:{r['id']}" for r in reports[:10]}


def test_an_alert_is_cancelled_when_the_consent_is_withdrawn_before_it_is_sent(
    alice, new_account, http_container
):
    from tailtracker_core.usecases.notifications import DeliveryOutcome, deliver

    neighbour = new_account("Neighbour")
    _grant_alerts(neighbour, 51.5074, -0.1278)
    _, report = _opened(alice)
    assert alert_batch(http_container.deps, UUID(report["id"]), None).alerted == 1
    withdrawn = neighbour.put(
        "/v1/me/consents/location_alerts", json={"granted": False, "policy_version": "2026-01"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    for d in _deliveries(http_container, Category.LOST_PET_ALERT):
        assert deliver(http_container.handlers.deliverer, d.id, d.user_id) is DeliveryOutcome.CANCELLED
    assert neighbour.get("/v1/notifications").json()["items"] == []


def test_a_chunk_of_alerts_checks_consent_and_the_report_at_send_time(alice, new_account, http_container):
    """The batch path (deliver_batch with lost_alerts.still_wanted_many) cancels what the
    single path would: a withdrawn consent, and every alert of a report closed meanwhile."""
    from tailtracker_core.usecases.notifications import DeliveryOutcome, deliver_batch

    stays, leaves = new_account("Stays"), new_account("Leaves")
    _grant_alerts(stays, 51.5074, -0.1278)
    _grant_alerts(leaves, 51.5075, -0.1278)
    _, report = _opened(alice)
    assert alert_batch(http_container.deps, UUID(report["id"]), None).alerted == 2
    withdrawn = leaves.put(
        "/v1/me/consents/location_alerts", json={"granted": False, "policy_version": "2026-01"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    alerts = _deliveries(http_container, Category.LOST_PET_ALERT)
    result = deliver_batch(http_container.handlers.deliverer, [d.id for d in alerts])
    assert {(str(d.user_id), result.outcomes[d.id]) for d in alerts} == {
        (stays.id, DeliveryOutcome.SENT),
        (leaves.id, DeliveryOutcome.CANCELLED),
    }
    assert len(stays.get("/v1/notifications").json()["items"]) == 1
    assert leaves.get("/v1/notifications").json()["items"] == []

    other_owner = new_account("Other owner")
    _, second = _opened(other_owner)
    assert alert_batch(http_container.deps, UUID(second["id"]), None).alerted == 1  # stays
    closed = other_owner.patch(f"/v1/lost-reports/{second['id']}", json={"status": "closed"})
    assert closed.status_code == 200, closed.text
    later = [
        d for d in _deliveries(http_container, Category.LOST_PET_ALERT) if d.subject.endswith(second["id"])
    ]
    assert len(later) == 2
    result = deliver_batch(http_container.handlers.deliverer, [d.id for d in later])
    assert set(result.outcomes.values()) == {DeliveryOutcome.CANCELLED}


def test_the_public_views_are_rate_limited_per_address_when_signed_out(tmp_path):
    from litestar.testing import TestClient

    from entrypoints.bootstrap import build
    from entrypoints.http.app import create_app
    from tests.fixtures.http import http_settings

    container = build(http_settings(tmp_path))  # the real tier numbers
    free = container.deps.config.tiers[Tier.FREE]
    with TestClient(create_app(container)) as client:
        statuses = [client.get("/v1/lost-reports", params=LONDON).status_code for _ in range(free.burst + 1)]
        assert statuses.count(200) >= free.burst - 1
        limited = client.get(f"/v1/lost-reports/{UUID(int=1)}")
        assert_problem(limited, 429, "rate_limited")
        assert limited.headers["ratelimit-limit"] == str(free.burst)  # the free tier's bucket
    container.close()
