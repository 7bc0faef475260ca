"""Explicit mapping between rows and core objects: one `*_row` and one `*_from` per entity.

The core's attrs classes know nothing of the database; these functions are the only place
where column names meet field names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tailtracker_core.model.accounts import User
from tailtracker_core.model.consent import ConsentMethod, ConsentRecord, ErasureRequest, Purpose
from tailtracker_core.model.families import Family, Invitation, Membership
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.pets import Pet, Sex, Size, Species
from tailtracker_core.model.roles import Role
from tailtracker_core.model.subscriptions import Subscription, SubscriptionStatus
from tailtracker_core.model.tiers import Tier

Row = Mapping[Any, Any]  # a RowMapping (keys are column names)

__all__ = [
    "consent_from",
    "consent_row",
    "erasure_from",
    "erasure_row",
    "family_from",
    "family_row",
    "invitation_from",
    "invitation_row",
    "membership_from",
    "membership_row",
    "pet_from",
    "pet_row",
    "subscription_from",
    "subscription_row",
    "user_from",
    "user_row",
]


def user_row(u: User) -> dict[str, Any]:
    return {
        "id": u.id,
        "email": u.email,
        "email_key": u.email_key,
        "display_name": u.display_name,
        "password_hash": u.password_hash,
        "created_at": u.created_at,
        "locale": u.locale,
        "timezone": u.timezone,
        "phone": u.phone,
        "alert_lat": u.alert_lat,
        "alert_lon": u.alert_lon,
        "alert_radius_km": u.alert_radius_km,
        "version": u.version,
    }


def user_from(r: Row) -> User:
    return User(
        id=r["id"],
        email=r["email"],
        display_name=r["display_name"],
        password_hash=r["password_hash"],
        created_at=r["created_at"],
        locale=r["locale"],
        timezone=r["timezone"],
        phone=r["phone"],
        alert_lat=r["alert_lat"],
        alert_lon=r["alert_lon"],
        alert_radius_km=r["alert_radius_km"],
        version=r["version"],
    )


def family_row(f: Family) -> dict[str, Any]:
    return {"id": f.id, "name": f.name, "created_at": f.created_at, "version": f.version}


def family_from(r: Row, members: Iterable[Membership]) -> Family:
    return Family(
        id=r["id"],
        name=r["name"],
        created_at=r["created_at"],
        members={m.user_id: m for m in members},
        version=r["version"],
    )


def membership_row(m: Membership) -> dict[str, Any]:
    return {"family_id": m.family_id, "user_id": m.user_id, "role": m.role.value, "joined_at": m.joined_at}


def membership_from(r: Row) -> Membership:
    return Membership(r["family_id"], r["user_id"], Role(r["role"]), r["joined_at"])


def invitation_row(i: Invitation) -> dict[str, Any]:
    return {
        "id": i.id,
        "family_id": i.family_id,
        "email": i.email,
        "role": i.role.value,
        "token_hash": i.token_hash,
        "invited_by": i.invited_by,
        "created_at": i.created_at,
        "expires_at": i.expires_at,
        "accepted_at": i.accepted_at,
        "accepted_by": i.accepted_by,
        "revoked_at": i.revoked_at,
    }


def invitation_from(r: Row) -> Invitation:
    return Invitation(
        id=r["id"],
        family_id=r["family_id"],
        email=r["email"],
        role=Role(r["role"]),
        token_hash=r["token_hash"],
        invited_by=r["invited_by"],
        created_at=r["created_at"],
        expires_at=r["expires_at"],
        accepted_at=r["accepted_at"],
        accepted_by=r["accepted_by"],
        revoked_at=r["revoked_at"],
    )


def pet_row(p: Pet) -> dict[str, Any]:
    return {
        "id": p.id,
        "family_id": p.family_id,
        "name": p.name,
        "species": p.species.value,
        "sex": p.sex.value,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "breed": p.breed,
        "birth_date": p.birth_date,
        "colors": list(p.colors),
        "size": p.size.value if p.size is not None else None,
        "weight_kg": p.weight_kg,
        "microchip": p.microchip.value if p.microchip is not None else None,
        "neutered": p.neutered,
        "notes": p.notes,
        "version": p.version,
    }


def pet_from(r: Row) -> Pet:
    return Pet(
        id=r["id"],
        family_id=r["family_id"],
        name=r["name"],
        species=Species(r["species"]),
        sex=Sex(r["sex"]),
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        breed=r["breed"],
        birth_date=r["birth_date"],
        colors=list(r["colors"]),
        size=Size(r["size"]) if r["size"] is not None else None,
        weight_kg=r["weight_kg"],
        # Stored values were validated when written; re-parsing would refuse rows that an
        # older, laxer rule accepted, so the value object is rebuilt as it is.
        microchip=Microchip(r["microchip"]) if r["microchip"] is not None else None,
        neutered=r["neutered"],
        notes=r["notes"],
        version=r["version"],
    )


def consent_row(c: ConsentRecord) -> dict[str, Any]:
    return {
        "id": c.id,
        "user_id": c.user_id,
        "purpose": c.purpose.value,
        "granted": c.granted,
        "policy_version": c.policy_version,
        "recorded_at": c.recorded_at,
        "method": c.method.value,
    }


def consent_from(r: Row) -> ConsentRecord:
    return ConsentRecord(
        id=r["id"],
        user_id=r["user_id"],
        purpose=Purpose(r["purpose"]),
        granted=r["granted"],
        policy_version=r["policy_version"],
        recorded_at=r["recorded_at"],
        method=ConsentMethod(r["method"]),
    )


def subscription_row(s: Subscription) -> dict[str, Any]:
    return {
        "id": s.id,
        "user_id": s.user_id,
        "tier": s.tier.value,
        "status": s.status.value,
        "current_period_end": s.current_period_end,
        "provider": s.provider,
    }


def subscription_from(r: Row) -> Subscription:
    return Subscription(
        id=r["id"],
        user_id=r["user_id"],
        tier=Tier(r["tier"]),
        status=SubscriptionStatus(r["status"]),
        current_period_end=r["current_period_end"],
        provider=r["provider"],
    )


def erasure_row(e: ErasureRequest) -> dict[str, Any]:
    return {
        "id": e.id,
        "user_id": e.user_id,
        "requested_at": e.requested_at,
        "due_at": e.due_at,
        "status": e.status,
        "completed_at": e.completed_at,
    }


def erasure_from(r: Row) -> ErasureRequest:
    return ErasureRequest(
        id=r["id"],
        user_id=r["user_id"],
        requested_at=r["requested_at"],
        due_at=r["due_at"],
        status=r["status"],
        completed_at=r["completed_at"],
    )
