"""In-memory unit of work: a fast fake for unit tests and for embedders' experiments.

Each unit of work works on a copy of the store and swaps it in on commit, under one lock,
so it has the same all-or-nothing behaviour as a database transaction.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from attrs import define, field

from adapters.memory.alerts import MemoryAlertLedger
from adapters.memory.calendar import MemoryCalendarFeeds
from adapters.memory.care import CareData, MemoryCareSchedules, MemoryMedicalRecords, MemoryVaccinations
from adapters.memory.lost_found import MemoryFoundReports, MemoryLostReports, MemoryMatches, MemorySightings
from adapters.memory.notifications import (
    MemoryDeliveries,
    MemoryEmailSuppressions,
    MemoryNotificationPreferences,
    MemoryNotifications,
)
from adapters.memory.reminders import MemoryReminders
from tailtracker_core.errors import Conflict
from tailtracker_core.events import DomainEvent, event_to_json
from tailtracker_core.model.accounts import User
from tailtracker_core.model.calendar import CalendarFeed
from tailtracker_core.model.consent import ConsentRecord, ErasureRequest
from tailtracker_core.model.families import Family, Invitation, Membership
from tailtracker_core.model.files import FileKind, StoredFile
from tailtracker_core.model.lost_found import FoundReport, LostReport, Sighting
from tailtracker_core.model.matching import Match
from tailtracker_core.model.pets import Pet, Species
from tailtracker_core.model.roles import Role
from tailtracker_core.model.subscriptions import Subscription
from tailtracker_core.ports import Clock, IdempotencyRecord, IdGenerator, InvitationLookup, OutboxMessage

__all__ = ["MemoryOutbox", "MemoryStore", "MemoryUnitOfWork"]


@define
class _Data:
    users: dict[UUID, User] = field(factory=dict)
    families: dict[UUID, Family] = field(factory=dict)
    invitations: dict[UUID, Invitation] = field(factory=dict)
    pets: dict[UUID, Pet] = field(factory=dict)
    consents: dict[UUID, ConsentRecord] = field(factory=dict)
    subscriptions: dict[UUID, Subscription] = field(factory=dict)
    erasures: dict[UUID, ErasureRequest] = field(factory=dict)
    outbox: dict[UUID, OutboxMessage] = field(factory=dict)
    idempotency: dict[tuple[UUID, str], IdempotencyRecord] = field(factory=dict)
    files: dict[UUID, StoredFile] = field(factory=dict)
    sent: dict[UUID, datetime] = field(factory=dict)
    lost_reports: dict[UUID, LostReport] = field(factory=dict)
    lost_species: dict[UUID, Species] = field(factory=dict)  # the pet's, when the report opened
    found_reports: dict[UUID, FoundReport] = field(factory=dict)
    sightings: dict[UUID, Sighting] = field(factory=dict)
    matches: dict[tuple[UUID, UUID], Match] = field(factory=dict)
    alert_ledger: dict[tuple[UUID, UUID], date] = field(factory=dict)  # (user, report) -> local day
    deliveries: dict[UUID, Any] = field(factory=dict)
    notifications: dict[UUID, Any] = field(factory=dict)
    notification_preferences: dict[UUID, Any] = field(factory=dict)
    email_suppressions: dict[str, Any] = field(factory=dict)
    care: CareData = field(factory=CareData)
    calendar_feeds: dict[UUID, CalendarFeed] = field(factory=dict)


class MemoryStore:
    """The shared state; `uow_factory` is a UnitOfWorkFactory over it."""

    def __init__(self, ids: IdGenerator, clock: Clock) -> None:
        self.data = _Data()
        self.lock = threading.RLock()
        self.ids = ids
        self.clock = clock

    def uow_factory(self, actor: UUID | None) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self, actor)

    def outbox(self) -> MemoryOutbox:
        return MemoryOutbox(self)

    def ping(self) -> None:
        """Always reachable: it lives in this process."""


def _check_version(stored: User | Family | Pet | None, new_version: int, what: str) -> None:
    """Optimistic concurrency: a save must follow the version it read."""
    if stored is not None and stored.version != new_version - 1:
        raise Conflict(f"this {what} was changed by someone else at the same time; read it again and retry")


def _drop_lost_reports_of(d: _Data, pet_ids: set[UUID]) -> None:
    """A deleted pet takes its lost reports, their sightings and matches (as ON DELETE CASCADE)."""
    gone = {r.id for r in d.lost_reports.values() if r.pet_id in pet_ids}
    for report_id in gone:
        del d.lost_reports[report_id]
        d.lost_species.pop(report_id, None)
    for sighting_id in [s.id for s in d.sightings.values() if s.report_id in gone]:
        del d.sightings[sighting_id]
    for key in [k for k in d.matches if k[0] in gone]:
        del d.matches[key]
    for ledger_key in [k for k in d.alert_ledger if k[1] in gone]:
        del d.alert_ledger[ledger_key]


class _Users:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, user: User) -> None:
        if any(u.email_key == user.email_key for u in self.d.users.values()):
            raise Conflict("an account with this email already exists; sign in instead")
        self.d.users[user.id] = copy.deepcopy(user)

    def get(self, user_id: UUID) -> User | None:
        return copy.deepcopy(self.d.users.get(user_id))

    def get_by_email(self, email: str) -> User | None:
        key = email.strip().lower()
        return next((copy.deepcopy(u) for u in self.d.users.values() if u.email_key == key), None)

    def get_many(self, user_ids: Sequence[UUID]) -> list[User]:
        return [copy.deepcopy(self.d.users[i]) for i in user_ids if i in self.d.users]

    def save(self, user: User) -> None:
        _check_version(self.d.users.get(user.id), user.version, "account")
        self.d.users[user.id] = copy.deepcopy(user)


class _Families:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, family: Family) -> None:
        self.d.families[family.id] = copy.deepcopy(family)

    def get(self, family_id: UUID) -> Family | None:
        return copy.deepcopy(self.d.families.get(family_id))

    def save(self, family: Family) -> None:
        _check_version(self.d.families.get(family.id), family.version, "family")
        self.d.families[family.id] = copy.deepcopy(family)

    def delete(self, family_id: UUID) -> None:
        self.d.families.pop(family_id, None)
        gone_pets = {p.id for p in self.d.pets.values() if p.family_id == family_id}
        for pet_id in gone_pets:
            del self.d.pets[pet_id]
        _drop_lost_reports_of(self.d, gone_pets)
        self.d.care.forget_pets(gone_pets)
        for inv_id in [i.id for i in self.d.invitations.values() if i.family_id == family_id]:
            del self.d.invitations[inv_id]
        for file_id in [f.id for f in self.d.files.values() if f.family_id == family_id]:
            del self.d.files[file_id]

    def add_member(self, membership: Membership) -> None:
        family = self.d.families.get(membership.family_id)
        if family is None:
            return
        if membership.user_id in family.members:
            raise Conflict("already a member of this family")
        family.members[membership.user_id] = membership

    def lock(self, family_id: UUID) -> None:
        return None  # one unit of work at a time holds the store's lock

    def role_of(self, family_id: UUID, user_id: UUID) -> Role | None:
        family = self.d.families.get(family_id)
        return family.role_of(user_id) if family else None

    def roles_of(self, user_id: UUID) -> dict[UUID, Role]:
        return {
            f.id: f.members[user_id].role
            for f in sorted(self.d.families.values(), key=lambda f: f.id)
            if user_id in f.members
        }

    def list_for_user(self, user_id: UUID, after: UUID | None, limit: int) -> list[Family]:
        mine = sorted((f for f in self.d.families.values() if user_id in f.members), key=lambda f: f.id)
        return [copy.deepcopy(f) for f in mine if after is None or f.id > after][:limit]

    def member_ids(self, family_id: UUID) -> list[UUID]:
        family = self.d.families.get(family_id)
        return sorted(family.members) if family else []


class _Invitations:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, invitation: Invitation) -> None:
        self.d.invitations[invitation.id] = copy.deepcopy(invitation)

    def get(self, invitation_id: UUID) -> Invitation | None:
        return copy.deepcopy(self.d.invitations.get(invitation_id))

    def find_by_token_hash(self, token_hash: str) -> InvitationLookup | None:
        inv = next((i for i in self.d.invitations.values() if i.token_hash == token_hash), None)
        if inv is None:
            return None
        family = self.d.families.get(inv.family_id)
        inviter = self.d.users.get(inv.invited_by)
        return InvitationLookup(
            copy.deepcopy(inv),
            family.name if family else "",
            inviter.display_name if inviter else "",
        )

    def save(self, invitation: Invitation) -> None:
        self.d.invitations[invitation.id] = copy.deepcopy(invitation)


class _Pets:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, pet: Pet) -> None:
        self.d.pets[pet.id] = copy.deepcopy(pet)

    def get(self, pet_id: UUID) -> Pet | None:
        return copy.deepcopy(self.d.pets.get(pet_id))

    def save(self, pet: Pet) -> None:
        _check_version(self.d.pets.get(pet.id), pet.version, "pet")
        self.d.pets[pet.id] = copy.deepcopy(pet)

    def delete(self, pet_id: UUID) -> None:
        self.d.pets.pop(pet_id, None)
        _drop_lost_reports_of(self.d, {pet_id})
        for file_id in [f.id for f in self.d.files.values() if f.pet_id == pet_id]:
            del self.d.files[file_id]
        self.d.care.forget_pets([pet_id])

    def count_in_family(self, family_id: UUID) -> int:
        return sum(1 for p in self.d.pets.values() if p.family_id == family_id)

    def list(
        self, family_ids: Sequence[UUID], species: Species | None, after: UUID | None, limit: int
    ) -> list[Pet]:
        wanted = set(family_ids)
        pets = sorted(
            (
                p
                for p in self.d.pets.values()
                if p.family_id in wanted
                and (species is None or p.species is species)
                and (after is None or p.id > after)
            ),
            key=lambda p: p.id,
        )
        return [copy.deepcopy(p) for p in pets[:limit]]


class _Consents:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, record: ConsentRecord) -> None:
        self.d.consents[record.id] = record

    def get(self, record_id: UUID) -> ConsentRecord | None:
        return self.d.consents.get(record_id)

    def history(self, user_id: UUID) -> list[ConsentRecord]:
        mine = (r for r in self.d.consents.values() if r.user_id == user_id)
        return sorted(mine, key=lambda r: (r.recorded_at, r.id))

    def histories(self, user_ids: Sequence[UUID]) -> dict[UUID, list[ConsentRecord]]:
        wanted = set(user_ids)
        out: dict[UUID, list[ConsentRecord]] = {}
        for r in sorted(self.d.consents.values(), key=lambda r: (r.recorded_at, r.id)):
            if r.user_id in wanted:
                out.setdefault(r.user_id, []).append(r)
        return out


class _Subscriptions:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, subscription: Subscription) -> None:
        self.d.subscriptions[subscription.id] = subscription

    def for_users(self, user_ids: Sequence[UUID]) -> list[Subscription]:
        wanted = set(user_ids)
        return [s for s in self.d.subscriptions.values() if s.user_id in wanted]


class _Erasures:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, request: ErasureRequest) -> None:
        self.d.erasures[request.id] = request

    def open_for_user(self, user_id: UUID) -> ErasureRequest | None:
        mine = (r for r in self.d.erasures.values() if r.user_id == user_id and r.status == "pending")
        return next(iter(sorted(mine, key=lambda r: r.id)), None)


class _Idempotency:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def get(self, user_id: UUID, key: str) -> IdempotencyRecord | None:
        return self.d.idempotency.get((user_id, key))

    def add(self, record: IdempotencyRecord) -> None:
        if (record.user_id, record.key) in self.d.idempotency:
            raise Conflict("a request with this Idempotency-Key was just answered; retry to get its answer")
        self.d.idempotency[(record.user_id, record.key)] = record

    def purge(self, user_id: UUID, before: datetime) -> None:
        stale = [k for k, r in self.d.idempotency.items() if k[0] == user_id and r.created_at < before]
        for k in stale:
            del self.d.idempotency[k]

    def purge_expired(self, before: datetime, limit: int) -> int:
        stale = sorted((r.created_at, k) for k, r in self.d.idempotency.items() if r.created_at < before)
        for _, k in stale[:limit]:
            del self.d.idempotency[k]
        return min(len(stale), limit)


class _Files:
    def __init__(self, d: _Data) -> None:
        self.d = d

    def add(self, file: StoredFile) -> None:
        if file.id in self.d.files:
            raise Conflict("this file is stored already")
        self.d.files[file.id] = file

    def get(self, file_id: UUID) -> StoredFile | None:
        return self.d.files.get(file_id)

    def get_many(self, file_ids: Sequence[UUID]) -> list[StoredFile]:
        return [self.d.files[i] for i in dict.fromkeys(file_ids) if i in self.d.files]

    def list_for_pet(
        self, pet_id: UUID, kind: FileKind | None, after: UUID | None, limit: int
    ) -> list[StoredFile]:
        mine = sorted(
            (
                f
                for f in self.d.files.values()
                if f.pet_id == pet_id and (kind is None or f.kind is kind) and (after is None or f.id > after)
            ),
            key=lambda f: f.id,
        )
        return mine[:limit]

    def delete(self, file_id: UUID) -> None:
        self.d.files.pop(file_id, None)

    def usage_of_family(self, family_id: UUID) -> int:
        return sum(f.stored_bytes for f in self.d.files.values() if f.family_id == family_id)

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        named = {k for f in self.d.files.values() for k in f.keys}
        return {k for k in keys if k in named}


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore, actor: UUID | None) -> None:
        self._store = store
        self.actor = actor
        self._events: list[DomainEvent] = []

    def __enter__(self) -> Self:
        self._store.lock.acquire()
        self._open()
        return self

    def _open(self) -> None:
        self._work = copy.deepcopy(self._store.data)
        self._events = []
        self.users = _Users(self._work)
        self.families = _Families(self._work)
        self.invitations = _Invitations(self._work)
        self.pets = _Pets(self._work)
        self.consents = _Consents(self._work)
        self.subscriptions = _Subscriptions(self._work)
        self.erasures = _Erasures(self._work)
        self.idempotency = _Idempotency(self._work)
        self.lost_reports = MemoryLostReports(self._work)
        self.found_reports = MemoryFoundReports(self._work)
        self.sightings = MemorySightings(self._work)
        self.matches = MemoryMatches(self._work)
        self.alert_ledger = MemoryAlertLedger(self._work)
        self.deliveries = MemoryDeliveries(self._work)
        self.notifications = MemoryNotifications(self._work)
        self.notification_preferences = MemoryNotificationPreferences(self._work)
        self.email_suppressions = MemoryEmailSuppressions(self._work)
        self.files = _Files(self._work)
        self.vaccinations = MemoryVaccinations(self._work.care)
        self.medical_records = MemoryMedicalRecords(self._work.care)
        self.care_schedules = MemoryCareSchedules(self._work.care)
        self.calendar_feeds = MemoryCalendarFeeds(self._work)
        self.reminders = MemoryReminders(self._work)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._store.lock.release()

    def record(self, event: DomainEvent) -> None:
        self._events.append(event)

    def commit(self) -> None:
        now = self._store.clock.now()
        for event in self._events:
            msg_id = self._store.ids.new_id()
            self._work.outbox[msg_id] = OutboxMessage(msg_id, event.topic, event_to_json(event), now)
        self._store.data = self._work
        self._open()

    def rollback(self) -> None:
        self._open()


class MemoryOutbox:
    """OutboxStore over a MemoryStore."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def claim(self, limit: int) -> list[OutboxMessage]:
        with self._store.lock:
            d = self._store.data
            pending = [m for i, m in sorted(d.outbox.items()) if i not in d.sent]
            return pending[:limit]

    def mark_sent(self, ids: Sequence[UUID], now: datetime) -> None:
        with self._store.lock:
            for i in ids:
                self._store.data.sent[i] = now

    def release(self) -> None:
        return None

    def purge_sent(self, before: datetime, limit: int) -> int:
        with self._store.lock:
            d = self._store.data
            old = sorted((at, i) for i, at in d.sent.items() if at < before)[:limit]
            for _, i in old:
                del d.sent[i]
                d.outbox.pop(i, None)
            return len(old)
