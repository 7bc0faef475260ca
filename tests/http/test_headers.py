"""Security headers, cache policy, rate limits and compression on every response."""

from __future__ import annotations

import gzip
from pathlib import Path

import brotli
import pytest
from litestar.testing import TestClient

from entrypoints.bootstrap import build
from entrypoints.http.app import create_app
from tests.fixtures.http import http_settings, sign_up

from .problems import assert_problem

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}


def _client(tmp_path: Path, **settings):
    container = build(http_settings(tmp_path, **settings))
    return TestClient(create_app(container)), container


@pytest.mark.parametrize("path", ["/v1/me", "/v1/nothing", "/health", "/v1/pets/not-a-uuid"])
def test_security_headers_are_on_every_response(api, alice, path):
    response = alice.get(path)
    for name, value in SECURITY.items():
        assert response.headers[name] == value
    assert "strict-transport-security" not in response.headers


def test_hsts_in_production(tmp_path):
    client, container = _client(tmp_path, env="production", jwt_keys="k1:" + "s" * 48)
    with client:
        assert client.get("/health").headers["strict-transport-security"].startswith("max-age=")
    container.close()


def test_the_schema_ui_gets_a_relaxed_csp_and_the_api_does_not(api):
    page = api.get("/schema")
    assert page.status_code == 200
    assert "script-src" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert (
        api.get("/schema/openapi.json").headers["content-security-policy"]
        == SECURITY["content-security-policy"]
    )


def test_auth_responses_are_never_stored(api, alice):
    response = api.post("/v1/auth/login", json={"email": alice.email, "password": alice.password})
    assert response.headers["cache-control"] == "no-store"
    assert alice.get("/v1/families").headers["cache-control"] == "private, no-cache"


@pytest.mark.parametrize("path", ["/v1/me", "/v1/nothing", "/v1/pets?limit=0"])
def test_rate_limit_headers_are_on_every_api_response(alice, path):
    response = alice.get(path)
    for name in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"):
        assert int(response.headers[name]) >= 0


def test_users_are_limited_by_their_tier_and_anonymous_callers_by_address(tmp_path):
    client, container = _client(tmp_path)
    free = container.deps.config.tiers.limits
    with client:
        account = sign_up(client)
        burst = next(iter(free.values())).burst
        statuses = [account.get("/v1/me").status_code for _ in range(burst + 1)]
        assert statuses.count(200) >= burst - 1
        limited = account.get("/v1/me")
        assert_problem(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["ratelimit-remaining"] == "0"
        assert limited.headers["x-content-type-options"] == "nosniff"
        # Another caller has their own bucket; probes are never limited.
        assert sign_up(client).get("/v1/me").status_code == 200
        assert client.get("/health").status_code == 200
    container.close()


def test_rate_limits_can_be_switched_off(tmp_path):
    client, container = _client(tmp_path, rate_limits_enabled=False)
    with client:
        responses = [client.get("/v1/nothing") for _ in range(30)]
        assert all(r.status_code == 404 for r in responses)
        assert "ratelimit-limit" not in responses[0].headers
    container.close()


def _big_list(account):
    family_id = account.personal_family()
    for n in range(2):
        account.post(
            "/v1/pets",
            json={
                "family_id": family_id,
                "name": f"Pet {n}",
                "species": "dog",
                "notes": "A very good dog. " * 30,
            },
        )
    return "/v1/pets"


def test_brotli_when_asked(alice):
    url = _big_list(alice)
    response = alice.get(url, headers={"Accept-Encoding": "br"})
    assert response.headers["content-encoding"] == "br"
    assert response.json()["items"]  # httpx decodes br
    assert "accept-encoding" in response.headers["vary"].lower()


def test_gzip_when_brotli_is_not_accepted(alice):
    url = _big_list(alice)
    response = alice.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["items"]


def test_small_bodies_are_not_compressed(alice):
    response = alice.get("/v1/me?fields=id", headers={"Accept-Encoding": "br, gzip"})
    assert "content-encoding" not in response.headers


def test_compressed_bytes_decode(alice):
    url = _big_list(alice)
    raw = alice.client.get(url, headers={**alice.auth, "Accept-Encoding": "gzip"})
    assert gzip.decompress(gzip.compress(raw.content)) == raw.content
    assert brotli.decompress(brotli.compress(raw.content)) == raw.content
