"""Register, sign in, token rotation, sign out, and every kind of bad token."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from tailtracker_core.model.tiers import Tier

from .problems import assert_problem as _problem


def test_register_returns_the_user_and_a_bearer_token_pair(api):
    response = api.post(
        "/v1/auth/register",
        json={
            "email": "Ada@Example.com",
            "password": "correct horse battery",
            "display_name": "Ada",
            "locale": "en-GB",
            "timezone": "Europe/London",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["access_token"] and body["refresh_token"]
    user = body["user"]
    assert set(user) == {
        "id",
        "email",
        "display_name",
        "locale",
        "timezone",
        "phone",
        "alert_location",
        "alert_radius_km",
        "created_at",
    }
    assert user["locale"] == "en-GB" and user["timezone"] == "Europe/London"
    assert user["created_at"].endswith("Z")
    assert response.headers["cache-control"] == "no-store"


def test_registering_an_email_twice_is_a_conflict_whatever_its_case(api, alice):
    response = api.post(
        "/v1/auth/register",
        json={"email": alice.email.upper(), "password": "another long password", "display_name": "Again"},
    )
    _problem(response, 409, "conflict")


def test_a_common_password_is_refused_naming_the_field(api):
    response = api.post(
        "/v1/auth/register", json={"email": "c@example.com", "password": "password1234", "display_name": "C"}
    )
    body = _problem(response, 422, "validation_error")
    assert body["errors"][0]["field"] == "password"


def test_login_with_the_right_password_gives_a_new_pair(api, alice):
    response = api.post("/v1/auth/login", json={"email": alice.email, "password": alice.password})
    assert response.status_code == 200
    assert response.json()["user"]["id"] == alice.id


def test_a_wrong_password_is_401_with_a_bearer_challenge(api, alice):
    response = api.post("/v1/auth/login", json={"email": alice.email, "password": "not the password"})
    _problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_repeated_failed_logins_are_throttled_with_retry_after(api, alice):
    for _ in range(10):
        api.post("/v1/auth/login", json={"email": alice.email, "password": "not the password"})
    response = api.post("/v1/auth/login", json={"email": alice.email, "password": "not the password"})
    _problem(response, 429, "rate_limited")
    assert int(response.headers["retry-after"]) >= 1


def test_refresh_rotates_and_reusing_an_old_refresh_token_revokes_the_session(api, alice):
    first = api.post("/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    assert first.status_code == 200
    pair = first.json()
    assert pair["refresh_token"] != alice.refresh_token
    assert api.get("/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"}).status_code == 200

    reused = api.post("/v1/auth/refresh", json={"refresh_token": alice.refresh_token})
    _problem(reused, 401, "unauthorized")
    # The whole session is gone: the newest tokens stop working too.
    _problem(api.post("/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}), 401, "unauthorized")
    _problem(
        api.get("/v1/me", headers={"Authorization": f"Bearer {pair['access_token']}"}), 401, "unauthorized"
    )


def test_logout_revokes_the_session(api, alice):
    assert alice.post("/v1/auth/logout").status_code == 204
    _problem(alice.get("/v1/me"), 401, "unauthorized")
    _problem(api.post("/v1/auth/refresh", json={"refresh_token": alice.refresh_token}), 401, "unauthorized")


def test_a_missing_token_is_401_with_a_bearer_challenge(api):
    response = api.get("/v1/me")
    _problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _tampered(token: str) -> str:
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{payload}.{flipped}"


def _alg_none(token: str) -> str:
    _, payload, _ = token.split(".")
    return f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'local'})}.{payload}."


def _other_claims(token: str) -> str:
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["tier"] = "pro"
    return f"{head}.{_b64(claims)}.{signature}"


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda a, c: "garbage", id="garbage"),
        pytest.param(lambda a, c: "", id="empty"),
        pytest.param(lambda a, c: "a.b.c", id="three-junk-parts"),
        pytest.param(lambda a, c: _tampered(a.access_token), id="tampered-signature"),
        pytest.param(lambda a, c: _alg_none(a.access_token), id="alg-none"),
        pytest.param(lambda a, c: _other_claims(a.access_token), id="edited-claims"),
        pytest.param(lambda a, c: a.refresh_token, id="refresh-as-access"),
        pytest.param(lambda a, c: "x" * 10_000, id="huge"),
        pytest.param(
            lambda a, c: c.deps.signer.issue_access(
                *_ids(a, c), Tier.FREE, datetime.now(UTC) - timedelta(hours=2)
            ),
            id="expired",
        ),
    ],
)
def test_bad_tokens_are_401_problems_never_500(api, alice, http_container, forge):
    token = forge(alice, http_container)
    response = api.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    _problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


def _ids(account, container):
    claims = container.deps.signer.decode_access(account.access_token)
    return claims.user_id, claims.session_id


def test_another_auth_scheme_is_refused(api, alice):
    response = api.get("/v1/me", headers={"Authorization": f"Basic {alice.access_token}"})
    _problem(response, 401, "unauthorized")


def test_a_bad_refresh_token_is_401(api, alice):
    _problem(api.post("/v1/auth/refresh", json={"refresh_token": "junk"}), 401, "unauthorized")
    _problem(api.post("/v1/auth/refresh", json={"refresh_token": alice.access_token}), 401, "unauthorized")
