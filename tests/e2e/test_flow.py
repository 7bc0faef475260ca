"""One family's life over real HTTP, on each back end (see conftest.py).

The test reads as the story a product owner would tell: people sign up, share a family,
change roles, keep pets within the free tier, keep strangers out, leave, and sign out. Each
step asserts the contract of docs/openapi.json and the rules of the domain (roles matrix,
free tier: 2 pets and 2 members per family, 404 rather than 403 outside one's families).
"""

from __future__ import annotations

import email
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import icalendar
import pytest

from tests.e2e.conftest import LiveServer
from tests.fixtures import files as samples

PASSWORD = "correct horse battery staple 42"
OUTBOX_TIMEOUT_S = 10.0


def _unique_email(who: str) -> str:
    return f"{who}-{uuid.uuid4().hex[:10]}@e2e.tailtracker.test"


def _expect(response: httpx.Response, status: int, code: str | None = None) -> Any:
    """The JSON body of a response with that status (and problem code), else a clear failure."""
    request = response.request
    assert response.status_code == status, (
        f"{request.method} {request.url} answered {response.status_code}, expected {status}: {response.text}"
    )
    if code is not None:
        assert response.headers["content-type"].startswith("application/problem+json"), response.headers
        body = response.json()
        assert body["code"] == code, body
        assert body["status"] == status, body
        return body
    if status in (204, 304) or not response.content:
        return None
    return response.json()


class Person:
    """One signed-in user of the API, with their own tokens."""

    def __init__(self, base_url: str, name: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=15.0)
        self.name = name
        self.email = _unique_email(name.lower())
        self.user_id = ""
        self.access_token = ""
        self.refresh_token = ""

    def register(self) -> dict[str, Any]:
        body = _expect(
            self.http.post(
                "/v1/auth/register",
                json={
                    "email": self.email,
                    "password": PASSWORD,
                    "display_name": self.name,
                    "locale": "en-GB",
                    "timezone": "Europe/London",
                },
            ),
            201,
        )
        self._signed_in(body)
        return body

    def login(self) -> dict[str, Any]:
        body = _expect(
            self.http.post("/v1/auth/login", json={"email": self.email, "password": PASSWORD}), 200
        )
        self._signed_in(body)
        return body

    def _signed_in(self, body: dict[str, Any]) -> None:
        assert {"user", "access_token", "refresh_token", "expires_in"} <= body.keys(), body
        assert body["user"]["email"] == self.email
        assert body["expires_in"] > 0
        self.user_id = body["user"]["id"]
        self.access_token, self.refresh_token = body["access_token"], body["refresh_token"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, headers=self.auth, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, headers=self.auth, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.patch(path, headers=self.auth, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.delete(path, headers=self.auth, **kwargs)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def people(live_server: LiveServer) -> Any:
    made: list[Person] = []

    def make(name: str) -> Person:
        person = Person(live_server.base_url, name)
        made.append(person)
        return person

    yield make
    for person in made:
        person.close()


def _outbox_message_to(outbox: Path, recipient: str, timeout: float = OUTBOX_TIMEOUT_S) -> EmailMessage:
    """Wait for the embedded worker to write an email to `recipient` into the outbox."""
    deadline = time.monotonic() + timeout
    while True:
        for path in sorted(outbox.glob("*.eml")) if outbox.is_dir() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            if recipient.lower() in str(message["To"]).lower():
                return message
        if time.monotonic() > deadline:
            found = sorted(p.name for p in outbox.glob("*.eml")) if outbox.is_dir() else "no outbox directory"
            pytest.fail(f"no email to {recipient} in {outbox} after {timeout:.0f} s (found: {found})")
        time.sleep(0.2)


def _member_roles(owner: Person, family_id: str) -> dict[str, str]:
    page = _expect(owner.get(f"/v1/families/{family_id}/members"), 200)
    return {m["user_id"]: m["role"] for m in page["items"]}


def test_a_family_shares_pets_within_the_rules(live_server: LiveServer, people: Any) -> None:
    alice, bob, carol = people("Alice"), people("Bob"), people("Carol")

    # Sign up (the personal family comes with it) and sign in again.
    registered = alice.register()
    assert registered["token_type"].lower() == "bearer"
    alice.login()
    me = _expect(alice.get("/v1/me"), 200)
    assert me["id"] == alice.user_id and me["email"] == alice.email
    personal = _expect(alice.get("/v1/families"), 200)["items"]
    assert [f["role"] for f in personal] == ["owner"]

    # A second family, shared with Bob.
    family = _expect(alice.post("/v1/families", json={"name": "The Flow Family"}), 201)
    family_id = family["id"]
    assert family["name"] == "The Flow Family" and family["role"] == "owner" and family["member_count"] == 1
    bob.register()
    invitation = _expect(
        alice.post(f"/v1/families/{family_id}/invitations", json={"email": bob.email, "role": "member"}), 201
    )
    assert invitation["email"] == bob.email and invitation["role"] == "member"
    token = invitation["token"]

    # Anyone holding the token sees what it offers, without signing in.
    preview = _expect(httpx.get(f"{live_server.base_url}/v1/invitations/{token}", timeout=15.0), 200)
    assert preview["id"] == invitation["id"]
    assert preview["family_name"] == "The Flow Family"
    assert preview["inviter_name"] == "Alice"
    assert preview["email"] == bob.email and preview["role"] == "member" and preview["status"] == "pending"
    assert "token" not in preview

    # The invitation email went out through the outbox, the relay and the embedded worker.
    message = _outbox_message_to(live_server.outbox, bob.email)
    assert "The Flow Family" in str(message["Subject"]) + message.get_body(("plain",)).get_content()
    assert token in message.get_body(("plain",)).get_content()

    # Someone else cannot use Bob's invitation; Bob can, once.
    carol.register()
    _expect(carol.post(f"/v1/invitations/{token}/accept"), 403)
    _expect(bob.post(f"/v1/invitations/{token}/accept"), 200)
    _expect(bob.post(f"/v1/invitations/{token}/accept"), 409, "conflict")
    assert _member_roles(alice, family_id) == {alice.user_id: "owner", bob.user_id: "member"}
    assert _expect(bob.get(f"/v1/families/{family_id}"), 200)["role"] == "member"

    # Free tier: two members, owner included.
    _expect(
        alice.post(f"/v1/families/{family_id}/invitations", json={"email": carol.email, "role": "viewer"}),
        403,
        "tier_limit_exceeded",
    )

    # Roles: member -> viewer -> member. A viewer reads but cannot edit.
    member_path = f"/v1/families/{family_id}/members/{bob.user_id}"
    _expect(bob.patch(member_path, json={"role": "viewer"}), 403)  # only owners change roles
    assert _expect(alice.patch(member_path, json={"role": "viewer"}), 200)["role"] == "viewer"
    _expect(bob.get(f"/v1/families/{family_id}"), 200)
    _expect(bob.post("/v1/pets", json={"family_id": family_id, "name": "Nope", "species": "cat"}), 403)
    _expect(bob.patch(f"/v1/families/{family_id}", json={"name": "Bob's now"}), 403)
    assert _expect(alice.patch(member_path, json={"role": "member"}), 200)["role"] == "member"

    # Pets: a member creates and edits, the list shows them, the free tier stops at two.
    rex = _expect(
        bob.post(
            "/v1/pets",
            json={
                "family_id": family_id,
                "name": "Rex",
                "species": "dog",
                "sex": "male",
                "breed": "Labrador",
                "birth_date": "2021-05-04",
                "colors": ["yellow"],
                "size": "large",
                "weight_kg": 31.5,
                "microchip": "985 141 000 123 456",
                "neutered": True,
            },
        ),
        201,
    )
    assert rex["family_id"] == family_id and rex["name"] == "Rex" and rex["species"] == "dog"
    assert rex["colors"] == ["yellow"] and rex["size"] == "large"
    miso = _expect(
        alice.post(
            "/v1/pets", json={"family_id": family_id, "name": "Miso", "species": "cat", "sex": "female"}
        ),
        201,
    )
    third = {"family_id": family_id, "name": "Third", "species": "rabbit"}
    _expect(alice.post("/v1/pets", json=third), 403, "tier_limit_exceeded")

    assert _expect(bob.get(f"/v1/pets/{rex['id']}"), 200)["name"] == "Rex"
    renamed = _expect(bob.patch(f"/v1/pets/{rex['id']}", json={"name": "Rex II", "weight_kg": 32.0}), 200)
    assert renamed["name"] == "Rex II" and renamed["weight_kg"] == 32.0 and renamed["breed"] == "Labrador"
    listed = _expect(alice.get("/v1/pets", params={"family_id": family_id}), 200)
    assert sorted(p["name"] for p in listed["items"]) == ["Miso", "Rex II"]
    assert listed["next_cursor"] is None
    dogs = _expect(alice.get("/v1/pets", params={"family_id": family_id, "species": "dog"}), 200)
    assert [p["id"] for p in dogs["items"]] == [rex["id"]]

    # Deleting a pet is for owners; the freed place takes a new pet.
    _expect(bob.delete(f"/v1/pets/{miso['id']}"), 403)
    _expect(alice.delete(f"/v1/pets/{miso['id']}"), 204)
    _expect(alice.get(f"/v1/pets/{miso['id']}"), 404, "not_found")
    hops = _expect(alice.post("/v1/pets", json=third), 201)

    # A stranger learns nothing: not found, not forbidden.
    _expect(carol.get(f"/v1/families/{family_id}"), 404, "not_found")
    _expect(carol.get(f"/v1/families/{family_id}/members"), 404, "not_found")
    _expect(carol.get(f"/v1/pets/{rex['id']}"), 404, "not_found")
    _expect(carol.patch(f"/v1/pets/{rex['id']}", json={"name": "Mine"}), 404, "not_found")
    _expect(carol.delete(f"/v1/pets/{hops['id']}"), 404, "not_found")
    _expect(carol.post("/v1/pets", json={**third, "name": "Sneaky"}), 404, "not_found")
    assert family_id not in {f["id"] for f in _expect(carol.get("/v1/families"), 200)["items"]}

    # An owner removes Bob; he no longer sees the family or its pets.
    _expect(alice.delete(member_path), 204)
    _expect(bob.get(f"/v1/families/{family_id}"), 404, "not_found")
    _expect(bob.get(f"/v1/pets/{rex['id']}"), 404, "not_found")

    # Carol joins as a viewer (there is room again) and leaves on her own.
    again = _expect(
        alice.post(f"/v1/families/{family_id}/invitations", json={"email": carol.email, "role": "viewer"}),
        201,
    )
    _expect(carol.post(f"/v1/invitations/{again['token']}/accept"), 200)
    assert _expect(carol.get(f"/v1/pets/{rex['id']}"), 200)["id"] == rex["id"]
    _expect(carol.delete(f"/v1/families/{family_id}/members/{carol.user_id}"), 204)
    _expect(carol.get(f"/v1/families/{family_id}"), 404, "not_found")
    assert _member_roles(alice, family_id) == {alice.user_id: "owner"}

    # The last owner cannot leave.
    _expect(alice.delete(f"/v1/families/{family_id}/members/{alice.user_id}"), 409, "conflict")
    assert _expect(alice.get(f"/v1/families/{family_id}"), 200)["member_count"] == 1


def test_refresh_tokens_rotate_and_a_reused_one_ends_the_session(people: Any) -> None:
    dora = people("Dora")
    dora.register()
    first_refresh = dora.refresh_token

    rotated = _expect(dora.http.post("/v1/auth/refresh", json={"refresh_token": first_refresh}), 200)
    assert rotated["refresh_token"] != first_refresh
    dora._signed_in(rotated)
    _expect(dora.get("/v1/me"), 200)

    # The old refresh token again: reuse detected, the whole session is revoked.
    _expect(dora.http.post("/v1/auth/refresh", json={"refresh_token": first_refresh}), 401)
    _expect(dora.http.post("/v1/auth/refresh", json={"refresh_token": dora.refresh_token}), 401)
    _expect(dora.get("/v1/me"), 401)

    # A fresh sign-in still works (a revoked session is not a locked account).
    dora.login()
    _expect(dora.get("/v1/me"), 200)


def test_logout_ends_the_session(people: Any) -> None:
    eve = people("Eve")
    eve.register()
    other_device = people("Eve")
    other_device.email = eve.email
    other_device.login()

    _expect(eve.post("/v1/auth/logout"), 204)
    _expect(eve.get("/v1/me"), 401)
    _expect(eve.http.post("/v1/auth/refresh", json={"refresh_token": eve.refresh_token}), 401)
    # Only that session ends: the other device stays signed in.
    _expect(other_device.get("/v1/me"), 200)
    # Without a token there is nothing to log out.
    _expect(eve.http.post("/v1/auth/logout"), 401)


def test_a_create_retried_with_its_idempotency_key_happens_once(people: Any) -> None:
    # Regression: a create sent with an Idempotency-Key used to commit, then answer 500 (the
    # response could not be rendered for the idempotency cache) and 409 to every retry.
    fay = people("Fay")
    fay.register()
    key = {**fay.auth, "Idempotency-Key": f"e2e-{uuid.uuid4()}"}

    first = _expect(fay.http.post("/v1/families", json={"name": "Only once"}, headers=key), 201)
    retried = _expect(fay.http.post("/v1/families", json={"name": "Only once"}, headers=key), 201)
    assert retried == first
    reused = fay.http.post("/v1/families", json={"name": "Something else"}, headers=key)
    _expect(reused, 409)
    assert reused.headers["content-type"].startswith("application/problem+json")
    names = [f["name"] for f in _expect(fay.get("/v1/families"), 200)["items"]]
    assert names.count("Only once") == 1


def test_a_photo_is_uploaded_fetched_and_deleted(live_server: LiveServer, people: Any) -> None:
    """A phone photo with its GPS position goes up; what comes back is upright, without any
    EXIF, with a thumbnail, to the family only; a PDF certificate goes up as a document.
    Deleting the photo and then the pet removes their blobs from the server's store (local
    disk, or S3 on the PostgreSQL back end) through the outbox and the embedded worker."""
    import io

    from PIL import Image

    from adapters.storage import file_store_from_url
    from tailtracker_core.model.files import storage_keys
    from tests.fixtures import files as samples

    store = file_store_from_url(live_server.files_url)

    def blobs_of(pet_id: str, *file_ids: str) -> list[bool]:
        family = uuid.UUID(family_id)
        keys = [k for f in file_ids for k in storage_keys(family, uuid.UUID(pet_id), uuid.UUID(f))]
        return [store.exists(k) for k in keys]

    def wait_until_gone(pet_id: str, *file_ids: str) -> None:
        deadline = time.monotonic() + OUTBOX_TIMEOUT_S
        while any(blobs_of(pet_id, *file_ids)):
            if time.monotonic() > deadline:
                pytest.fail(f"blobs of {file_ids} still stored after {OUTBOX_TIMEOUT_S:.0f} s")
            time.sleep(0.2)

    gus, stranger = people("Gus"), people("Stranger")
    gus.register()
    stranger.register()
    family_id = _expect(gus.get("/v1/families"), 200)["items"][0]["id"]
    pet = _expect(gus.post("/v1/pets", json={"family_id": family_id, "name": "Pixel", "species": "cat"}), 201)

    upload = {"file": ("IMG_2041.JPG", samples.jpeg_with_gps((800, 600)), "image/jpeg")}
    photo = _expect(gus.post(f"/v1/pets/{pet['id']}/photos", files=upload), 201)
    assert (photo["width"], photo["height"]) == (600, 800)

    fetched = gus.get(photo["url"])
    assert fetched.status_code == 200, fetched.text
    assert fetched.headers["content-type"] == "image/jpeg"
    assert fetched.headers["x-content-type-options"] == "nosniff"
    assert fetched.headers["content-disposition"].startswith("inline;")
    image = Image.open(io.BytesIO(fetched.content))
    assert image.size == (600, 800)
    assert not image.getexif() and b"PhoneMaker" not in fetched.content
    thumb = gus.get(photo["thumbnail_url"])
    assert thumb.status_code == 200
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 512
    _expect(stranger.get(photo["url"]), 404, "not_found")
    listed = _expect(gus.get(f"/v1/pets/{pet['id']}/photos"), 200)
    assert [p["id"] for p in listed["items"]] == [photo["id"]]

    certificate = {"file": ("rabies.pdf", samples.pdf(), "application/pdf")}
    document = _expect(gus.post(f"/v1/pets/{pet['id']}/documents", files=certificate), 201)
    assert gus.get(document["url"]).content == samples.pdf()

    bomb = {"file": ("bomb.png", samples.pixel_bomb_png(), "image/png")}
    _expect(gus.post(f"/v1/pets/{pet['id']}/photos", files=bomb), 422, "invalid_file")

    assert blobs_of(pet["id"], photo["id"]) == [True, True]  # the copy and its thumbnail
    assert blobs_of(pet["id"], document["id"]) == [True, False]  # a PDF has no thumbnail

    _expect(gus.delete(photo["url"]), 204)
    _expect(gus.get(photo["url"]), 404, "not_found")
    wait_until_gone(pet["id"], photo["id"])
    assert blobs_of(pet["id"], document["id"])[0]
    _expect(gus.delete(f"/v1/pets/{pet['id']}"), 204)
    _expect(gus.get(document["url"]), 404, "not_found")
    wait_until_gone(pet["id"], document["id"])


def test_a_puppys_health_and_care(people: Any) -> None:
    """Add a pet, record vaccines, see suggestions and statuses, create a medication schedule,
    list the tasks and complete one; a second family member sees it done."""
    gus = people("Gus")
    gus.register()
    family_id = _expect(gus.get("/v1/families"), 200)["items"][0]["id"]
    today = datetime.now(UTC).date()
    born = today - timedelta(weeks=14)
    pup = _expect(
        gus.post(
            "/v1/pets",
            json={"family_id": family_id, "name": "Pip", "species": "dog", "birth_date": born.isoformat()},
        ),
        201,
    )
    care = f"/v1/pets/{pup['id']}"

    # Vaccines as the certificate says: DHPP at 8 and 12 weeks, the second with its next due date.
    first = _expect(
        gus.post(
            f"{care}/vaccinations",
            json={
                "vaccine": "dhpp",
                "administered_on": (born + timedelta(weeks=8)).isoformat(),
                "clinic": "Vet Row",
            },
        ),
        201,
    )
    second = _expect(
        gus.post(
            f"{care}/vaccinations",
            json={
                "vaccine": "DHPP",
                "administered_on": (born + timedelta(weeks=12)).isoformat(),
                "next_due_on": (born + timedelta(weeks=16)).isoformat(),
                "lot_number": "A123",
            },
        ),
        201,
    )
    assert second["status"] == "due_soon"  # due in two weeks
    statuses = {v["id"]: v["status"] for v in _expect(gus.get(f"{care}/vaccinations"), 200)["items"]}
    assert statuses == {first["id"]: "superseded", second["id"]: "due_soon"}

    suggested = _expect(gus.get(f"{care}/vaccinations/suggested"), 200)
    given = {(p["vaccine"], p["slot"]) for p in suggested["plan"] if p["state"] == "given"}
    assert given == {("dhpp", "8 weeks"), ("dhpp", "12 weeks")}
    next_dhpp = next(i for i in suggested["items"] if i["vaccine"] == "dhpp")
    assert (next_dhpp["slot"], next_dhpp["due_on"]) == ("16 weeks", (born + timedelta(weeks=16)).isoformat())
    rabies = next(i for i in suggested["items"] if i["vaccine"] == "rabies")
    assert (rabies["slot"], rabies["status"]) == ("12 weeks", "overdue")
    assert date.fromisoformat(rabies["due_on"]) == born + timedelta(weeks=12)

    # The certificate goes up as a document and is attached to the dose and to a medical record.
    certificate = _expect(
        gus.post(f"{care}/documents", files={"file": ("dhpp.pdf", samples.pdf(), "application/pdf")}), 201
    )
    attached = _expect(
        gus.patch(f"/v1/vaccinations/{second['id']}", json={"certificate_id": certificate["id"]}), 200
    )
    assert attached["certificate_id"] == certificate["id"]
    visit = _expect(
        gus.post(
            f"{care}/medical-records",
            json={
                "kind": "visit",
                "occurred_on": today.isoformat(),
                "title": "Puppy check",
                "vet": "Dr. Vale",
                "file_ids": [certificate["id"]],
            },
        ),
        201,
    )
    assert visit["file_ids"] == [certificate["id"]]

    # A twice-daily medication in the owner's timezone (Europe/London).
    pill = _expect(
        gus.post(
            f"{care}/care-schedules",
            json={
                "kind": "medication",
                "title": "Dewormer",
                "rrule": "FREQ=DAILY;BYHOUR=8,20;COUNT=10",
                "starts_at": f"{today - timedelta(days=1)}T08:00",
            },
        ),
        201,
    )
    assert pill["timezone"] == "Europe/London"
    window = {
        "from": f"{today - timedelta(days=1)}T00:00:00Z",
        "to": f"{today + timedelta(days=1)}T00:00:00Z",
    }
    tasks = _expect(gus.get(f"{care}/care-tasks", params=window), 200)["items"]
    assert [t["occurrence"][11:16] for t in tasks] == ["08:00", "20:00", "08:00", "20:00"]
    assert not any(t["completed"] for t in tasks)

    done = _expect(gus.post(f"/v1/care-tasks/{pill['id']}/{tasks[0]['occurrence']}/complete"), 200)
    assert done["completed"] is True
    assert done["completed_by"] == gus.user_id
    again = _expect(gus.post(f"/v1/care-tasks/{pill['id']}/{tasks[0]['occurrence']}/complete"), 200)
    assert again["completed_at"] == done["completed_at"]
    after = _expect(gus.get(f"{care}/care-tasks", params=window), 200)["items"]
    assert [t["completed"] for t in after] == [True, False, False, False]

    # Bad input is a clear 422, and strangers see nothing.
    _expect(
        gus.get(f"{care}/care-tasks", params={"from": window["to"], "to": window["from"]}),
        422,
        "validation_error",
    )
    _expect(
        gus.post(
            f"{care}/care-schedules",
            json={
                "kind": "feeding",
                "title": "x",
                "rrule": "FREQ=DAILY",
                "starts_at": "2026-01-01T08:00",
                "timezone": "Nowhere/City",
            },
        ),
        422,
        "validation_error",
    )
    stranger = people("Hal")
    stranger.register()
    _expect(stranger.get(f"{care}/vaccinations"), 404, "not_found")
    _expect(stranger.post(f"/v1/care-tasks/{pill['id']}/{tasks[1]['occurrence']}/complete"), 404, "not_found")


def test_a_calendar_app_subscribes_to_a_pets_feed(people: Any) -> None:
    """The owner makes a secret feed URL; a calendar app (no sign-in) fetches it, parses it as
    iCalendar, revalidates it with its ETag, and gets 404 once the owner revokes it."""
    gil = people("Gil")
    gil.register()
    family_id = _expect(gil.get("/v1/families"), 200)["items"][0]["id"]
    pet = _expect(
        gil.post(
            "/v1/pets",
            json={"family_id": family_id, "name": "Biscuit", "species": "dog", "birth_date": "2026-09-01"},
        ),
        201,
    )
    care = f"/v1/pets/{pet['id']}"
    pill = _expect(
        gil.post(
            f"{care}/care-schedules",
            json={
                "kind": "medication",
                "title": "Deworming tablet",
                "rrule": "FREQ=WEEKLY;BYDAY=SU",
                "starts_at": "2026-10-04T09:00",
                "timezone": "Australia/Lord_Howe",
            },
        ),
        201,
    )
    dose = _expect(
        gil.post(
            f"{care}/vaccinations",
            json={"vaccine": "dhpp", "administered_on": "2026-10-27", "next_due_on": "2026-11-24"},
        ),
        201,
    )
    feed = _expect(gil.post(f"/v1/pets/{pet['id']}/calendar-feed"), 201)
    assert feed["url"].startswith(f"{gil.http.base_url}".rstrip("/") + f"/v1/pets/{pet['id']}/calendar.ics?")

    with httpx.Client(timeout=15.0) as calendar_app:  # no Authorization: the URL is the credential
        response = calendar_app.get(feed["url"])
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/calendar; charset=utf-8"
        cal = icalendar.Calendar.from_ical(response.content)
        assert cal["X-WR-CALNAME"] == "Biscuit"
        events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
        weekly = events[f"care-{pill['id']}@tailtracker"]
        assert str(weekly["SUMMARY"]) == "Biscuit: Deworming tablet"
        assert weekly["DTSTART"].params["TZID"] == "Australia/Lord_Howe"
        assert "FREQ=WEEKLY" in weekly["RRULE"].to_ical().decode()
        assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Australia/Lord_Howe"]
        due = events[f"vaccination-{dose['id']}@tailtracker"]
        assert str(due["DTSTART"].to_ical().decode()) == "20261124"
        summaries = [str(e["SUMMARY"]) for e in events.values()]
        assert "Biscuit: Rabies vaccination suggested" in summaries
        unchanged = calendar_app.get(feed["url"], headers={"If-None-Match": response.headers["etag"]})
        assert unchanged.status_code == 304

        _expect(gil.delete(f"/v1/pets/{pet['id']}/calendar-feed"), 204)
        _expect(calendar_app.get(feed["url"]), 404, "not_found")
