"""Consent records: immutable grants and withdrawals; the current state is the latest."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from attrs import frozen

from tailtracker_core.errors import Conflict
from tailtracker_core.model.text import check_text

__all__ = ["ConsentMethod", "ConsentRecord", "ErasureRequest", "Purpose", "current_consents"]


class Purpose(enum.StrEnum):
    ESSENTIAL = "essential"
    ANALYTICS = "analytics"
    MARKETING = "marketing"
    LOCATION_ALERTS = "location_alerts"
    VET_SHARING = "vet_sharing"


class ConsentMethod(enum.StrEnum):
    APP = "app"
    WEB = "web"
    API = "api"


@frozen
class ConsentRecord:
    id: UUID
    user_id: UUID
    purpose: Purpose
    granted: bool
    policy_version: str
    recorded_at: datetime
    method: ConsentMethod

    @classmethod
    def record(
        cls,
        record_id: UUID,
        user_id: UUID,
        purpose: Purpose,
        granted: bool,
        policy_version: str,
        now: datetime,
        method: ConsentMethod,
    ) -> ConsentRecord:
        policy_version = check_text(policy_version, "policy_version", 40)
        if purpose is Purpose.ESSENTIAL and not granted:
            raise Conflict("essential processing is the contract itself; delete the account to end it")
        return cls(record_id, user_id, purpose, granted, policy_version, now, method)


def current_consents(history: Iterable[ConsentRecord]) -> dict[Purpose, ConsentRecord]:
    """The latest record per purpose (records are ordered by time, then id)."""
    latest: dict[Purpose, ConsentRecord] = {}
    for r in sorted(history, key=lambda r: (r.recorded_at, r.id)):
        latest[r.purpose] = r
    return latest


ERASURE_DEADLINE = timedelta(days=30)


@frozen
class ErasureRequest:
    """A right-to-erasure request: recorded at once, carried out within a month (GDPR Art. 12)."""

    id: UUID
    user_id: UUID
    requested_at: datetime
    due_at: datetime
    status: str = "pending"  # pending | completed
    completed_at: datetime | None = None

    @classmethod
    def open(cls, request_id: UUID, user_id: UUID, now: datetime) -> ErasureRequest:
        return cls(request_id, user_id, now, now + ERASURE_DEADLINE)
