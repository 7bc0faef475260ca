"""The ports a use case may need, handed over by the composition root."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final
from uuid import UUID

from attrs import field, frozen

from tailtracker_core.config import CoreConfig
from tailtracker_core.model.subscriptions import entitled_tier
from tailtracker_core.model.tiers import Tier, TierLimits
from tailtracker_core.ports import (
    Clock,
    FileStore,
    GeoIndex,
    IdGenerator,
    ImageProcessor,
    PasswordHasher,
    RateLimiter,
    SessionStore,
    TokenSigner,
    UnitOfWork,
    UnitOfWorkFactory,
)

__all__ = ["UNSET", "Deps", "Unset", "hash_token", "tier_of_family", "tier_of_users"]


@frozen
class Deps:
    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    hasher: PasswordHasher
    signer: TokenSigner
    sessions: SessionStore
    limiter: RateLimiter
    config: CoreConfig = field(factory=CoreConfig)
    # Files (docs/files.md): None where a process serves no uploads.
    blobs: FileStore | None = None
    images: ImageProcessor | None = None
    # Open lost reports and alert locations by place; the composition root always sets it.
    geo_index: GeoIndex | None = None


class Unset:
    """Marks a field a partial update leaves alone (None may be a real value)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tier_of_users(uow: UnitOfWork, deps: Deps, user_ids: Sequence[UUID]) -> Tier:
    return entitled_tier(uow.subscriptions.for_users(user_ids), deps.clock.now())


def tier_of_family(uow: UnitOfWork, deps: Deps, owner_ids: Sequence[UUID]) -> tuple[Tier, TierLimits]:
    """A family's tier is the highest active tier held by any of its owners."""
    tier = tier_of_users(uow, deps, owner_ids)
    return tier, deps.config.tiers[tier]
