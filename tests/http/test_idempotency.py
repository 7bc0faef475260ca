"""Idempotency-Key on creating POSTs: replay, reuse with another body, races, durability."""

from __future__ import annotations

import threading
from pathlib import Path

from litestar.testing import TestClient

from entrypoints.bootstrap import build, migrate
from entrypoints.http.app import create_app
from tests.fixtures.http import http_settings, roomy_limits, sign_up

from .problems import assert_problem


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(alice):
    headers = {"Idempotency-Key": "create-family-1"}
    first = alice.post("/v1/families", json={"name": "Cabin"}, headers=headers)
    again = alice.post("/v1/families", json={"name": "Cabin"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["etag"] == first.headers["etag"]
    assert len(alice.get("/v1/families").json()["items"]) == 2  # personal + one cabin


def test_key_order_and_whitespace_do_not_make_another_body(alice):
    family_id = alice.personal_family()
    headers = {"Idempotency-Key": "pet-1", "content-type": "application/json"}
    first = alice.post(
        "/v1/pets", content=f'{{"family_id": "{family_id}", "name": "A", "species": "dog"}}', headers=headers
    )
    again = alice.post(
        "/v1/pets", content=f'{{"species":"dog","name":"A","family_id":"{family_id}"}}', headers=headers
    )
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]


def test_the_same_key_with_another_body_is_409(alice):
    headers = {"Idempotency-Key": "k"}
    alice.post("/v1/families", json={"name": "One"}, headers=headers)
    response = alice.post("/v1/families", json={"name": "Two"}, headers=headers)
    assert_problem(response, 409, "idempotency_key_reused")


def test_keys_are_scoped_by_user(alice, bob):
    headers = {"Idempotency-Key": "shared"}
    a = alice.post("/v1/families", json={"name": "Same"}, headers=headers)
    b = bob.post("/v1/families", json={"name": "Same"}, headers=headers)
    assert a.json()["id"] != b.json()["id"] and "idempotent-replayed" not in b.headers


def test_twin_requests_racing_with_one_key_create_one_family(alice):
    headers = {"Idempotency-Key": "race"}
    answers: list[int] = []

    def send() -> None:
        answers.append(alice.post("/v1/families", json={"name": "Twins"}, headers=headers).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(answers) <= {201, 409}
    names = [f["name"] for f in alice.get("/v1/families").json()["items"]]
    assert names.count("Twins") == 1


def test_the_answer_survives_a_restart_and_an_empty_cache(tmp_path: Path):
    """The record is in the database, committed with the family: a new process (new container,
    new in-process cache) over the same SQLite file still replays it."""
    settings = http_settings(tmp_path, database_url=f"sqlite:///{tmp_path}/db.sqlite")
    migrate(settings)
    headers = {"Idempotency-Key": "durable"}
    first_container = build(settings, core=roomy_limits())
    with TestClient(create_app(first_container)) as client:
        account = sign_up(client)
        first = account.post("/v1/families", json={"name": "Kept"}, headers=headers)
    first_container.close()
    second_container = build(settings, core=roomy_limits())
    with TestClient(create_app(second_container)) as client:
        # In-process sessions went with the first process: sign in again, as a client would.
        login = client.post("/v1/auth/login", json={"email": account.email, "password": account.password})
        account.client, account.access_token = client, login.json()["access_token"]
        again = account.post("/v1/families", json={"name": "Kept"}, headers=headers)
        names = [f["name"] for f in account.get("/v1/families").json()["items"]]
    second_container.close()
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert names.count("Kept") == 1


def test_a_failed_first_attempt_frees_the_key(alice):
    family_id = alice.personal_family()
    for n in range(2):
        alice.post("/v1/pets", json={"family_id": family_id, "name": f"P{n}", "species": "dog"})
    headers = {"Idempotency-Key": "third"}
    body = {"family_id": family_id, "name": "P3", "species": "dog"}
    assert_problem(alice.post("/v1/pets", json=body, headers=headers), 403, "tier_limit_exceeded")
    assert_problem(alice.post("/v1/pets", json=body, headers=headers), 403, "tier_limit_exceeded")


def test_invitations_are_idempotent_too(alice):
    family_id = alice.personal_family()
    headers = {"Idempotency-Key": "invite-1"}
    body = {"email": "friend@example.com", "role": "viewer"}
    first = alice.post(f"/v1/families/{family_id}/invitations", json=body, headers=headers)
    again = alice.post(f"/v1/families/{family_id}/invitations", json=body, headers=headers)
    assert again.json()["token"] == first.json()["token"] and again.headers["idempotent-replayed"] == "true"


def test_a_bad_key_is_422(alice):
    response = alice.post("/v1/families", json={"name": "X"}, headers={"Idempotency-Key": "k" * 300})
    assert_problem(response, 422, "validation_error", "Idempotency-Key")
