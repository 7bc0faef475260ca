"""Assertion helper shared by the HTTP tests."""

from __future__ import annotations

from typing import Any


def assert_problem(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code (and names `field`)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["status"] == status, body
    assert body["type"].endswith("/" + code) and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
    return body
