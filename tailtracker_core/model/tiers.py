"""Subscription tiers and their limits. The table is data: settings may replace it."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from attrs import frozen

__all__ = ["DEFAULT_TIER_LIMITS", "Tier", "TierLimits", "TierTable"]


class Tier(enum.StrEnum):
    FREE = "free"
    PREMIUM = "premium"
    PRO = "pro"

    @property
    def rank(self) -> int:
        return list(Tier).index(self)


@frozen
class TierLimits:
    pets_per_family: int
    members_per_family: int
    alert_radius_km: float
    sms: bool
    storage_bytes: int
    requests_per_minute: int
    burst: int


_MB = 1024 * 1024

DEFAULT_TIER_LIMITS: Mapping[Tier, TierLimits] = {
    Tier.FREE: TierLimits(2, 2, 5.0, False, 100 * _MB, 60, 20),
    Tier.PREMIUM: TierLimits(10, 6, 25.0, True, 2048 * _MB, 300, 60),
    Tier.PRO: TierLimits(50, 12, 50.0, True, 10240 * _MB, 1200, 200),
}


@frozen
class TierTable:
    limits: Mapping[Tier, TierLimits] = DEFAULT_TIER_LIMITS

    def __getitem__(self, tier: Tier) -> TierLimits:
        return self.limits[tier]
