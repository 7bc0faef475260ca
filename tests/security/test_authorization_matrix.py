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
}


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
    people = {"owner": owner, "member": member, "viewer": viewer, "outsider": outsider}
    return {**people, "family": family, "pet": pet, "file": photo.json()["id"]}


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
    raise AssertionError(action)


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
