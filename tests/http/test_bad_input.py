"""Bad input of every kind is a 4xx problem naming what is wrong, never a 500."""

from __future__ import annotations

import pytest

from .problems import assert_problem

FAMILY = "00000000-0000-7000-8000-000000000000"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"family_id": FAMILY, "name": 1, "species": "dog"}, "name"),
        ({"family_id": FAMILY, "name": "A", "species": "dragon"}, "species"),
        ({"family_id": FAMILY, "name": "A", "species": "dog", "sex": "both"}, "sex"),
        ({"family_id": FAMILY, "name": "A", "species": "dog", "size": 3}, "size"),
        ({"family_id": FAMILY, "name": "A", "species": "dog", "colors": "brown"}, "colors"),
        ({"family_id": FAMILY, "name": "A", "species": "dog", "colors": ["x"] * 11}, "colors"),
        ({"family_id": FAMILY, "name": "A", "species": "dog", "weight_kg": -2}, "weight_kg"),
        ({"family_id": FAMILY, "name": "A", "species": "dog", "weight_kg": "heavy"}, "weight_kg"),
        ({"family_id": FAMILY, "name": "A", "species": "dog", "birth_date": "yesterday"}, "birth_date"),
        ({"family_id": FAMILY, "name": "A", "species": "dog", "neutered": "maybe"}, "neutered"),
        ({"family_id": FAMILY, "name": "", "species": "dog"}, "name"),
        ({"family_id": FAMILY, "name": "x" * 101, "species": "dog"}, "name"),
        ({"family_id": "not-a-uuid", "name": "A", "species": "dog"}, "family_id"),
        ({"name": "A", "species": "dog"}, "family_id"),
        ({"family_id": FAMILY, "species": "dog"}, "name"),
        ({"family_id": FAMILY, "name": "A", "species": "dog", "owner": "me"}, "owner"),
    ],
)
def test_pet_bodies_with_wrong_missing_or_unknown_fields_are_422(alice, body, field):
    assert_problem(alice.post("/v1/pets", json=body), 422, "validation_error", field)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/pets/not-a-uuid", "pet_id"),
        ("/v1/pets/1234", "pet_id"),
        ("/v1/families/zzz", "family_id"),
        (f"/v1/families/{FAMILY}/members?limit=x", "limit"),
        ("/v1/pets?family_id=nope", "family_id"),
        ("/v1/pets?species=dragon", "species"),
        ("/v1/pets?limit=0", "limit"),
        ("/v1/pets?limit=101", "limit"),
        ("/v1/pets?limit=ten", "limit"),
        ("/v1/pets?cursor=!!!", "cursor"),
        ("/v1/pets?cursor=AAAA", "cursor"),
        ("/v1/families?cursor=" + "A" * 22 + "x", "cursor"),
        ("/v1/me/consents/history?cursor=abc", "cursor"),
        ("/v1/pets?fields=name,secret", "fields"),
        ("/v1/pets?fields=,", "fields"),
        ("/v1/families?fields=owner", "fields"),
    ],
)
def test_bad_paths_and_queries_are_422_naming_the_parameter(alice, url, field):
    assert_problem(alice.get(url), 422, "validation_error", field)


def test_malformed_json_is_400(alice):
    response = alice.post("/v1/families", content=b'{"name": ', headers={"content-type": "application/json"})
    assert_problem(response, 400, "bad_request")


def test_a_body_that_is_not_an_object_is_422(alice):
    response = alice.post("/v1/families", json=["a list"])
    assert_problem(response, 422, "validation_error")


def test_another_media_type_is_415(alice):
    response = alice.post("/v1/families", content=b"name=x", headers={"content-type": "text/plain"})
    assert_problem(response, 415, "unsupported_media_type")


def test_an_oversized_body_is_413(alice, http_container):
    limit = http_container.settings.max_body_bytes
    body = b'{"name": "' + b"x" * limit + b'"}'
    response = alice.post("/v1/families", content=body, headers={"content-type": "application/json"})
    assert_problem(response, 413, "payload_too_large")


def test_unknown_routes_and_methods_are_problems(api, alice):
    assert_problem(api.get("/v1/nothing-here"), 404, "not_found")
    assert_problem(api.get("/nothing"), 404, "not_found")
    assert_problem(alice.request("PUT", "/v1/pets"), 405, "method_not_allowed")


def test_an_unexpected_error_is_a_generic_500_logged_not_sent(alice, monkeypatch, caplog):
    from adapters.memory.uow import MemoryUnitOfWork

    def broken(self):  # the database adapter fails in a way nobody planned for
        raise RuntimeError("secret internals")

    monkeypatch.setattr(MemoryUnitOfWork, "__enter__", broken)
    response = alice.get("/v1/pets")
    body = assert_problem(response, 500, "internal_error")
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert body["detail"] == "something went wrong on our side; it has been logged"
    assert any("secret internals" in (r.exc_text or "") or r.exc_info for r in caplog.records)
