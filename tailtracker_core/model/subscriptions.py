"""Subscriptions as far as entitlement goes: which tier a user holds right now."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from attrs import frozen

from tailtracker_core.model.tiers import Tier

__all__ = ["Subscription", "SubscriptionStatus", "entitled_tier"]


class SubscriptionStatus(enum.StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    EXPIRED = "expired"


@frozen
class Subscription:
    id: UUID
    user_id: UUID
    tier: Tier
    status: SubscriptionStatus
    current_period_end: datetime | None
    provider: str = "manual"

    def entitles_at(self, now: datetime) -> bool:
        """Entitlement ends only at expiry, never on a cancellation or a billing issue."""
        if self.status is SubscriptionStatus.EXPIRED:
            return False
        if self.status is SubscriptionStatus.CANCELED:
            return self.current_period_end is not None and now < self.current_period_end
        return True


def entitled_tier(subscriptions: Iterable[Subscription], now: datetime) -> Tier:
    """The highest tier any of these subscriptions entitles to now; free when none does."""
    tiers = [s.tier for s in subscriptions if s.entitles_at(now)]
    return max(tiers, key=lambda t: t.rank, default=Tier.FREE)
