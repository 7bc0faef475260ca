"""Health and care over HTTP: vaccinations (status, superseding, cursors), the suggested
schedule, medical records, care schedules, care tasks and completion; every bad input."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from tailtracker_core.model.subscriptions import Subscription, SubscriptionStatus
from tailtracker_core.model.tiers import Tier
from tests.fixtures import files as samples

from .problems import assert_problem

TODAY = datetime.now(UTC).date()


def _join(owner: Any, invitee: Any, family_id: str, role: str) -> None:
    invitation = owner.post(
        f"/v1/families/{family_id}/invitations", json={"email": invitee.email, "role": role}
    )
    assert invitee.post(f"/v1/invitations/{invitation.json()['token']}/accept").status_code == 200


@pytest.fixture
def pet(alice: Any) -> str:
    body = {
        "family_id": alice.personal_family(),
        "name": "Biscuit",
        "species": "dog",
        "birth_date": (TODAY - timedelta(weeks=13)).isoformat(),
    }
    response = alice.post("/v1/pets", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _document(account: Any, pet_id: str, name: str = "certificate.pdf") -> str:
    files = {"file": (name, samples.pdf(), "application/pdf")}
    response = account.post(f"/v1/pets/{pet_id}/documents", files=files)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _cursor(container: Any, table: str, row_id: str) -> datetime | None:
    with container.deps.uow(None) as uow:
        repo = uow.vaccinations if table == "vaccinations" else uow.care_schedules
        value: datetime | None = repo.next_fire_at(UUID(row_id))
        return value


# --- vaccinations ------------------------------------------------------------------------------


def test_record_list_update_and_delete_vaccinations(alice: Any, pet: str, http_container: Any) -> None:
    first = alice.post(
        f"/v1/pets/{pet}/vaccinations",
        json={
            "vaccine": "Rabies",
            "administered_on": (TODAY - timedelta(days=400)).isoformat(),
            "next_due_on": (TODAY + timedelta(days=10)).isoformat(),
            "lot_number": "LOT-1",
            "clinic": "Vet Street",
        },
    )
    assert first.status_code == 201, first.text
    dose = first.json()
    assert first.headers["location"] == f"/v1/vaccinations/{dose['id']}"
    assert first.headers["etag"] == '"1"'
    assert dose["vaccine"] == "rabies"
    assert dose["vaccine_name"] == "Rabies"
    assert dose["status"] == "due_soon"
    assert dose["certificate_id"] is None
    assert _cursor(http_container, "vaccinations", dose["id"]) is not None

    later = alice.post(
        f"/v1/pets/{pet}/vaccinations",
        json={
            "vaccine": "rabies",
            "administered_on": TODAY.isoformat(),
            "next_due_on": (TODAY + timedelta(days=1095)).isoformat(),
        },
    ).json()
    assert later["status"] == "ok"
    # Recording the later dose cleared the earlier one's reminder cursor in the same transaction.
    assert _cursor(http_container, "vaccinations", dose["id"]) is None
    listed = alice.get(f"/v1/pets/{pet}/vaccinations").json()
    assert [(v["id"], v["status"]) for v in listed["items"]] == [
        (dose["id"], "superseded"),
        (later["id"], "ok"),
    ]
    assert listed["next_cursor"] is None
    page = alice.get(f"/v1/pets/{pet}/vaccinations?limit=1&fields=id,status").json()
    assert page["items"] == [{"id": dose["id"], "status": "superseded"}]
    assert (
        alice.get(f"/v1/pets/{pet}/vaccinations?cursor={page['next_cursor']}").json()["items"][0]["id"]
        == later["id"]
    )

    one = alice.get(f"/v1/vaccinations/{dose['id']}")
    assert one.status_code == 200
    assert one.json()["status"] == "superseded"
    assert alice.get(f"/v1/vaccinations/{dose['id']}", headers={"If-None-Match": '"1"'}).status_code == 304

    changed = alice.patch(
        f"/v1/vaccinations/{later['id']}",
        json={"clinic": None, "lot_number": "L2"},
        headers={"If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["lot_number"] == "L2"
    stale = alice.patch(
        f"/v1/vaccinations/{later['id']}", json={"lot_number": "L3"}, headers={"If-Match": '"1"'}
    )
    assert_problem(stale, 412, "precondition_failed")

    assert alice.delete(f"/v1/vaccinations/{later['id']}").status_code == 204
    # Deleting the later dose makes the earlier current again, with its cursor back.
    assert alice.get(f"/v1/vaccinations/{dose['id']}").json()["status"] == "due_soon"
    assert _cursor(http_container, "vaccinations", dose["id"]) is not None
    assert_problem(alice.get(f"/v1/vaccinations/{later['id']}"), 404, "not_found")
    assert_problem(alice.delete(f"/v1/vaccinations/{later['id']}"), 404, "not_found")


def test_an_idempotency_key_replays_the_recorded_dose(alice: Any, pet: str) -> None:
    body = {"vaccine": "dhpp", "administered_on": TODAY.isoformat()}
    key = {"Idempotency-Key": "dose-1"}
    one = alice.post(f"/v1/pets/{pet}/vaccinations", json=body, headers=key)
    two = alice.post(f"/v1/pets/{pet}/vaccinations", json=body, headers=key)
    assert one.status_code == two.status_code == 201
    assert one.json() == two.json()
    assert len(alice.get(f"/v1/pets/{pet}/vaccinations").json()["items"]) == 1


def test_the_suggested_schedule_matches_recorded_doses(alice: Any, pet: str) -> None:
    born = TODAY - timedelta(weeks=13)
    given = alice.post(
        f"/v1/pets/{pet}/vaccinations",
        json={"vaccine": "dhppi", "administered_on": (born + timedelta(weeks=8)).isoformat()},
    ).json()
    assert given["vaccine"] == "dhppi"
    assert given["vaccine_name"].startswith("DHPP")
    out = alice.get(f"/v1/pets/{pet}/vaccinations/suggested")
    assert out.status_code == 200, out.text
    body = out.json()
    assert body["species"] == "dog"
    assert body["birth_date"] == born.isoformat()
    plan = {(p["vaccine"], p["slot"]): p for p in body["plan"]}
    assert plan[("dhpp", "8 weeks")]["state"] == "given"
    assert plan[("dhpp", "8 weeks")]["vaccination_id"] == given["id"]
    items = [(i["vaccine"], i["slot"], i["due_on"], i["status"]) for i in body["items"]]
    assert ("dhpp", "12 weeks", (born + timedelta(weeks=12)).isoformat(), "overdue") in items
    assert ("rabies", "12 weeks", (born + timedelta(weeks=12)).isoformat(), "overdue") in items
    assert ("dhpp", "16 weeks", (born + timedelta(weeks=16)).isoformat(), "due_soon") in items
    assert all(i["slot"] != "8 weeks" or i["vaccine"] != "dhpp" for i in body["items"])
    assert [i["due_on"] for i in body["items"]] == sorted(i["due_on"] for i in body["items"])


def test_no_suggestions_without_a_birth_date(alice: Any) -> None:
    pet = alice.post(
        "/v1/pets", json={"family_id": alice.personal_family(), "name": "Tom", "species": "cat"}
    ).json()
    body = alice.get(f"/v1/pets/{pet['id']}/vaccinations/suggested").json()
    assert body["items"] == []
    assert body["plan"] == []
    assert body["birth_date"] is None


# --- medical records -----------------------------------------------------------------------------


def test_medical_records_crud(alice: Any, pet: str) -> None:
    files = [_document(alice, pet, "lab.pdf"), _document(alice, pet, "invoice.pdf")]
    made = alice.post(
        f"/v1/pets/{pet}/medical-records",
        json={
            "kind": "diagnosis",
            "occurred_on": TODAY.isoformat(),
            "title": "Ear infection",
            "notes": "left ear\nrecheck in 2 weeks",
            "vet": "Dr. Who",
            "file_ids": files,
        },
    )
    assert made.status_code == 201, made.text
    rec = made.json()
    assert rec["file_ids"] == files
    assert rec["created_by"] == alice.id
    second = alice.post(
        f"/v1/pets/{pet}/medical-records",
        json={"kind": "allergy", "occurred_on": "2020-02-29", "title": "Chicken"},
    ).json()
    page = alice.get(f"/v1/pets/{pet}/medical-records?limit=1").json()
    assert [r["id"] for r in page["items"]] == [rec["id"]]
    rest = alice.get(f"/v1/pets/{pet}/medical-records?limit=1&cursor={page['next_cursor']}").json()
    assert [r["id"] for r in rest["items"]] == [second["id"]]
    assert rest["next_cursor"] is None
    patched = alice.patch(
        f"/v1/medical-records/{rec['id']}", json={"file_ids": [], "vet": None}, headers={"If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["file_ids"] == []
    assert patched.json()["vet"] is None
    assert patched.json()["title"] == "Ear infection"
    assert patched.headers["etag"] == '"2"'
    assert alice.get(f"/v1/medical-records/{rec['id']}").json()["notes"] == "left ear\nrecheck in 2 weeks"
    assert alice.delete(f"/v1/medical-records/{rec['id']}").status_code == 204
    assert [r["id"] for r in alice.get(f"/v1/pets/{pet}/medical-records").json()["items"]] == [second["id"]]


# --- care schedules and tasks ------------------------------------------------------------------------


def _schedule(account: Any, pet: str, **fields: Any) -> Any:
    body = {
        "kind": "medication",
        "title": "Heartworm",
        "rrule": "FREQ=DAILY;BYHOUR=8,20",
        "starts_at": "2026-01-01T08:00:00",
        **fields,
    }
    return account.post(f"/v1/pets/{pet}/care-schedules", json=body)


def test_care_schedules_crud_with_the_users_timezone_and_cursors(
    alice: Any, pet: str, http_container: Any
) -> None:
    assert alice.patch("/v1/me", json={"timezone": "Europe/London"}).status_code == 200
    made = _schedule(alice, pet, notes="with food")
    assert made.status_code == 201, made.text
    s = made.json()
    assert s["timezone"] == "Europe/London"
    assert s["rrule"] == "FREQ=DAILY;BYHOUR=8,20"
    assert s["starts_at"] == "2026-01-01T08:00:00"
    cursor = _cursor(http_container, "schedules", s["id"])
    assert cursor is not None
    assert datetime.now(UTC) <= cursor <= datetime.now(UTC) + timedelta(hours=13)
    walk = _schedule(alice, pet, kind="walk", timezone="America/New_York").json()
    assert _cursor(http_container, "schedules", walk["id"]) is None  # walks are not reminded
    listed = alice.get(f"/v1/pets/{pet}/care-schedules").json()["items"]
    assert [x["id"] for x in listed] == [s["id"], walk["id"]]
    changed = alice.patch(
        f"/v1/care-schedules/{walk['id']}", json={"kind": "feeding", "starts_at": "2026-01-01T07:30"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["starts_at"] == "2026-01-01T07:30:00"
    assert _cursor(http_container, "schedules", walk["id"]) is not None  # now reminded
    assert alice.get(f"/v1/care-schedules/{walk['id']}").headers["etag"] == '"2"'
    assert_problem(
        alice.patch(f"/v1/care-schedules/{walk['id']}", json={"title": "x"}, headers={"If-Match": '"1"'}),
        412,
        "precondition_failed",
    )
    assert alice.delete(f"/v1/care-schedules/{walk['id']}").status_code == 204
    assert_problem(alice.get(f"/v1/care-schedules/{walk['id']}"), 404, "not_found")


def test_care_tasks_list_and_complete(alice: Any, pet: str) -> None:
    s = _schedule(alice, pet, timezone="UTC").json()
    start = datetime.combine(TODAY, datetime.min.time(), UTC) - timedelta(days=1)
    query = {"from": start.isoformat(), "to": (start + timedelta(days=2)).isoformat()}
    tasks = alice.get(f"/v1/pets/{pet}/care-tasks", params=query)
    assert tasks.status_code == 200, tasks.text
    items = tasks.json()["items"]
    assert [t["starts_at"] for t in items] == [
        (start + timedelta(hours=h)).isoformat().replace("+00:00", "Z") for h in (8, 20, 32, 44)
    ]
    assert all(not t["completed"] and t["completed_at"] is None for t in items)
    first = items[0]
    assert first["key"] == f"{s['id']}@{first['occurrence']}"
    done = alice.post(f"/v1/care-tasks/{s['id']}/{first['occurrence']}/complete")
    assert done.status_code == 200, done.text
    assert done.json()["completed"] is True
    assert done.json()["completed_by"] == alice.id
    again = alice.post(f"/v1/care-tasks/{s['id']}/{first['key']}/complete")
    assert again.status_code == 200
    assert again.json()["completed_at"] == done.json()["completed_at"]  # the first completion, no twin
    after = alice.get(f"/v1/pets/{pet}/care-tasks", params=query).json()["items"]
    assert [t["completed"] for t in after] == [True, False, False, False]
    page = alice.get(f"/v1/pets/{pet}/care-tasks", params={**query, "limit": 3}).json()
    assert len(page["items"]) == 3
    rest = alice.get(
        f"/v1/pets/{pet}/care-tasks", params={**query, "limit": 3, "cursor": page["next_cursor"]}
    ).json()
    assert [t["key"] for t in rest["items"]] == [after[3]["key"]]
    assert rest["next_cursor"] is None
    default = alice.get(f"/v1/pets/{pet}/care-tasks").json()["items"]  # from now, for 7 days
    assert 13 <= len(default) <= 14


def test_completing_what_the_rule_does_not_generate(alice: Any, pet: str) -> None:
    s = _schedule(alice, pet, timezone="UTC").json()
    base = f"/v1/care-tasks/{s['id']}"
    assert_problem(alice.post(f"{base}/2026-06-01T09:00:00/complete"), 404, "not_found")
    assert_problem(alice.post(f"{base}/not-a-time/complete"), 422, "validation_error", "occurrence")
    assert_problem(
        alice.post(f"{base}/2026-06-01T08:00:00+01:00/complete"), 422, "validation_error", "occurrence"
    )
    future = (TODAY + timedelta(days=30)).isoformat() + "T08:00:00"
    assert_problem(alice.post(f"{base}/{future}/complete"), 422, "validation_error", "occurrence")
    other = f"{uuid.uuid4()}@2026-06-01T08:00:00"
    assert_problem(alice.post(f"{base}/{other}/complete"), 404, "not_found")
    assert_problem(
        alice.post(f"/v1/care-tasks/{uuid.uuid4()}/2026-06-01T08:00:00/complete"), 404, "not_found"
    )


# --- bad input: 422 problem+json, nothing stored --------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"rrule": "FREQ=SECONDLY"}, "rrule"),
        ({"rrule": "FREQ=DAILY;COUNT=2;UNTIL=20270101"}, "rrule"),
        ({"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "rrule"),
        ({"rrule": "not a rule"}, "rrule"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"starts_at": "2026-01-01T08:00:00+01:00"}, "starts_at"),
        ({"starts_at": "2026-02-30T08:00:00"}, "starts_at"),
        ({"starts_at": "1999-12-31T08:00:00"}, "starts_at"),
        ({"starts_at": "2026-01-01T08:00:30"}, "starts_at"),
        ({"title": ""}, "title"),
        ({"kind": "bath"}, "kind"),
    ],
)
def test_bad_care_schedules_are_refused_whole(
    alice: Any, pet: str, fields: dict[str, Any], field: str
) -> None:
    assert_problem(_schedule(alice, pet, **fields), 422, "validation_error", field)
    assert alice.get(f"/v1/pets/{pet}/care-schedules").json()["items"] == []


def test_bad_schedule_changes_change_nothing(alice: Any, pet: str) -> None:
    s = _schedule(alice, pet).json()
    assert_problem(
        alice.patch(f"/v1/care-schedules/{s['id']}", json={"rrule": "FREQ=MINUTELY"}),
        422,
        "validation_error",
        "rrule",
    )
    assert_problem(
        alice.patch(f"/v1/care-schedules/{s['id']}", json={"timezone": "Nowhere"}),
        422,
        "validation_error",
        "timezone",
    )
    assert alice.get(f"/v1/care-schedules/{s['id']}").json() == s


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"vaccine": "rabies", "administered_on": "2999-01-01"}, "administered_on"),
        ({"vaccine": "rabies", "administered_on": "1970-01-01"}, "administered_on"),
        ({"vaccine": "rabies", "administered_on": "2026-01-10", "next_due_on": "2026-01-01"}, "next_due_on"),
        ({"vaccine": "rabies", "administered_on": "2026-01-10", "next_due_on": "2200-01-01"}, "next_due_on"),
        ({"vaccine": "Nobivac DHPPi", "administered_on": "2026-01-10"}, "vaccine"),
        ({"vaccine": "", "administered_on": "2026-01-10"}, "vaccine"),
        ({"vaccine": "rabies", "administered_on": "2026-13-10"}, "administered_on"),
        ({"vaccine": "rabies", "administered_on": "2026-01-10", "lot_number": "x\x00"}, "lot_number"),
    ],
)
def test_bad_vaccinations_are_refused_whole(alice: Any, pet: str, body: dict[str, Any], field: str) -> None:
    assert_problem(alice.post(f"/v1/pets/{pet}/vaccinations", json=body), 422, "validation_error", field)
    assert alice.get(f"/v1/pets/{pet}/vaccinations").json()["items"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "surgery", "occurred_on": "2026-01-01", "title": "x"}, "kind"),
        ({"kind": "visit", "occurred_on": "2999-01-01", "title": "x"}, "occurred_on"),
        ({"kind": "visit", "occurred_on": "2026-01-01", "title": " "}, "title"),
        ({"kind": "visit", "occurred_on": "2026-01-01", "title": "x", "file_ids": ["nope"]}, "file_ids"),
        (
            {
                "kind": "visit",
                "occurred_on": "2026-01-01",
                "title": "x",
                "file_ids": [str(uuid.uuid4())] * 21,
            },
            "file_ids",
        ),
    ],
)
def test_bad_medical_records_are_refused_whole(
    alice: Any, pet: str, body: dict[str, Any], field: str
) -> None:
    response = alice.post(f"/v1/pets/{pet}/medical-records", json=body)
    assert_problem(response, 422, "validation_error")
    assert field in response.text
    assert alice.get(f"/v1/pets/{pet}/medical-records").json()["items"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2027-01-03T00:00:00Z"}, "to"),
        ({"from": "2026-01-01T00:00:00", "to": "2026-01-03T00:00:00Z"}, "from"),
        ({"from": "1800-01-01T00:00:00Z", "to": "1800-01-03T00:00:00Z"}, "from"),
        ({"from": "9999-12-31T23:00:00-14:00"}, "from"),
        ({"cursor": "bm90IGEgY3Vyc29y"}, "cursor"),
    ],
)
def test_bad_task_ranges_are_422(alice: Any, pet: str, query: dict[str, str], field: str) -> None:
    assert_problem(alice.get(f"/v1/pets/{pet}/care-tasks", params=query), 422, "validation_error", field)


def test_a_year_of_tasks_is_allowed_and_from_equal_to_is_empty(alice: Any, pet: str) -> None:
    _schedule(alice, pet, rrule="FREQ=WEEKLY")
    year = alice.get(
        f"/v1/pets/{pet}/care-tasks",
        params={"from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z", "limit": 500},
    )
    assert year.status_code == 200, year.text
    assert len(year.json()["items"]) == 53  # 2026 starts on a Thursday: 53 Thursdays
    empty = alice.get(
        f"/v1/pets/{pet}/care-tasks", params={"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    )
    assert empty.json()["items"] == []


def test_viewers_read_members_write_outsiders_see_nothing(
    alice: Any, new_account: Any, pet: str, http_container: Any
) -> None:
    viewer, member, outsider = new_account("Vera"), new_account("Mo"), new_account("Otto")
    deps = http_container.deps
    with deps.uow(None) as uow:  # premium: room for three members
        uow.subscriptions.add(
            Subscription(deps.ids.new_id(), alice.id_uuid, Tier.PREMIUM, SubscriptionStatus.ACTIVE, None)
        )
        uow.commit()
    family = alice.personal_family()
    _join(alice, viewer, family, "viewer")
    _join(alice, member, family, "member")
    s = _schedule(member, pet, timezone="UTC")
    assert s.status_code == 201, s.text
    occ = (TODAY - timedelta(days=1)).isoformat() + "T08:00:00"
    assert viewer.get(f"/v1/pets/{pet}/care-tasks").status_code == 200
    assert_problem(viewer.post(f"/v1/care-tasks/{s.json()['id']}/{occ}/complete"), 403, "forbidden")
    assert_problem(
        viewer.post(
            f"/v1/pets/{pet}/vaccinations", json={"vaccine": "rabies", "administered_on": "2026-01-01"}
        ),
        403,
        "forbidden",
    )
    assert_problem(outsider.get(f"/v1/pets/{pet}/vaccinations"), 404, "not_found")
    assert_problem(outsider.get(f"/v1/care-schedules/{s.json()['id']}"), 404, "not_found")
    assert member.post(f"/v1/care-tasks/{s.json()['id']}/{occ}/complete").status_code == 200


def test_deleting_the_pet_deletes_its_care(alice: Any, pet: str) -> None:
    dose = alice.post(
        f"/v1/pets/{pet}/vaccinations", json={"vaccine": "rabies", "administered_on": "2026-01-01"}
    ).json()
    s = _schedule(alice, pet).json()
    assert alice.delete(f"/v1/pets/{pet}").status_code == 204
    assert_problem(alice.get(f"/v1/vaccinations/{dose['id']}"), 404, "not_found")
    assert_problem(alice.get(f"/v1/care-schedules/{s['id']}"), 404, "not_found")
    assert_problem(alice.get(f"/v1/pets/{pet}/care-tasks"), 404, "not_found")
    assert date.fromisoformat(dose["administered_on"]) == date(2026, 1, 1)


def test_attachments_must_be_files_of_the_same_pet(alice: Any, bob: Any, pet: str) -> None:
    """Certificates and record attachments are stored files of this very pet (docs/files.md)."""
    mine = _document(alice, pet)
    other_pet = alice.post(
        "/v1/pets", json={"family_id": alice.personal_family(), "name": "Other", "species": "cat"}
    )
    theirs = _document(alice, other_pet.json()["id"])
    bobs_pet = bob.post(
        "/v1/pets", json={"family_id": bob.personal_family(), "name": "Bobby", "species": "dog"}
    )
    strangers = _document(bob, bobs_pet.json()["id"])
    dose = {"vaccine": "rabies", "administered_on": "2026-01-01"}
    for foreign in (theirs, strangers, str(uuid.uuid4())):
        refused = alice.post(f"/v1/pets/{pet}/vaccinations", json={**dose, "certificate_id": foreign})
        assert_problem(refused, 422, "validation_error", "certificate_id")
        record = {"kind": "lab", "occurred_on": "2026-01-01", "title": "Bloods", "file_ids": [mine, foreign]}
        assert_problem(
            alice.post(f"/v1/pets/{pet}/medical-records", json=record), 422, "validation_error", "file_ids"
        )
    assert alice.get(f"/v1/pets/{pet}/vaccinations").json()["items"] == []
    assert alice.get(f"/v1/pets/{pet}/medical-records").json()["items"] == []

    made = alice.post(f"/v1/pets/{pet}/vaccinations", json={**dose, "certificate_id": mine})
    assert made.status_code == 201, made.text
    assert made.json()["certificate_id"] == mine
    moved = alice.patch(f"/v1/vaccinations/{made.json()['id']}", json={"certificate_id": theirs})
    assert_problem(moved, 422, "validation_error", "certificate_id")
    cleared = alice.patch(f"/v1/vaccinations/{made.json()['id']}", json={"certificate_id": None})
    assert cleared.status_code == 200
    assert cleared.json()["certificate_id"] is None

    record = alice.post(
        f"/v1/pets/{pet}/medical-records",
        json={"kind": "lab", "occurred_on": "2026-01-01", "title": "Bloods", "file_ids": [mine]},
    ).json()
    assert record["file_ids"] == [mine]
    bad = alice.patch(f"/v1/medical-records/{record['id']}", json={"file_ids": [strangers]})
    assert_problem(bad, 422, "validation_error", "file_ids")
    assert alice.get(f"/v1/medical-records/{record['id']}").json()["file_ids"] == [mine]
    # Editing something else keeps the attachments without checking them again.
    assert (
        alice.patch(f"/v1/medical-records/{record['id']}", json={"title": "Bloods, fasting"}).status_code
        == 200
    )


def test_deleting_a_file_detaches_it_from_doses_and_records(alice: Any, pet: str) -> None:
    """No record is left pointing at a deleted file (it used to keep the id and 404 on fetch)."""
    certificate, lab, invoice = (_document(alice, pet, n) for n in ("cert.pdf", "lab.pdf", "invoice.pdf"))
    dose = alice.post(
        f"/v1/pets/{pet}/vaccinations",
        json={"vaccine": "rabies", "administered_on": "2026-01-01", "certificate_id": certificate},
    ).json()
    record = alice.post(
        f"/v1/pets/{pet}/medical-records",
        json={"kind": "lab", "occurred_on": "2026-01-01", "title": "Bloods", "file_ids": [lab, invoice]},
    ).json()
    untouched = alice.post(
        f"/v1/pets/{pet}/medical-records",
        json={"kind": "visit", "occurred_on": "2026-01-02", "title": "Check-up", "file_ids": [invoice]},
    ).json()
    assert alice.delete(f"/v1/files/{certificate}").status_code == 204
    assert alice.delete(f"/v1/files/{lab}").status_code == 204
    got = alice.get(f"/v1/vaccinations/{dose['id']}")
    assert got.json()["certificate_id"] is None
    assert got.headers["etag"] == '"2"'  # a change: caches and If-Match see it
    rec = alice.get(f"/v1/medical-records/{record['id']}")
    assert rec.json()["file_ids"] == [invoice]
    assert rec.headers["etag"] == '"2"'
    assert alice.get(f"/v1/medical-records/{untouched['id']}").headers["etag"] == '"1"'
    assert alice.get(f"/v1/files/{invoice}").status_code == 200
