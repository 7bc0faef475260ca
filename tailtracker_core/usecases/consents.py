"""Consent: grant, withdraw, current state, history and receipts (Kantara CR v1.1)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from attrs import frozen

from tailtracker_core.errors import NotFound
from tailtracker_core.events import ConsentChanged, ErasureRequested
from tailtracker_core.model.consent import (
    ConsentMethod,
    ConsentRecord,
    ErasureRequest,
    Purpose,
    current_consents,
)
from tailtracker_core.usecases.deps import Deps

__all__ = [
    "ControllerInfo",
    "request_erasure",
    "consent_history",
    "consent_receipt",
    "current_state",
    "set_consent",
]


def set_consent(
    deps: Deps, actor: UUID, purpose: Purpose, granted: bool, policy_version: str, method: ConsentMethod
) -> ConsentRecord:
    """Append a grant or a withdrawal; withdrawing is exactly as easy as granting."""
    record = ConsentRecord.record(
        deps.ids.new_id(), actor, purpose, granted, policy_version, deps.clock.now(), method
    )
    with deps.uow(actor) as uow:
        uow.consents.add(record)
        uow.record(ConsentChanged(actor, purpose.value, granted))
        uow.commit()
    return record


def current_state(deps: Deps, actor: UUID) -> dict[Purpose, ConsentRecord | None]:
    with deps.uow(actor) as uow:
        latest = current_consents(uow.consents.history(actor))
    return {p: latest.get(p) for p in Purpose}


def consent_history(deps: Deps, actor: UUID) -> list[ConsentRecord]:
    with deps.uow(actor) as uow:
        return uow.consents.history(actor)


@frozen
class ControllerInfo:
    name: str = "TailTracker"
    contact: str = "Data Protection Officer"
    address: str = "TailTracker, Privacy Office"
    email: str = "privacy@tailtracker.example"
    phone: str = "+441234567890"
    policy_url: str = "https://tailtracker.example/privacy"
    jurisdiction: str = "EU"


_PURPOSE_TEXT = {
    Purpose.ESSENTIAL: ("Provide the service you signed up for", "Core Function", "EXPLICIT"),
    Purpose.ANALYTICS: ("Measure how the app is used to improve it", "Improve Performance", "EXPLICIT"),
    Purpose.MARKETING: ("Send news and offers", "Marketing", "EXPLICIT"),
    Purpose.LOCATION_ALERTS: ("Alert you to lost pets near your alert location", "Core Function", "EXPLICIT"),
    Purpose.VET_SHARING: ("Share your pets' health records with your vet", "Core Function", "EXPLICIT"),
}


def consent_receipt(
    deps: Deps, actor: UUID, record_id: UUID, controller: ControllerInfo = ControllerInfo()
) -> dict[str, Any]:
    """A Kantara Consent Receipt v1.1 for one of the actor's own records."""
    with deps.uow(actor) as uow:
        record = uow.consents.get(record_id)
        user = uow.users.get(actor)
    if record is None or record.user_id != actor or user is None:
        raise NotFound("consent record not found")
    text, category, consent_type = _PURPOSE_TEXT[record.purpose]
    return {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": controller.jurisdiction,
        "consentTimestamp": int(record.recorded_at.timestamp()),
        "collectionMethod": record.method.value,
        "consentReceiptID": str(record.id),
        "language": user.locale,
        "piiPrincipalId": str(user.id),
        "piiControllers": [
            {
                "piiController": controller.name,
                "contact": controller.contact,
                "address": controller.address,
                "email": controller.email,
                "phone": controller.phone,
            }
        ],
        "policyUrl": controller.policy_url,
        "services": [
            {
                "service": "TailTracker",
                "purposes": [
                    {
                        "purpose": text,
                        "purposeCategory": [category],
                        "consentType": consent_type,
                        "piiCategory": ["Contact", "Location"]
                        if record.purpose is Purpose.LOCATION_ALERTS
                        else ["Contact"],
                        "primaryPurpose": record.purpose is Purpose.ESSENTIAL,
                        "termination": "Withdraw at any time in the app's privacy settings",
                        "thirdPartyDisclosure": record.purpose is Purpose.VET_SHARING,
                    }
                ],
            }
        ],
        "sensitive": False,
        "spiCat": [],
        "tailtracker": {
            "purpose_code": record.purpose.value,
            "granted": record.granted,
            "policy_version": record.policy_version,
        },
    }


def request_erasure(deps: Deps, actor: UUID) -> ErasureRequest:
    """Record the request (once: asking again returns the open one); the erasure itself runs
    in the background before `due_at`."""
    with deps.uow(actor) as uow:
        existing = uow.erasures.open_for_user(actor)
        if existing is not None:
            return existing
        request = ErasureRequest.open(deps.ids.new_id(), actor, deps.clock.now())
        uow.erasures.add(request)
        uow.record(ErasureRequested(request.id, actor, request.due_at))
        uow.commit()
    return request
