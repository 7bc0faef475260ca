"""Pets: CRUD, roles, tier limits, lists with filters, cursors and fields."""

from __future__ import annotations

import uuid

from .problems import assert_problem

PET_FIELDS = {
    "id",
    "family_id",
    "name",
    "species",
    "breed",
    "sex",
    "birth_date",
    "colors",
    "size",
    "weight_kg",
    "microchip",
    "neutered",
    "notes",
    "created_at",
    "updated_at",
}


def _pet(account, family_id, **fields):
    body = {"family_id": family_id, "name": "Biscuit", "species": "dog", **fields}
    response = account.post("/v1/pets", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _join(owner, invitee, family_id, role):
    invitation = owner.post(
        f"/v1/families/{family_id}/invitations", json={"email": invitee.email, "role": role}
    )
    assert invitee.post(f"/v1/invitations/{invitation.json()['token']}/accept").status_code == 200


def test_pet_crud(alice):
    family_id = alice.personal_family()
    created = alice.post(
        "/v1/pets",
        json={
            "family_id": family_id,
            "name": " Biscuit ",
            "species": "dog",
            "sex": "female",
            "breed": "Beagle",
            "birth_date": "2020-05-01",
            "colors": ["Brown", "white"],
            "size": "medium",
            "weight_kg": 12.5,
            "microchip": "985 112 345 678 901",
            "neutered": True,
            "notes": "Loves carrots",
        },
    )
    assert created.status_code == 201, created.text
    pet = created.json()
    assert set(pet) == PET_FIELDS
    assert (
        pet["name"] == "Biscuit"
        and pet["colors"] == ["brown", "white"]
        and pet["microchip"] == "985112345678901"
    )
    assert pet["birth_date"] == "2020-05-01" and pet["created_at"].endswith("Z")
    assert created.headers["location"] == f"/v1/pets/{pet['id']}" and created.headers["etag"] == '"1"'

    got = alice.get(f"/v1/pets/{pet['id']}")
    assert got.json() == pet and got.headers["etag"] == '"1"'
    assert alice.get(f"/v1/pets/{pet['id']}", headers={"If-None-Match": '"1"'}).status_code == 304

    patched = alice.patch(
        f"/v1/pets/{pet['id']}", json={"weight_kg": 13, "notes": None}, headers={"If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["weight_kg"] == 13 and patched.json()["notes"] is None
    assert patched.json()["breed"] == "Beagle" and patched.headers["etag"] == '"2"'
    stale = alice.patch(f"/v1/pets/{pet['id']}", json={"name": "Rex"}, headers={"If-Match": '"1"'})
    assert_problem(stale, 412, "precondition_failed")

    assert alice.delete(f"/v1/pets/{pet['id']}").status_code == 204
    assert_problem(alice.get(f"/v1/pets/{pet['id']}"), 404, "not_found")


def test_a_bad_microchip_names_the_field(alice):
    family_id = alice.personal_family()
    response = alice.post(
        "/v1/pets", json={"family_id": family_id, "name": "A", "species": "cat", "microchip": "12"}
    )
    assert_problem(response, 422, "validation_error", "microchip")
    future = alice.post(
        "/v1/pets", json={"family_id": family_id, "name": "A", "species": "cat", "birth_date": "2999-01-01"}
    )
    assert_problem(future, 422, "validation_error", "birth_date")


def test_another_familys_pet_is_404_not_403(alice, bob):
    pet = _pet(bob, bob.personal_family())
    assert_problem(alice.get(f"/v1/pets/{pet['id']}"), 404, "not_found")
    assert_problem(alice.patch(f"/v1/pets/{pet['id']}", json={"name": "Mine"}), 404, "not_found")
    assert_problem(alice.delete(f"/v1/pets/{pet['id']}"), 404, "not_found")
    assert_problem(alice.get(f"/v1/pets?family_id={bob.personal_family()}"), 404, "not_found")
    assert_problem(
        alice.post("/v1/pets", json={"family_id": bob.personal_family(), "name": "A", "species": "dog"}),
        404,
        "not_found",
    )
    assert alice.get("/v1/pets").json()["items"] == []
    assert_problem(alice.get(f"/v1/pets/{uuid.uuid4()}"), 404, "not_found")


def test_viewers_read_but_cannot_edit_and_members_cannot_delete(alice, bob, new_account):
    family_id = alice.personal_family()
    pet = _pet(alice, family_id)
    _join(alice, bob, family_id, "viewer")
    assert bob.get(f"/v1/pets/{pet['id']}").status_code == 200
    assert_problem(bob.patch(f"/v1/pets/{pet['id']}", json={"name": "Rex"}), 403, "forbidden")
    assert_problem(
        bob.post("/v1/pets", json={"family_id": family_id, "name": "B", "species": "cat"}), 403, "forbidden"
    )
    assert_problem(bob.delete(f"/v1/pets/{pet['id']}"), 403, "forbidden")

    alice.patch(f"/v1/families/{family_id}/members/{bob.id}", json={"role": "member"})
    assert bob.patch(f"/v1/pets/{pet['id']}", json={"name": "Rex"}).status_code == 200
    assert_problem(bob.delete(f"/v1/pets/{pet['id']}"), 403, "forbidden")


def test_the_third_pet_of_a_free_family_is_a_tier_limit(alice):
    family_id = alice.personal_family()
    _pet(alice, family_id, name="One")
    _pet(alice, family_id, name="Two")
    response = alice.post("/v1/pets", json={"family_id": family_id, "name": "Three", "species": "cat"})
    body = assert_problem(response, 403, "tier_limit_exceeded")
    assert "free" in body["detail"]


def test_pet_lists_filter_page_and_trim(alice):
    home = alice.personal_family()
    other = alice.post("/v1/families", json={"name": "Other"}).json()["id"]
    _pet(alice, home, name="Dog A")
    _pet(alice, home, name="Cat A", species="cat")
    _pet(alice, other, name="Dog B")
    everything = alice.get("/v1/pets").json()
    assert [p["name"] for p in everything["items"]] == ["Dog A", "Cat A", "Dog B"]
    assert [p["name"] for p in alice.get(f"/v1/pets?family_id={home}").json()["items"]] == ["Dog A", "Cat A"]
    assert [p["name"] for p in alice.get("/v1/pets?species=dog").json()["items"]] == ["Dog A", "Dog B"]

    first = alice.get("/v1/pets?limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = alice.get(f"/v1/pets?limit=2&cursor={first['next_cursor']}").json()
    assert [p["name"] for p in rest["items"]] == ["Dog B"] and rest["next_cursor"] is None

    trimmed = alice.get("/v1/pets?fields=name,species").json()["items"]
    assert trimmed[0] == {"name": "Dog A", "species": "dog"}
    one = alice.get(f"/v1/pets/{everything['items'][0]['id']}?fields=id,name").json()
    assert set(one) == {"id", "name"}
