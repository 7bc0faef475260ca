"""Consent: current state, changes, history and receipts (GDPR)."""

from __future__ import annotations

from typing import Any, ClassVar

from litestar import Controller, get, put
from litestar.params import FromPath, JSONBody

from tailtracker_core.model.consent import ConsentMethod, Purpose
from tailtracker_core.usecases import consents

from ..conventions import page_of, page_response, select_fields
from ..identity import BEARER
from ..params import (
    Claims,
    Cursor,
    DepsDep,
    Fields,
    Limit,
    PathId,
)
from ..problems import problem_responses
from ..schemas.consents import ConsentIn, ConsentPage, ConsentRecordOut, ConsentState, ConsentStates

__all__ = ["ConsentController"]


class ConsentController(Controller):
    path = "/v1/me/consents"
    tags: ClassVar[list[str]] = ["Privacy"]
    security = BEARER

    @get("/", summary="Your current consent, per purpose", responses=problem_responses(), sync_to_thread=True)
    def current(self, claims: Claims, deps: DepsDep) -> ConsentStates:
        state = consents.current_state(deps, claims.user_id)
        return ConsentStates([ConsentState.of(p, r) for p, r in state.items()])

    @put(
        "/{purpose:str}",
        summary="Grant or withdraw consent for a purpose",
        description="Appends an immutable record. `essential` cannot be withdrawn (409).",
        responses=problem_responses(409),
        sync_to_thread=True,
    )
    def set_consent(
        self, purpose: FromPath[Purpose], data: JSONBody[ConsentIn], claims: Claims, deps: DepsDep
    ) -> ConsentRecordOut:
        method = ConsentMethod(data.method)
        record = consents.set_consent(
            deps, claims.user_id, purpose, data.granted, data.policy_version, method
        )
        return ConsentRecordOut.from_record(record)

    @get(
        "/history",
        summary="Every grant and withdrawal, oldest first",
        responses=problem_responses(),
        sync_to_thread=True,
    )
    def history(
        self,
        claims: Claims,
        deps: DepsDep,
        limit: Limit = 20,
        cursor: Cursor = None,
        fields: Fields = None,
    ) -> ConsentPage:
        select_fields(ConsentRecordOut, fields)
        records = consents.consent_history(deps, claims.user_id)
        rows, next_cursor = page_of(records, lambda r: r.id, cursor, limit)
        items = [ConsentRecordOut.from_record(r) for r in rows]
        return page_response(ConsentPage, ConsentRecordOut, items, next_cursor, fields)

    @get(
        "/{record_id:str}/receipt",
        summary="A consent receipt (Kantara CR v1.1)",
        responses=problem_responses(404),
        sync_to_thread=True,
    )
    def receipt(self, record_id: PathId, claims: Claims, deps: DepsDep) -> dict[str, Any]:
        return consents.consent_receipt(deps, claims.user_id, record_id)
