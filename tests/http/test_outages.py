"""A backing service that is down answers 503 problem+json with Retry-After: never a bare 500,
never a traceback. Real unreachable addresses stand for the outage (nothing listens on port 9)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from entrypoints.bootstrap import build
from entrypoints.http.app import create_app
from tests.fixtures.http import http_settings


def _client(tmp_path: Path, **overrides: str) -> Iterator[TestClient]:
    container = build(http_settings(tmp_path, **overrides))
    try:
        with TestClient(create_app(container), raise_server_exceptions=False) as client:
            yield client
    finally:
        container.close()


@pytest.fixture
def redis_down(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path, cache_url="redis://127.0.0.1:9/0")


@pytest.fixture
def database_down(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(tmp_path, database_url="postgresql://nobody@127.0.0.1:9/none")


def _assert_unavailable(response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "service_unavailable"
    assert int(response.headers["retry-after"]) > 0
    assert "Traceback" not in response.text


def test_session_store_down_is_503(redis_down):
    _assert_unavailable(redis_down.get("/v1/me", headers={"Authorization": "Bearer a.b.c"}))
    _assert_unavailable(
        redis_down.post(
            "/v1/auth/register",
            json={"email": "a@example.org", "password": "a long enough secret", "display_name": "A"},
        )
    )


def test_database_down_is_503(database_down):
    _assert_unavailable(
        database_down.post(
            "/v1/auth/register",
            json={"email": "a@example.org", "password": "a long enough secret", "display_name": "A"},
        )
    )
    _assert_unavailable(
        database_down.post("/v1/auth/login", json={"email": "a@example.org", "password": "whatever it is"})
    )


def test_ready_names_the_part_that_is_down(redis_down):
    response = redis_down.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("error")


def test_the_async_reads_with_the_database_down_are_503(tmp_path: Path) -> None:
    """The read side (asyncpg) fails as the unit of work does: 503, not 500. A signed-in
    caller, so the request gets past the gate to the pet read and the care tasks."""
    from uuid import uuid4

    from tailtracker_core.model.tiers import Tier
    from tailtracker_core.ports import SessionRecord

    container = build(http_settings(tmp_path, database_url="postgresql://nobody@127.0.0.1:9/none"))
    try:
        now = container.deps.clock.now()
        user, session = uuid4(), uuid4()
        container.sessions.create(SessionRecord(session, user, uuid4(), now), 3600)
        token = container.deps.signer.issue_access(user, session, Tier.FREE, now)
        with TestClient(create_app(container), raise_server_exceptions=False) as client:
            for path in (f"/v1/pets/{uuid4()}", f"/v1/pets/{uuid4()}/care-tasks"):
                _assert_unavailable(client.get(path, headers={"Authorization": f"Bearer {token}"}))
    finally:
        container.close()
