"""The domain page's role matrix, over HTTP: every role (and an outsider) against every
family-scoped action. Outsiders get 404 everywhere: no existence leak."""

from __future__ import annotations

from typing import Any

import pytest

from tailtracker_core.model.subscriptions import Subscription, SubscriptionStatus
from tailtracker_core.model.tiers import Tier
from tests.fixtures import files as samples

ROLES = ("owner", "member", "viewer", "outsider")

# action -> expected status per role, in ROLES order (from ../shared/design/domain.md).
MATRIX: dict[str, tuple[int, int, int, int]] = {
    "read family": (200, 200, 200, 404),
    "list members": (200, 200, 200, 404),
    "list pets of family": (200, 200, 200, 404),
    "read pet": (200, 200, 200, 404),
    "create pet": (201, 201, 403, 404),
    "edit pet": (200, 200, 403, 404),
    "delete pet": (204, 403, 403, 404),
    "invite": (201, 403, 403, 404),
    "rename family": (200, 403, 403, 404),
    "change a role": (200, 403, 403, 404),
    "delete family": (204, 403, 403, 404),
    "list photos": (200, 200, 200, 404),
    "read a file": (200, 200, 200, 404),
    "upload a photo": (201, 201, 403, 404),
    "upload a document": (201, 201, 403, 404),
    "delete a file": (204, 204, 403, 404),
    # health and care (docs/care.md): owners and members write, viewers read
    "list vaccinations": (200, 200, 200, 404),
    "read vaccination": (200, 200, 200, 404),
    "suggested vaccinations": (200, 200, 200, 404),
    "record vaccination": (201, 201, 403, 404),
    "edit vaccination": (200, 200, 403, 404),
    "delete vaccination": (204, 204, 403, 404),
    "list medical records": (200, 200, 200, 404),
    "read medical record": (200, 200, 200, 404),
    "add medical record": (201, 201, 403, 404),
    "edit medical record": (200, 200, 403, 404),
    "delete medical record": (204, 204, 403, 404),
    "list care schedules": (200, 200, 200, 404),
    "read care schedule": (200, 200, 200, 404),
    "add care schedule": (201, 201, 403, 404),
    "edit care schedule": (200, 200, 403, 404),
    "delete care schedule": (204, 204, 403, 404),
    "list care tasks": (200, 200, 200, 404),
    "complete care task": (200, 200, 403, 404),
}
CARE_DAY = "2026-01-02T08:00:00"


@pytest.fixture
def world(http_container: Any, new_account: Any) -> dict[str, Any]:
    owner, member, viewer, outsider = (new_account(name) for name in ROLES)
    deps = http_container.deps
    with deps.uow(None) as uow:  # premium: room for three members
        uow.subscriptions.add(
            Subscription(deps.ids.new_id(), owner.id_uuid, Tier.PREMIUM, SubscriptionStatus.ACTIVE, None)
        )
        uow.commit()
    family = owner.post("/v1/families", json={"name": "Matrix"}).json()["id"]
    for person, role in ((member, "member"), (viewer, "viewer")):
        token = owner.post(
            f"/v1/families/{family}/invitations", json={"email": person.email, "role": role}
        ).json()["token"]
        assert person.post(f"/v1/invitations/{token}/accept").status_code == 200
    pet = owner.post("/v1/pets", json={"family_id": family, "name": "Rex", "species": "dog"}).json()["id"]
    photo = owner.post(
        f"/v1/pets/{pet}/photos", files={"file": ("rex.png", samples.png((32, 32)), "image/png")}
    )
    assert photo.status_code == 201, photo.text
    care = f"/v1/pets/{pet}"
    dose = owner.post(f"{care}/vaccinations", json={"vaccine": "rabies", "administered_on": "2026-01-05"})
    record = owner.post(
        f"{care}/medical-records", json={"kind": "lab", "occurred_on": "2026-01-05", "title": "Bloods"}
    )
    schedule = owner.post(
        f"{care}/care-schedules",
        json={"kind": "medication", "title": "Pill", "rrule": "FREQ=DAILY", "starts_at": "2026-01-01T08:00"},
    )
    people = {"owner": owner, "member": member, "viewer": viewer, "outsider": outsider}
    ids = {"dose": dose.json()["id"], "record": record.json()["id"], "schedule": schedule.json()["id"]}
    return {**people, "family": family, "pet": pet, "file": photo.json()["id"], **ids}


def _act(action: str, who: Any, w: dict[str, Any]) -> Any:
    fam, pet = w["family"], w["pet"]
    if action == "read family":
        return who.get(f"/v1/families/{fam}")
    if action == "list members":
        return who.get(f"/v1/families/{fam}/members")
    if action == "list pets of family":
        return who.get(f"/v1/pets?family_id={fam}")
    if action == "read pet":
        return who.get(f"/v1/pets/{pet}")
    if action == "create pet":
        return who.post("/v1/pets", json={"family_id": fam, "name": "New", "species": "cat"})
    if action == "edit pet":
        return who.patch(f"/v1/pets/{pet}", json={"name": "Renamed"})
    if action == "delete pet":
        return who.delete(f"/v1/pets/{pet}")
    if action == "invite":
        return who.post(f"/v1/families/{fam}/invitations", json={"email": "x@example.org", "role": "viewer"})
    if action == "rename family":
        return who.patch(f"/v1/families/{fam}", json={"name": "Renamed"})
    if action == "change a role":
        return who.patch(f"/v1/families/{fam}/members/{w['viewer'].id}", json={"role": "viewer"})
    if action == "delete family":
        return who.delete(f"/v1/families/{fam}")
    if action == "list photos":
        return who.get(f"/v1/pets/{pet}/photos")
    if action == "read a file":
        return who.get(f"/v1/files/{w['file']}")
    if action == "upload a photo":
        return who.post(
            f"/v1/pets/{pet}/photos", files={"file": ("a.jpg", samples.jpeg((16, 16)), "image/jpeg")}
        )
    if action == "upload a document":
        return who.post(
            f"/v1/pets/{pet}/documents", files={"file": ("a.pdf", samples.pdf(), "application/pdf")}
        )
    if action == "delete a file":
        return who.delete(f"/v1/files/{w['file']}")
    return _care_act(action, who, w)


def _care_act(action: str, who: Any, w: dict[str, Any]) -> Any:
    pet, dose, record, schedule = w["pet"], w["dose"], w["record"], w["schedule"]
    calls: dict[str, tuple[str, str, dict[str, Any] | None]] = {
        "list vaccinations": ("GET", f"/v1/pets/{pet}/vaccinations", None),
        "read vaccination": ("GET", f"/v1/vaccinations/{dose}", None),
        "suggested vaccinations": ("GET", f"/v1/pets/{pet}/vaccinations/suggested", None),
        "record vaccination": (
            "POST",
            f"/v1/pets/{pet}/vaccinations",
            {"vaccine": "dhpp", "administered_on": "2026-02-01"},
        ),
        "edit vaccination": ("PATCH", f"/v1/vaccinations/{dose}", {"clinic": "Elsewhere"}),
        "delete vaccination": ("DELETE", f"/v1/vaccinations/{dose}", None),
        "list medical records": ("GET", f"/v1/pets/{pet}/medical-records", None),
        "read medical record": ("GET", f"/v1/medical-records/{record}", None),
        "add medical record": (
            "POST",
            f"/v1/pets/{pet}/medical-records",
            {"kind": "visit", "occurred_on": "2026-02-01", "title": "Visit"},
        ),
        "edit medical record": ("PATCH", f"/v1/medical-records/{record}", {"title": "Renamed"}),
        "delete medical record": ("DELETE", f"/v1/medical-records/{record}", None),
        "list care schedules": ("GET", f"/v1/pets/{pet}/care-schedules", None),
        "read care schedule": ("GET", f"/v1/care-schedules/{schedule}", None),
        "add care schedule": (
            "POST",
            f"/v1/pets/{pet}/care-schedules",
            {"kind": "walk", "title": "Walk", "rrule": "FREQ=DAILY", "starts_at": "2026-01-01T07:00"},
        ),
        "edit care schedule": ("PATCH", f"/v1/care-schedules/{schedule}", {"title": "Renamed"}),
        "delete care schedule": ("DELETE", f"/v1/care-schedules/{schedule}", None),
        "list care tasks": ("GET", f"/v1/pets/{pet}/care-tasks", None),
        "complete care task": ("POST", f"/v1/care-tasks/{schedule}/{CARE_DAY}/complete", None),
    }
    if action not in calls:
        raise AssertionError(action)
    method, url, body = calls[action]
    return who.request(method, url, json=body) if body is not None else who.request(method, url)


@pytest.mark.parametrize("action", list(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_over_http(world: dict[str, Any], role: str, action: str) -> None:
    expected = MATRIX[action][ROLES.index(role)]
    response = _act(action, world[role], world)
    assert response.status_code == expected, (role, action, response.text)
    if expected >= 400:
        body = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert body["code"] == {403: "forbidden", 404: "not_found"}[expected]


def test_nothing_changed_after_the_refused_attempts(world: dict[str, Any]) -> None:
    for role in ("member", "viewer", "outsider"):
        for action in ("delete pet", "rename family", "delete family", "invite"):
            _act(action, world[role], world)
    for role in ("viewer", "outsider"):
        for action in ("upload a photo", "upload a document", "delete a file"):
            _act(action, world[role], world)
    owner = world["owner"]
    assert owner.get(f"/v1/families/{world['family']}").json()["name"] == "Matrix"
    assert owner.get(f"/v1/pets/{world['pet']}").status_code == 200
    assert len(owner.get(f"/v1/families/{world['family']}/members").json()["items"]) == 3
    assert [p["id"] for p in owner.get(f"/v1/pets/{world['pet']}/photos").json()["items"]] == [world["file"]]
    assert owner.get(f"/v1/pets/{world['pet']}/documents").json()["items"] == []


def test_refused_care_writes_change_nothing(world: dict[str, Any]) -> None:
    owner, pet = world["owner"], world["pet"]
    before = {
        path: owner.get(path).json()
        for path in (
            f"/v1/pets/{pet}/vaccinations",
            f"/v1/pets/{pet}/medical-records",
            f"/v1/pets/{pet}/care-schedules",
            f"/v1/pets/{pet}/care-tasks?from=2026-01-01T00:00:00Z&to=2026-01-05T00:00:00Z",
        )
    }
    writes = [a for a, row in MATRIX.items() if row[2] == 403 and a in _CARE_WRITES]
    for role in ("viewer", "outsider"):
        for action in writes:
            assert _act(action, world[role], world).status_code in (403, 404)
    assert {path: owner.get(path).json() for path in before} == before


_CARE_WRITES = {
    "record vaccination",
    "edit vaccination",
    "delete vaccination",
    "add medical record",
    "edit medical record",
    "delete medical record",
    "add care schedule",
    "edit care schedule",
    "delete care schedule",
    "complete care task",
}
