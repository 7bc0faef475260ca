"""Consent state, history and changes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from tailtracker_core.model.consent import ConsentMethod, ConsentRecord, Purpose

from . import utc

__all__ = ["ConsentIn", "ConsentPage", "ConsentRecordOut", "ConsentState", "ConsentStates"]


class ConsentIn(msgspec.Struct, forbid_unknown_fields=True):
    granted: bool
    policy_version: Annotated[str, Meta(min_length=1, max_length=40, examples=["2026-01"])]
    method: Annotated[ConsentMethod, Meta(description="Where the choice was made.")] = ConsentMethod.API


class ConsentRecordOut(msgspec.Struct):
    id: UUID
    purpose: Purpose
    granted: bool
    policy_version: str
    recorded_at: datetime
    method: ConsentMethod

    @classmethod
    def from_record(cls, r: ConsentRecord) -> ConsentRecordOut:
        return cls(r.id, r.purpose, r.granted, r.policy_version, utc(r.recorded_at), r.method)


class ConsentState(msgspec.Struct):
    """The current state of one purpose; never recorded means not granted (record_id null)."""

    purpose: Purpose
    granted: bool
    policy_version: str | None
    recorded_at: datetime | None
    record_id: UUID | None

    @classmethod
    def of(cls, purpose: Purpose, r: ConsentRecord | None) -> ConsentState:
        if r is None:
            return cls(purpose, False, None, None, None)
        return cls(purpose, r.granted, r.policy_version, utc(r.recorded_at), r.id)


class ConsentStates(msgspec.Struct):
    consents: list[ConsentState]


class ConsentPage(msgspec.Struct):
    items: list[ConsentRecordOut]
    next_cursor: str | None
