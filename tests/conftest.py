"""Shared test set-up: where the real services are, and what happens when one is missing.

Tests that need PostgreSQL, Redis or RabbitMQ ask for the fixtures below. On a developer's
machine a missing service skips them with the reason; with CI=true a missing service fails
the run, because CI must exercise them.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

pytest_plugins = [
    "tests.fixtures.sql",
    "tests.fixtures.kv",
    "tests.fixtures.messaging",
    "tests.fixtures.http",
    "tests.fixtures.storage",
]

IN_CI = os.environ.get("CI", "").lower() == "true"

POSTGRES_URL = os.environ.get(
    "TAILTRACKER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TAILTRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
AMQP_URL = os.environ.get("TAILTRACKER_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def require_service(name: str, url: str, default_port: int) -> str:
    if _reachable(url, default_port):
        return url
    message = f"{name} is not reachable at {url}"
    if IN_CI:
        pytest.fail(f"{message}; CI must run the {name} tests", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """A superuser URL of a PostgreSQL server (used to create test databases and roles)."""
    return require_service("PostgreSQL", POSTGRES_URL, 5432)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return require_service("Redis", REDIS_URL, 6379)


@pytest.fixture(scope="session")
def amqp_url() -> str:
    return require_service("RabbitMQ", AMQP_URL, 5672)
