"""Domain events. Each is written to the outbox in the transaction that caused it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import ClassVar
from uuid import UUID

import cattrs
from attrs import frozen

__all__ = [
    "CareScheduleChanged",
    "CareTaskCompleted",
    "MedicalRecordChanged",
    "VaccinationChanged",
    "VaccinationRecorded",
    "ConsentChanged",
    "DeliveriesDue",
    "DeliveryDue",
    "DomainEvent",
    "EVENT_TYPES",
    "ErasureRequested",
    "FamilyCreated",
    "FamilyDeleted",
    "FileDeleted",
    "FileStored",
    "InvitationAccepted",
    "InvitationCreated",
    "InvitationRevoked",
    "LostReportOpened",
    "LostReportResolved",
    "MemberLeft",
    "MemberRemoved",
    "MemberRoleChanged",
    "PetCreated",
    "PetDeleted",
    "PetUpdated",
    "UserRegistered",
    "event_from_json",
    "event_to_json",
]


@frozen
class DomainEvent:
    topic: ClassVar[str] = "event"


@frozen
class UserRegistered(DomainEvent):
    topic = "user.registered"
    user_id: UUID
    email: str


@frozen
class FamilyCreated(DomainEvent):
    topic = "family.created"
    family_id: UUID
    owner_id: UUID


@frozen
class FamilyDeleted(DomainEvent):
    topic = "family.deleted"
    family_id: UUID
    deleted_by: UUID


@frozen
class InvitationCreated(DomainEvent):
    """Carries what the invitation email needs, the secret token included (see docs/decisions)."""

    topic = "invitation.created"
    invitation_id: UUID
    family_id: UUID
    family_name: str
    email: str
    role: str
    inviter_name: str
    inviter_locale: str
    token: str
    expires_at: datetime


@frozen
class InvitationAccepted(DomainEvent):
    topic = "invitation.accepted"
    invitation_id: UUID
    family_id: UUID
    user_id: UUID


@frozen
class InvitationRevoked(DomainEvent):
    topic = "invitation.revoked"
    invitation_id: UUID
    family_id: UUID


@frozen
class MemberRoleChanged(DomainEvent):
    topic = "member.role_changed"
    family_id: UUID
    user_id: UUID
    role: str
    changed_by: UUID


@frozen
class MemberRemoved(DomainEvent):
    topic = "member.removed"
    family_id: UUID
    user_id: UUID
    removed_by: UUID


@frozen
class MemberLeft(DomainEvent):
    topic = "member.left"
    family_id: UUID
    user_id: UUID


@frozen
class PetCreated(DomainEvent):
    topic = "pet.created"
    pet_id: UUID
    family_id: UUID


@frozen
class PetUpdated(DomainEvent):
    topic = "pet.updated"
    pet_id: UUID
    family_id: UUID


@frozen
class PetDeleted(DomainEvent):
    topic = "pet.deleted"
    pet_id: UUID
    family_id: UUID


@frozen
class ConsentChanged(DomainEvent):
    topic = "consent.changed"
    user_id: UUID
    purpose: str
    granted: bool


@frozen
class ErasureRequested(DomainEvent):
    topic = "erasure.requested"
    request_id: UUID
    user_id: UUID
    due_at: datetime


@frozen
class DeliveryDue(DomainEvent):
    """A notification delivery is due now; the worker delivers it acting as `user_id`."""

    topic = "delivery.due"
    delivery_id: UUID
    user_id: UUID


@frozen
class DeliveriesDue(DomainEvent):
    """A chunk of notification deliveries (any users) is due now; the worker delivers them
    together (`usecases.notifications.deliver_batch`). Recorded by bulk callers such as the
    lost-pet alert fan-out instead of one `DeliveryDue` per delivery."""

    topic = "deliveries.due"
    delivery_ids: tuple[UUID, ...]


@frozen
class FileStored(DomainEvent):
    topic = "file.stored"
    file_id: UUID
    family_id: UUID
    pet_id: UUID
    kind: str
    stored_bytes: int


@frozen
class FileDeleted(DomainEvent):
    """The worker deletes the blobs named in `keys` once the row is gone (docs/files.md)."""

    topic = "file.deleted"
    file_id: UUID
    family_id: UUID
    pet_id: UUID
    keys: tuple[str, ...]


@frozen
class LostReportOpened(DomainEvent):
    """A lost report opened: the geo cache adds it; the alert fan-out starts from it."""

    topic = "lost_report.opened"
    report_id: UUID
    pet_id: UUID
    family_id: UUID
    species: str
    lat: float
    lon: float
    radius_km: float
    opened_by: UUID


@frozen
class LostReportResolved(DomainEvent):
    """A lost report was marked found or closed (`status`): the geo cache drops it."""

    topic = "lost_report.resolved"
    report_id: UUID
    pet_id: UUID
    family_id: UUID
    status: str
    resolved_by: UUID


@frozen
class VaccinationRecorded(DomainEvent):
    topic = "vaccination.recorded"
    vaccination_id: UUID
    pet_id: UUID
    family_id: UUID
    vaccine_code: str


@frozen
class VaccinationChanged(DomainEvent):
    """A dose was edited (`change` = "updated") or deleted ("deleted")."""

    topic = "vaccination.changed"
    vaccination_id: UUID
    pet_id: UUID
    family_id: UUID
    change: str


@frozen
class MedicalRecordChanged(DomainEvent):
    """`change`: created, updated or deleted; `file_ids` are the files attached after it (none
    when deleted), so the files part can tell which ones lost their last reference."""

    topic = "medical_record.changed"
    record_id: UUID
    pet_id: UUID
    family_id: UUID
    change: str
    file_ids: tuple[UUID, ...] = ()


@frozen
class CareScheduleChanged(DomainEvent):
    """`change`: created, updated or deleted (calendar feeds and the reminder scheduler care)."""

    topic = "care_schedule.changed"
    schedule_id: UUID
    pet_id: UUID
    family_id: UUID
    change: str


@frozen
class CareTaskCompleted(DomainEvent):
    topic = "care_task.completed"
    schedule_id: UUID
    occurrence_key: str
    pet_id: UUID
    family_id: UUID
    completed_by: UUID
    completed_at: datetime


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.topic: cls
    for cls in (
        UserRegistered,
        FamilyCreated,
        FamilyDeleted,
        InvitationCreated,
        InvitationAccepted,
        InvitationRevoked,
        MemberRoleChanged,
        MemberRemoved,
        MemberLeft,
        PetCreated,
        PetUpdated,
        PetDeleted,
        ConsentChanged,
        ErasureRequested,
        DeliveryDue,
        DeliveriesDue,
        FileStored,
        FileDeleted,
        LostReportOpened,
        LostReportResolved,
        VaccinationRecorded,
        VaccinationChanged,
        MedicalRecordChanged,
        CareScheduleChanged,
        CareTaskCompleted,
    )
}


def _converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    conv.register_unstructure_hook(UUID, str)
    conv.register_structure_hook(UUID, lambda v, _: UUID(v))
    conv.register_unstructure_hook(datetime, lambda d: d.isoformat())
    conv.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))
    return conv


_CONVERTER = _converter()


def event_to_json(event: DomainEvent) -> str:
    return json.dumps(_CONVERTER.unstructure(event), separators=(",", ":"), sort_keys=True)


def event_from_json(topic: str, payload: str) -> DomainEvent:
    """Rebuild an event from its outbox row; KeyError for an unknown topic."""
    return _CONVERTER.structure(json.loads(payload), EVENT_TYPES[topic])
