"""In-memory alert ledger (the reference adapter of `AlertLedger`): on the unit of work's copy
of the store, so a claim is atomic with the rest of the transaction (one unit of work holds
the store's lock at a time)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from adapters.memory.uow import _Data

__all__ = ["MemoryAlertLedger"]


class MemoryAlertLedger:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def claim(self, user_id: UUID, report_id: UUID, day: date, cap: int, now: datetime) -> bool:
        if (user_id, report_id) in self.d.alert_ledger:
            return False
        if self.count(user_id, day) >= cap:
            return False
        self.d.alert_ledger[(user_id, report_id)] = day
        return True

    def claim_many(
        self, report_id: UUID, claims: Sequence[tuple[UUID, date]], cap: int, now: datetime
    ) -> set[UUID]:
        return {u for u, day in claims if self.claim(u, report_id, day, cap, now)}

    def count(self, user_id: UUID, day: date) -> int:
        return sum(1 for (uid, _), d in self.d.alert_ledger.items() if uid == user_id and d == day)
