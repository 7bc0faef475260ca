from __future__ import annotations


def test_a_new_account_sees_its_profile(alice):
    response = alice.get("/v1/me")
    assert response.status_code == 200
    assert response.json()["email"] == alice.email
