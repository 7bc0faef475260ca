"""Families, members, roles and invitations, as the domain page's matrix says."""

from __future__ import annotations

import uuid

from .problems import assert_problem


def _invite(owner, family_id, email, role="member"):
    response = owner.post(f"/v1/families/{family_id}/invitations", json={"email": email, "role": role})
    assert response.status_code == 201, response.text
    return response.json()


def _join(owner, invitee, family_id, role="member"):
    token = _invite(owner, family_id, invitee.email, role)["token"]
    response = invitee.post(f"/v1/invitations/{token}/accept")
    assert response.status_code == 200, response.text
    return response.json()


def test_registering_creates_a_personal_family_owned_by_the_user(alice):
    page = alice.get("/v1/families").json()
    assert page["next_cursor"] is None
    [family] = page["items"]
    assert family["role"] == "owner" and family["member_count"] == 1
    assert set(family) == {"id", "name", "role", "member_count", "created_at"}


def test_family_crud(alice):
    created = alice.post("/v1/families", json={"name": "Beach house"})
    assert created.status_code == 201
    family = created.json()
    assert created.headers["location"] == f"/v1/families/{family['id']}"
    assert created.headers["etag"] == '"1"'
    got = alice.get(f"/v1/families/{family['id']}")
    assert got.json() == family and got.headers["etag"] == '"1"'
    renamed = alice.patch(
        f"/v1/families/{family['id']}", json={"name": "Lake house"}, headers={"If-Match": '"1"'}
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Lake house"
    assert renamed.headers["etag"] == '"2"'
    assert_problem(
        alice.patch(f"/v1/families/{family['id']}", json={"name": "Nope"}, headers={"If-Match": '"1"'}),
        412,
        "precondition_failed",
    )
    assert alice.delete(f"/v1/families/{family['id']}").status_code == 204
    assert_problem(alice.get(f"/v1/families/{family['id']}"), 404, "not_found")


def test_families_list_pages_with_an_opaque_cursor(alice):
    for n in range(4):
        alice.post("/v1/families", json={"name": f"F{n}"})
    first = alice.get("/v1/families?limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = alice.get(f"/v1/families?limit=2&cursor={first['next_cursor']}").json()
    third = alice.get(f"/v1/families?limit=2&cursor={second['next_cursor']}").json()
    assert len(second["items"]) == 2 and len(third["items"]) == 1 and third["next_cursor"] is None
    ids = [f["id"] for page in (first, second, third) for f in page["items"]]
    assert len(set(ids)) == 5
    trimmed = alice.get("/v1/families?fields=id,name").json()["items"]
    assert all(set(f) == {"id", "name"} for f in trimmed)


def test_another_familys_resources_are_404_not_403(alice, bob):
    family_id = bob.personal_family()
    assert_problem(alice.get(f"/v1/families/{family_id}"), 404, "not_found")
    assert_problem(alice.get(f"/v1/families/{family_id}/members"), 404, "not_found")
    assert_problem(alice.patch(f"/v1/families/{family_id}", json={"name": "Mine"}), 404, "not_found")
    assert_problem(alice.delete(f"/v1/families/{family_id}"), 404, "not_found")
    assert_problem(
        alice.post(f"/v1/families/{family_id}/invitations", json={"email": "x@example.com"}), 404, "not_found"
    )
    assert_problem(alice.get(f"/v1/families/{uuid.uuid4()}"), 404, "not_found")


def test_invite_preview_and_accept(alice, bob):
    family_id = alice.personal_family()
    invitation = _invite(alice, family_id, bob.email, "viewer")
    assert set(invitation) == {"id", "token", "expires_at", "email", "role"}
    preview = bob.client.get(f"/v1/invitations/{invitation['token']}")  # public: no token needed
    assert preview.status_code == 200
    body = preview.json()
    assert body["status"] == "pending" and body["role"] == "viewer" and body["inviter_name"] == "Alice"
    assert set(body) == {"id", "family_name", "inviter_name", "email", "role", "status", "expires_at"}

    joined = bob.post(f"/v1/invitations/{invitation['token']}/accept")
    assert (
        joined.status_code == 200 and joined.json()["role"] == "viewer" and joined.json()["member_count"] == 2
    )
    assert bob.client.get(f"/v1/invitations/{invitation['token']}").json()["status"] == "accepted"
    assert_problem(bob.post(f"/v1/invitations/{invitation['token']}/accept"), 409, "conflict")

    members = alice.get(f"/v1/families/{family_id}/members").json()["items"]
    assert [(m["display_name"], m["role"]) for m in members] == [("Alice", "owner"), ("Bob", "viewer")]
    assert set(members[0]) == {"user_id", "display_name", "email", "role", "joined_at"}


def test_accepting_needs_the_invited_email_and_a_sign_in(api, alice, bob, new_account):
    family_id = alice.personal_family()
    token = _invite(alice, family_id, bob.email)["token"]
    carol = new_account("Carol")
    assert_problem(carol.post(f"/v1/invitations/{token}/accept"), 403, "forbidden")
    assert_problem(api.post(f"/v1/invitations/{token}/accept"), 401, "unauthorized")
    assert_problem(api.get("/v1/invitations/not-a-real-token"), 404, "not_found")


def test_revoked_invitations_cannot_be_accepted(alice, bob):
    family_id = alice.personal_family()
    invitation = _invite(alice, family_id, bob.email)
    assert alice.delete(f"/v1/families/{family_id}/invitations/{invitation['id']}").status_code == 204
    assert_problem(bob.post(f"/v1/invitations/{invitation['token']}/accept"), 409, "conflict")
    assert_problem(alice.delete(f"/v1/families/{family_id}/invitations/{uuid.uuid4()}"), 404, "not_found")


def test_owners_cannot_be_invited_directly(alice):
    family_id = alice.personal_family()
    response = alice.post(
        f"/v1/families/{family_id}/invitations", json={"email": "o@example.com", "role": "owner"}
    )
    assert_problem(response, 422, "validation_error", "role")


def test_free_families_hold_two_members(alice, bob, new_account):
    family_id = alice.personal_family()
    _join(alice, bob, family_id)
    response = alice.post(f"/v1/families/{family_id}/invitations", json={"email": "third@example.com"})
    assert_problem(response, 403, "tier_limit_exceeded")


def test_roles_change_and_the_last_owner_is_protected(alice, bob):
    family_id = alice.personal_family()
    _join(alice, bob, family_id)
    members = f"/v1/families/{family_id}/members"
    assert_problem(alice.patch(f"{members}/{alice.id}", json={"role": "member"}), 409, "conflict")
    assert_problem(alice.delete(f"{members}/{alice.id}"), 409, "conflict")
    assert_problem(bob.patch(f"{members}/{alice.id}", json={"role": "viewer"}), 403, "forbidden")
    assert_problem(alice.patch(f"{members}/{bob.id}", json={"role": "boss"}), 422, "validation_error", "role")

    promoted = alice.patch(f"{members}/{bob.id}", json={"role": "owner"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "owner"
    # With two owners, alice may step down and then leave.
    assert alice.patch(f"{members}/{alice.id}", json={"role": "member"}).json()["role"] == "member"
    assert alice.delete(f"{members}/{alice.id}").status_code == 204
    assert_problem(alice.get(f"/v1/families/{family_id}"), 404, "not_found")
    assert_problem(bob.delete(f"{members}/{bob.id}"), 409, "conflict")


def test_owners_remove_members_and_members_cannot(alice, bob):
    family_id = alice.personal_family()
    _join(alice, bob, family_id)
    members = f"/v1/families/{family_id}/members"
    assert_problem(bob.delete(f"{members}/{alice.id}"), 403, "forbidden")
    assert_problem(bob.patch(f"/v1/families/{family_id}", json={"name": "Mine"}), 403, "forbidden")
    assert_problem(bob.delete(f"/v1/families/{family_id}"), 403, "forbidden")
    assert alice.delete(f"{members}/{bob.id}").status_code == 204
    assert [m["user_id"] for m in alice.get(members).json()["items"]] == [alice.id]
    assert_problem(alice.delete(f"{members}/{bob.id}"), 404, "not_found")


def test_members_page_with_a_cursor(alice, bob):
    family_id = alice.personal_family()
    _join(alice, bob, family_id)
    first = alice.get(f"/v1/families/{family_id}/members?limit=1").json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = alice.get(f"/v1/families/{family_id}/members?limit=1&cursor={first['next_cursor']}").json()
    assert [m["user_id"] for m in second["items"]] == [bob.id] and second["next_cursor"] is None
