"""TailTracker's domain core: pets, families, sharing rules, consent and tiers.

Pure Python (attrs, no I/O). Embed it by implementing the ports in `tailtracker_core.ports`
and calling the use cases in `tailtracker_core.usecases`; test your adapters with the
contract kit in `tailtracker_core.testing`.
"""

from tailtracker_core.config import CoreConfig
from tailtracker_core.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    Throttled,
    TierLimitExceeded,
    ValidationFailed,
)
from tailtracker_core.events import EVENT_TYPES, DomainEvent, event_from_json, event_to_json
from tailtracker_core.model.accounts import User
from tailtracker_core.model.consent import ConsentMethod, ConsentRecord, Purpose, current_consents
from tailtracker_core.model.families import Family, Invitation, InvitationState, Membership
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Pet, PetDraft, Sex, Size, Species
from tailtracker_core.model.roles import Action, Role, allowed
from tailtracker_core.model.subscriptions import Subscription, SubscriptionStatus, entitled_tier
from tailtracker_core.model.tiers import DEFAULT_TIER_LIMITS, Tier, TierLimits, TierTable
from tailtracker_core.policy import require
from tailtracker_core.usecases.deps import UNSET, Deps

__all__ = [
    "DEFAULT_TIER_LIMITS",
    "EVENT_TYPES",
    "UNSET",
    "Action",
    "AuthenticationFailed",
    "Conflict",
    "ConsentMethod",
    "ConsentRecord",
    "CoreConfig",
    "Deps",
    "DomainError",
    "DomainEvent",
    "Family",
    "FieldError",
    "Forbidden",
    "Invitation",
    "InvitationState",
    "Membership",
    "Microchip",
    "NotFound",
    "Pet",
    "PetDraft",
    "PreconditionFailed",
    "Purpose",
    "Role",
    "Sex",
    "Size",
    "Species",
    "Subscription",
    "SubscriptionStatus",
    "Throttled",
    "Tier",
    "TierLimitExceeded",
    "TierLimits",
    "TierTable",
    "User",
    "ValidationFailed",
    "allowed",
    "current_consents",
    "entitled_tier",
    "event_from_json",
    "event_to_json",
    "require",
]
