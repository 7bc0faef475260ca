"""Operations endpoints: liveness, readiness, metrics, the schema switch, and the ASGI factory."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from entrypoints.bootstrap import build, migrate
from entrypoints.http.app import create_app
from tests.fixtures.http import http_settings

from .problems import assert_problem


def test_health_is_always_ok(api):
    response = api.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "ratelimit-limit" not in response.headers


def test_ready_is_200_when_every_backing_service_answers(tmp_path: Path):
    settings = http_settings(tmp_path, database_url=f"sqlite:///{tmp_path}/ready.db")
    migrate(settings)
    container = build(settings)
    with TestClient(create_app(container)) as client:
        response = client.get("/ready")
        assert response.status_code == 200, response.text
        assert response.json() == {
            "status": "ok",
            "checks": {"database": "ok", "cache": "ok", "broker": "ok", "files": "ok"},
        }
    container.close()


def test_ready_is_200_on_the_in_memory_store(api):
    # Regression: the memory store had no ping(), so /ready was always 503 on memory://.
    response = api.get("/ready")
    assert response.status_code == 200, response.text


def test_ready_is_503_with_the_failing_check(api, http_container):
    from adapters.sql import Database

    # A real PostgreSQL URL where nothing listens: the database is down.
    http_container.database = Database("postgresql://nobody@127.0.0.1:9/none")
    response = api.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("error")


def test_metrics_count_requests_by_route_template_and_status(api, alice):
    alice.get("/v1/me")
    alice.get("/v1/pets/not-a-uuid")
    api.get("/v1/nothing")
    response = api.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = [
        s
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
        if s.name == "http_requests_total"
    ]
    seen = {(s.labels["method"], s.labels["route"], s.labels["status"]) for s in samples}
    assert ("GET", "/v1/me", "200") in seen
    assert ("GET", "/v1/pets/{pet_id}", "422") in seen
    assert ("GET", "unmatched", "404") in seen
    assert ("POST", "/v1/auth/register", "201") in seen
    assert "http_request_duration_seconds_bucket" in response.text


def test_each_app_owns_its_metrics(tmp_path: Path, api, alice):
    alice.get("/v1/me")
    container = build(http_settings(tmp_path))
    with TestClient(create_app(container)) as other:
        assert 'route="/v1/me"' not in other.get("/metrics").text
    container.close()


def test_the_schema_can_be_switched_off(tmp_path: Path):
    container = build(http_settings(tmp_path, schema_enabled=False))
    with TestClient(create_app(container)) as client:
        assert_problem(client.get("/schema/openapi.json"), 404, "not_found")
    container.close()


def test_the_asgi_factory_builds_from_the_environment_and_closes_on_shutdown(tmp_path: Path, monkeypatch):
    from entrypoints.http import asgi

    monkeypatch.setenv("TAILTRACKER_DATABASE_URL", "memory://")
    monkeypatch.setenv("TAILTRACKER_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TAILTRACKER_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("TAILTRACKER_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("TAILTRACKER_EMAIL_URL", f"file://{tmp_path}/outbox")
    app = asgi.create()
    with TestClient(app) as client:  # startup starts the embedded worker (stub:// broker)
        assert client.get("/health").status_code == 200
        response = client.post(
            "/v1/auth/register",
            json={"email": "f@example.com", "password": "correct horse battery", "display_name": "F"},
        )
        assert response.status_code == 201


def test_metrics_content_type_names_its_charset_once(api):
    # Regression: Litestar added a second "; charset=utf-8" to prometheus' content type.
    content_type = api.get("/metrics").headers["content-type"]
    assert content_type.count("charset") == 1
    assert content_type.startswith("text/plain; version=")
