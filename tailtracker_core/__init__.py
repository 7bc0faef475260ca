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
from tailtracker_core.model.care import CareCompletion, CareKind, CareSchedule, Occurrence, mark_completed
from tailtracker_core.model.consent import ConsentMethod, ConsentRecord, Purpose, current_consents
from tailtracker_core.model.cursors import care_next_fire_at, vaccination_cursors, vaccination_next_fire_at
from tailtracker_core.model.families import Family, Invitation, InvitationState, Membership
from tailtracker_core.model.geo import BoundingBox, GeoPoint, bbox, distance_km, rounded
from tailtracker_core.model.lost_found import (
    AlertCandidate,
    AlertSettings,
    FoundReport,
    LostPetAlert,
    LostReport,
    PublicLostReport,
    ReportStatus,
    Sighting,
    alert_recipients,
    public_view,
)
from tailtracker_core.model.matching import (
    LostPet,
    Match,
    MatchSettings,
    match_found_report,
    match_lost_report,
)
from tailtracker_core.model.medical import MedicalRecord, MedicalRecordKind
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.notifications import (
    Delivery,
    DeliveryRequest,
    DeliveryStatus,
    Notification,
    delivery_key,
    request_from_reminder,
    requests_for,
)
from tailtracker_core.model.pets import Pet, PetDraft, Sex, Size, Species
from tailtracker_core.model.reminders import (
    Category,
    Channel,
    NotificationPreferences,
    QuietHours,
    Recipient,
    Reminder,
    ReminderSettings,
    care_reminders,
    deliver_at,
    recipients_of,
    vaccination_reminders,
)
from tailtracker_core.model.roles import Action, Role, allowed
from tailtracker_core.model.subscriptions import Subscription, SubscriptionStatus, entitled_tier
from tailtracker_core.model.tiers import DEFAULT_TIER_LIMITS, Tier, TierLimits, TierTable
from tailtracker_core.model.vaccines import (
    Vaccination,
    VaccinationStatus,
    Vaccine,
    VaccineSettings,
    core_schedule,
    suggested_doses,
    vaccination_status,
)
from tailtracker_core.policy import require
from tailtracker_core.usecases.deps import UNSET, Deps

__all__ = [
    "DEFAULT_TIER_LIMITS",
    "EVENT_TYPES",
    "UNSET",
    "Action",
    "AlertCandidate",
    "AlertSettings",
    "AuthenticationFailed",
    "BoundingBox",
    "CareCompletion",
    "CareKind",
    "CareSchedule",
    "MedicalRecord",
    "MedicalRecordKind",
    "care_next_fire_at",
    "vaccination_cursors",
    "vaccination_next_fire_at",
    "Category",
    "Channel",
    "Conflict",
    "ConsentMethod",
    "ConsentRecord",
    "CoreConfig",
    "Deps",
    "DomainError",
    "DomainEvent",
    "Delivery",
    "DeliveryRequest",
    "DeliveryStatus",
    "Family",
    "FieldError",
    "Forbidden",
    "FoundReport",
    "GeoPoint",
    "Invitation",
    "InvitationState",
    "LostPet",
    "LostPetAlert",
    "LostReport",
    "Match",
    "MatchSettings",
    "Membership",
    "Microchip",
    "NotFound",
    "Notification",
    "NotificationPreferences",
    "Occurrence",
    "Pet",
    "PetDraft",
    "PreconditionFailed",
    "PublicLostReport",
    "Purpose",
    "QuietHours",
    "Recipient",
    "Reminder",
    "ReminderSettings",
    "ReportStatus",
    "Role",
    "Sex",
    "Sighting",
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
    "Vaccination",
    "VaccinationStatus",
    "Vaccine",
    "VaccineSettings",
    "ValidationFailed",
    "alert_recipients",
    "allowed",
    "bbox",
    "care_reminders",
    "core_schedule",
    "current_consents",
    "deliver_at",
    "delivery_key",
    "distance_km",
    "entitled_tier",
    "event_from_json",
    "event_to_json",
    "mark_completed",
    "match_found_report",
    "match_lost_report",
    "public_view",
    "recipients_of",
    "request_from_reminder",
    "requests_for",
    "require",
    "rounded",
    "suggested_doses",
    "vaccination_reminders",
    "vaccination_status",
]
