"""Calendar feeds over HTTP: managing one's secret feed URL (every role, own feed only), and the
public .ics endpoint (token as the credential, 404 for any defect, text/calendar parsed by a
real iCalendar parser, ETag/304, cache headers, rate limited per address)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest
from litestar.testing import TestClient

from entrypoints.bootstrap import build
from entrypoints.http.app import create_app
from tailtracker_core.model.subscriptions import Subscription, SubscriptionStatus
from tailtracker_core.model.tiers import Tier
from tests.fixtures.http import http_settings, sign_up


@pytest.fixture
def world(http_container: Any, new_account: Any) -> dict[str, Any]:
    owner, member, viewer, outsider = (new_account(n) for n in ("owner", "member", "viewer", "outsider"))
    deps = http_container.deps
    with deps.uow(None) as uow:
        uow.subscriptions.add(
            Subscription(deps.ids.new_id(), owner.id_uuid, Tier.PREMIUM, SubscriptionStatus.ACTIVE, None)
        )
        uow.commit()
    family = owner.post("/v1/families", json={"name": "The Smiths"}).json()["id"]
    for person, role in ((member, "member"), (viewer, "viewer")):
        token = owner.post(
            f"/v1/families/{family}/invitations", json={"email": person.email, "role": role}
        ).json()["token"]
        assert person.post(f"/v1/invitations/{token}/accept").status_code == 200
    pet = owner.post(
        "/v1/pets", json={"family_id": family, "name": "Rex", "species": "dog", "birth_date": "2026-06-01"}
    ).json()["id"]
    cat = owner.post("/v1/pets", json={"family_id": family, "name": "Tom", "species": "cat"}).json()["id"]
    return {
        "owner": owner,
        "member": member,
        "viewer": viewer,
        "outsider": outsider,
        "family": family,
        "pet": pet,
        "cat": cat,
    }


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _anonymous_get(client: TestClient[Any], url: str, **kw: Any) -> Any:
    return client.get(_path(url), **kw)


@pytest.mark.parametrize("role", ["owner", "member", "viewer"])
@pytest.mark.parametrize("scope", ["pet", "family"])
def test_every_role_gets_a_feed_that_a_calendar_app_can_read(world, api, role, scope):
    who = world[role]
    base = f"/v1/pets/{world['pet']}" if scope == "pet" else f"/v1/families/{world['family']}"
    r = who.post(f"{base}/calendar-feed")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id", "scope", "url", "webcal_url", "token", "created_at"}
    assert body["scope"] == scope
    assert body["url"].startswith("http://127.0.0.1:8000" + base + "/calendar.ics?token=")
    assert parse_qs(urlsplit(body["url"]).query)["token"] == [body["token"]]
    assert body["webcal_url"] == "webcal://" + body["url"].removeprefix("http://")
    assert len(body["token"]) >= 43  # 256 bits
    feed = _anonymous_get(api, body["url"])
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert feed.headers["cache-control"] == "private, max-age=900"
    assert feed.headers["etag"].startswith('"')
    assert feed.headers["last-modified"].endswith(" GMT")
    cal = icalendar.Calendar.from_ical(feed.content)
    assert cal["VERSION"] == "2.0"
    summaries = [str(e["SUMMARY"]) for e in cal.walk("VEVENT")]
    assert summaries and all(s.startswith("Rex: ") for s in summaries)  # a dog with a birth date
    expected_name = "Rex" if scope == "pet" else "The Smiths"
    assert cal["X-WR-CALNAME"] == expected_name
    shown = who.get(f"{base}/calendar-feed")
    assert shown.status_code == 200
    assert shown.json() == {"id": body["id"], "scope": scope, "created_at": body["created_at"]}


def test_outsiders_get_404_and_no_feed(world):
    outsider = world["outsider"]
    for base in (f"/v1/pets/{world['pet']}", f"/v1/families/{world['family']}"):
        for method in ("POST", "GET", "DELETE"):
            r = outsider.request(method, f"{base}/calendar-feed")
            assert r.status_code == 404, (method, base, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")


def test_managing_a_feed_needs_a_signed_in_user(world, api):
    r = api.post(f"/v1/pets/{world['pet']}/calendar-feed")
    assert r.status_code == 401


def test_rotation_and_revocation_stop_the_old_url(world, api):
    owner = world["owner"]
    base = f"/v1/pets/{world['pet']}"
    first = owner.post(f"{base}/calendar-feed").json()
    second = owner.post(f"{base}/calendar-feed").json()
    assert first["token"] != second["token"]
    assert _anonymous_get(api, first["url"]).status_code == 404
    assert _anonymous_get(api, second["url"]).status_code == 200
    assert owner.get(f"{base}/calendar-feed").json()["id"] == second["id"]
    assert owner.delete(f"{base}/calendar-feed").status_code == 204
    gone = _anonymous_get(api, second["url"])
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert gone.json()["code"] == "not_found"
    assert owner.get(f"{base}/calendar-feed").status_code == 404
    assert owner.delete(f"{base}/calendar-feed").status_code == 404


def test_feeds_are_per_user(world, api):
    base = f"/v1/families/{world['family']}"
    mine = world["owner"].post(f"{base}/calendar-feed").json()
    theirs = world["viewer"].post(f"{base}/calendar-feed").json()
    assert world["viewer"].delete(f"{base}/calendar-feed").status_code == 204
    assert _anonymous_get(api, theirs["url"]).status_code == 404
    assert _anonymous_get(api, mine["url"]).status_code == 200  # the viewer cannot touch the owner's


def test_every_defect_of_the_token_is_the_same_404(world, api):
    owner = world["owner"]
    pet_feed = owner.post(f"/v1/pets/{world['pet']}/calendar-feed").json()
    token = pet_feed["token"]
    unknown_pet = "01936d2a-0000-7000-8000-000000000000"
    answers = [
        api.get(f"/v1/pets/{world['pet']}/calendar.ics?token=nope"),
        api.get(f"/v1/pets/{unknown_pet}/calendar.ics?token=nope"),
        api.get(f"/v1/pets/{unknown_pet}/calendar.ics?token={token}"),  # a real token, another pet
        api.get(f"/v1/pets/{world['cat']}/calendar.ics?token={token}"),  # a pet of the same family
        api.get(f"/v1/families/{world['family']}/calendar.ics?token={token}"),  # a pet token, family URL
    ]
    for r in answers:
        assert r.status_code == 404, r.text
        assert r.json()["detail"] == "calendar feed not found"
    assert api.get(f"/v1/pets/{world['pet']}/calendar.ics").status_code == 422  # no token


def test_a_member_who_leaves_takes_their_feeds_with_them(world, api):
    member = world["member"]
    url = member.post(f"/v1/families/{world['family']}/calendar-feed").json()["url"]
    assert _anonymous_get(api, url).status_code == 200
    r = world["owner"].delete(f"/v1/families/{world['family']}/members/{member.id}")
    assert r.status_code == 204
    assert _anonymous_get(api, url).status_code == 404


def test_a_deleted_pet_takes_its_feeds_with_it(world, api):
    url = world["owner"].post(f"/v1/pets/{world['pet']}/calendar-feed").json()["url"]
    assert world["owner"].delete(f"/v1/pets/{world['pet']}").status_code == 204
    assert _anonymous_get(api, url).status_code == 404


def test_etag_gives_304_and_changes_with_the_content(world, api):
    owner = world["owner"]
    url = owner.post(f"/v1/pets/{world['pet']}/calendar-feed").json()["url"]
    first = _anonymous_get(api, url)
    etag = first.headers["etag"]
    again = _anonymous_get(api, url)
    assert again.headers["etag"] == etag
    assert again.content == first.content
    cached = _anonymous_get(api, url, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag
    r = owner.patch(f"/v1/pets/{world['pet']}", json={"name": "Rexy"})
    assert r.status_code == 200
    changed = _anonymous_get(api, url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert b"Rexy: " in changed.content


def test_the_family_feed_shows_every_pet(world, api):
    url = world["viewer"].post(f"/v1/families/{world['family']}/calendar-feed").json()["url"]
    cal = icalendar.Calendar.from_ical(_anonymous_get(api, url).content)
    summaries = {str(e["SUMMARY"]).split(":")[0] for e in cal.walk("VEVENT")}
    assert summaries == {"Rex"}  # Tom has no birth date: no suggestions, no care yet


def test_the_public_feed_is_rate_limited_per_address(tmp_path):
    container = build(http_settings(tmp_path))  # the real tier numbers: free is 60/min, burst 20
    try:
        with TestClient(create_app(container)) as client:
            owner = sign_up(client)
            family = owner.personal_family()
            url = owner.post(f"/v1/families/{family}/calendar-feed").json()["url"]
            statuses = [_anonymous_get(client, url).status_code for _ in range(25)]
            assert statuses[0] == 200
            assert 429 in statuses
            refused = _anonymous_get(client, url)
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) >= 1
    finally:
        container.close()


def test_the_feed_shows_stored_care_schedules_doses_and_completions(world, api):
    """Care stored through the care endpoints reaches the feed: the schedule as a recurring
    event in its zone (expanded as a calendar app does), a recorded dose's next due date, and
    a completed occurrence marked."""
    import recurring_ical_events

    owner, pet = world["owner"], world["pet"]
    schedule = owner.post(
        f"/v1/pets/{pet}/care-schedules",
        json={
            "kind": "medication",
            "title": "Heartworm pill",
            "rrule": "FREQ=DAILY",
            "starts_at": "2026-03-27T08:00",
            "timezone": "Europe/London",
            "notes": "With food",
        },
    )
    assert schedule.status_code == 201, schedule.text
    sid = schedule.json()["id"]
    dose = owner.post(
        f"/v1/pets/{pet}/vaccinations",
        json={
            "vaccine": "lepto",
            "vaccine_name": "Leptospirosis",
            "administered_on": "2026-10-01",
            "next_due_on": "2027-10-01",
        },
    )
    assert dose.status_code == 201, dose.text
    window = {"from": "2026-11-23T00:00:00Z", "to": "2026-11-25T00:00:00Z"}
    tasks = owner.get(f"/v1/pets/{pet}/care-tasks", params=window).json()["items"]
    assert tasks
    done = owner.post(f"/v1/care-tasks/{sid}/{tasks[0]['occurrence']}/complete")
    assert done.status_code == 200, done.text

    url = world["viewer"].post(f"/v1/pets/{pet}/calendar-feed").json()["url"]
    cal = icalendar.Calendar.from_ical(_anonymous_get(api, url).content)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT") if "RECURRENCE-ID" not in e}
    master = events[f"care-{sid}@tailtracker"]
    assert master["DTSTART"].params["TZID"] == "Europe/London"
    assert str(master["SUMMARY"]) == "Rex: Heartworm pill"
    assert str(master["DESCRIPTION"]) == "With food"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/London"]
    lo, hi = datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)
    starts = sorted(
        e["DTSTART"].dt.astimezone(UTC)
        for e in recurring_ical_events.of(cal).between(lo, hi)
        if str(e["UID"]).startswith("care-")
    )
    assert [s.hour for s in starts] == [8, 8, 7, 7, 7, 7]  # 08:00 London: GMT, then BST
    due = events[f"vaccination-{dose.json()['id']}@tailtracker"]
    assert due["DTSTART"].dt == date(2027, 10, 1)
    marked = [e for e in cal.walk("VEVENT") if "RECURRENCE-ID" in e]
    assert [str(e["SUMMARY"]) for e in marked] == ["✓ Rex: Heartworm pill"]
    assert marked[0]["RECURRENCE-ID"].dt.replace(tzinfo=None).isoformat() == tasks[0]["occurrence"]
