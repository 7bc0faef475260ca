"""Ports: what the core needs from the outside world, as Protocols. Adapters implement them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from attrs import frozen

from tailtracker_core.events import DomainEvent
from tailtracker_core.model.accounts import User
from tailtracker_core.model.calendar import CalendarFeed, FeedScope
from tailtracker_core.model.care import CareCompletion, CareSchedule
from tailtracker_core.model.consent import ConsentRecord, ErasureRequest
from tailtracker_core.model.families import Family, Invitation, Membership
from tailtracker_core.model.files import FileKind, MediaType, StoredFile
from tailtracker_core.model.geo import GeoPoint
from tailtracker_core.model.lost_found import (
    FoundReport,
    LostReport,
    NearbyReport,
    PublicLostReport,
    ReportStatus,
    Sighting,
)
from tailtracker_core.model.matching import LostPet, Match
from tailtracker_core.model.medical import MedicalRecord
from tailtracker_core.model.microchip import Microchip
from tailtracker_core.model.notifications import Delivery, DueDelivery, Notification
from tailtracker_core.model.pets import Pet, Species
from tailtracker_core.model.reminders import NotificationPreferences
from tailtracker_core.model.roles import Role
from tailtracker_core.model.subscriptions import Subscription
from tailtracker_core.model.tiers import Tier
from tailtracker_core.model.vaccines import Vaccination

__all__ = [
    "AccessClaims",
    "AlertLedger",
    "BlobNotFound",
    "Cache",
    "CareScheduleRepository",
    "DueCursor",
    "MedicalRecordRepository",
    "VaccinationRepository",
    "CalendarFeedRepository",
    "DueDose",
    "DueSchedule",
    "PetAudience",
    "ReminderRepository",
    "Clock",
    "ConsentRepository",
    "DeliveryRepository",
    "EmailDeliveryError",
    "EmailSuppressionRepository",
    "EmailMessage",
    "EmailSender",
    "ErasureRepository",
    "EventPublisher",
    "IdempotencyRecord",
    "IdempotencyRepository",
    "FamilyRepository",
    "FoundReportRepository",
    "GeoIndex",
    "IndexedReport",
    "LostReportRepository",
    "MatchRepository",
    "SightingRepository",
    "FileRepository",
    "FileStore",
    "ImageProcessor",
    "ImageVariants",
    "IdGenerator",
    "InvitationLookup",
    "InvitationRepository",
    "NearbyReader",
    "NotificationPreferenceRepository",
    "NotificationRepository",
    "OutboxMessage",
    "OutboxStore",
    "PasswordHasher",
    "PermanentEmailError",
    "CareTaskReader",
    "CareTaskSource",
    "PetReader",
    "PetRepository",
    "ProcessedImage",
    "RateDecision",
    "RateLimiter",
    "RefreshClaims",
    "SessionReader",
    "SessionRecord",
    "SessionStore",
    "SubscriptionRepository",
    "TokenSigner",
    "TransientEmailError",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserRepository",
]


# --- small services -----------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> UUID:
        """A new id; ids sort in creation order (UUIDv7), which keyset pagination relies on."""
        ...

    def new_token(self) -> str:
        """A new unguessable URL-safe secret (at least 256 bits)."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


@frozen
class AccessClaims:
    user_id: UUID
    session_id: UUID
    tier: Tier
    expires_at: datetime


@frozen
class RefreshClaims:
    user_id: UUID
    session_id: UUID
    token_id: UUID
    expires_at: datetime


class TokenSigner(Protocol):
    """Signs and checks tokens. Decoding raises AuthenticationFailed on any defect."""

    access_ttl_seconds: int
    refresh_ttl_seconds: int

    def issue_access(self, user_id: UUID, session_id: UUID, tier: Tier, now: datetime) -> str: ...

    def issue_refresh(self, user_id: UUID, session_id: UUID, token_id: UUID, now: datetime) -> str: ...

    def decode_access(self, token: str) -> AccessClaims: ...

    def decode_refresh(self, token: str) -> RefreshClaims: ...


@frozen
class SessionRecord:
    session_id: UUID
    user_id: UUID
    current_token_id: UUID
    created_at: datetime


class SessionStore(Protocol):
    """Sign-in sessions and the one live refresh token of each (rotation with reuse detection)."""

    def create(self, record: SessionRecord, ttl_seconds: int) -> None: ...

    def get(self, session_id: UUID) -> SessionRecord | None: ...

    def rotate(self, session_id: UUID, presented: UUID, new_token_id: UUID, ttl_seconds: int) -> bool:
        """Atomically replace the live token if `presented` is it; False otherwise."""
        ...

    def revoke(self, session_id: UUID) -> None: ...

    def revoke_user(self, user_id: UUID) -> None: ...


class Cache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl_seconds: int) -> None: ...

    def add(self, key: str, value: bytes, ttl_seconds: int) -> bool:
        """Set only if absent; True when this call set it."""
        ...

    def delete(self, key: str) -> None: ...


@frozen
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: int


class RateLimiter(Protocol):
    def hit(self, key: str, rate_per_minute: int, burst: int, cost: int = 1) -> RateDecision:
        """Take `cost` tokens from the bucket `key` (refilled at rate/min, holding at most burst).

        Allowed when the bucket holds at least max(cost, 1) tokens; only an allowed hit takes
        them, so `cost=0` asks without taking.
        """
        ...

    def reset(self, key: str) -> None: ...


# --- email ----------------------------------------------------------------------------------


@frozen
class EmailMessage:
    to: str
    subject: str
    text: str
    idempotency_key: str


class EmailDeliveryError(Exception):
    """The message was not delivered; `code` is the SMTP reply code when there was one."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.code = code


class TransientEmailError(EmailDeliveryError):
    """Worth retrying later: the server is down, busy (4xx) or the connection broke."""


class PermanentEmailError(EmailDeliveryError):
    """Retrying the same message cannot help: the server refused it for good (5xx)."""


class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Deliver or raise: TransientEmailError (retry later) or PermanentEmailError (the
        address or the content is refused for good)."""
        ...

    def send_many(self, messages: Sequence[EmailMessage]) -> list[EmailDeliveryError | None]:
        """Deliver several messages over one connection where the transport has one; never
        raises for a message: its outcome at its position (None: delivered, else the
        TransientEmailError or PermanentEmailError `send` would have raised). One refused
        recipient does not stop the others; a broken connection is opened again once, and
        messages it cannot deliver then are transient failures."""
        ...


# --- persistence ----------------------------------------------------------------------------


class UserRepository(Protocol):
    def add(self, user: User) -> None: ...

    def get(self, user_id: UUID) -> User | None: ...

    def get_by_email(self, email: str) -> User | None: ...

    def get_many(self, user_ids: Sequence[UUID]) -> list[User]: ...

    def save(self, user: User) -> None:
        """Store a changed user whose `version` is one above the stored one; Conflict when
        someone else saved in between (optimistic concurrency). Same for families and pets."""
        ...


class FamilyRepository(Protocol):
    def add(self, family: Family) -> None: ...

    def get(self, family_id: UUID) -> Family | None: ...

    def save(self, family: Family) -> None:
        """Store name, version and the member set as they are now."""
        ...

    def delete(self, family_id: UUID) -> None:
        """Delete the family with its memberships, invitations and pets."""
        ...

    def add_member(self, membership: Membership) -> None:
        """Insert one membership (joining by invitation, before the family is visible)."""
        ...

    def lock(self, family_id: UUID) -> None:
        """Serialise, until commit, changes that count a family's members or pets."""
        ...

    def role_of(self, family_id: UUID, user_id: UUID) -> Role | None: ...

    def roles_of(self, user_id: UUID) -> dict[UUID, Role]:
        """Every family the user belongs to, with the role held there."""
        ...

    def list_for_user(self, user_id: UUID, after: UUID | None, limit: int) -> list[Family]: ...

    def member_ids(self, family_id: UUID) -> list[UUID]:
        """The ids of the family's members in id order, whoever asks: who to notify about the
        family's pet (a sighting, a match). A cross-family read (PostgreSQL: the SECURITY
        DEFINER function `tt_family_member_ids`); never shown to the caller."""
        ...


@frozen
class InvitationLookup:
    invitation: Invitation
    family_name: str
    inviter_name: str


class InvitationRepository(Protocol):
    def add(self, invitation: Invitation) -> None: ...

    def get(self, invitation_id: UUID) -> Invitation | None: ...

    def find_by_token_hash(self, token_hash: str) -> InvitationLookup | None:
        """Look an invitation up by its token, whoever asks (the invitee is not yet a member)."""
        ...

    def save(self, invitation: Invitation) -> None: ...


class PetRepository(Protocol):
    def add(self, pet: Pet) -> None: ...

    def get(self, pet_id: UUID) -> Pet | None: ...

    def save(self, pet: Pet) -> None: ...

    def delete(self, pet_id: UUID) -> None: ...

    def count_in_family(self, family_id: UUID) -> int: ...

    def list(
        self, family_ids: Sequence[UUID], species: Species | None, after: UUID | None, limit: int
    ) -> list[Pet]:
        """Pets of these families in id order, after the cursor id when one is given."""
        ...


class ConsentRepository(Protocol):
    def add(self, record: ConsentRecord) -> None: ...

    def get(self, record_id: UUID) -> ConsentRecord | None: ...

    def history(self, user_id: UUID) -> list[ConsentRecord]:
        """Every record of the user, oldest first."""
        ...

    def histories(self, user_ids: Sequence[UUID]) -> dict[UUID, list[ConsentRecord]]:
        """`history` of several users in one read (planners deciding who may be notified);
        users without records are absent."""
        ...


class SubscriptionRepository(Protocol):
    def add(self, subscription: Subscription) -> None: ...

    def for_users(self, user_ids: Sequence[UUID]) -> list[Subscription]: ...


@frozen
class IdempotencyRecord:
    """The answer given to one client request, kept so that a retry gets it again.

    `key` names the operation and the client's Idempotency-Key (e.g. "POST /v1/pets:<sha256>");
    `fingerprint` is a digest of the request body; `headers` is JSON.
    """

    user_id: UUID
    key: str
    fingerprint: str
    status: int
    body: bytes
    headers: str
    created_at: datetime


class IdempotencyRepository(Protocol):
    """Records written in the same transaction as the change they answer for."""

    def get(self, user_id: UUID, key: str) -> IdempotencyRecord | None: ...

    def add(self, record: IdempotencyRecord) -> None:
        """Conflict when (user_id, key) is already recorded: a twin request committed first."""
        ...

    def purge(self, user_id: UUID, before: datetime) -> None:
        """Forget this user's records made before `before` (they have expired)."""
        ...

    def purge_expired(self, before: datetime, limit: int) -> int:
        """Forget at most `limit` records of any user made before `before`, oldest first; how
        many went. Housekeeping (usecases/housekeeping.py), in a unit of work without an actor."""
        ...


# --- lost and found (docs/lost-and-found.md) ------------------------------------------------


class LostReportRepository(Protocol):
    """Lost reports. `add`, `get`, `save`, `open_for_pet` and `list_for_families` see only the
    reports of the actor's families (row-level security on PostgreSQL). `public` and
    `open_lost_pets` are the two documented cross-family reads (SECURITY DEFINER functions on
    PostgreSQL): the public view, and open reports with their pets' traits for matching,
    sightings and the alert fan-out."""

    def add(self, report: LostReport) -> None:
        """Store a new report; its pet's species is kept with it for the geo index. Conflict
        when the pet already has an open report (a unique rule in the store, so two
        concurrent opens cannot both succeed)."""
        ...

    def get(self, report_id: UUID) -> LostReport | None: ...

    def save(self, report: LostReport) -> None:
        """Store a changed report whose `version` is one above the stored one; Conflict when
        someone else saved in between (optimistic concurrency)."""
        ...

    def open_for_pet(self, pet_id: UUID) -> LostReport | None:
        """The pet's open report, if any (the `existing` of LostReport.open)."""
        ...

    def list_for_families(
        self, family_ids: Sequence[UUID], status: ReportStatus | None, after: UUID | None, limit: int
    ) -> list[LostReport]:
        """Reports of these families in id order, after the cursor id when one is given."""
        ...

    def public(self, report_ids: Sequence[UUID]) -> list[PublicLostReport]:
        """The public views (`public_view`: ~100 m cell, no owner) of these reports, whatever
        their status, in the order asked; unknown ids are left out. Anyone may ask."""
        ...

    def open_lost_pets(self, report_ids: Sequence[UUID]) -> list[LostPet]:
        """These reports with their pets' traits, in the order asked, open ones only (others
        and unknown ids left out), whoever asks: what matching, sightings and the alert
        fan-out need across families. Never shown as is to a non-member."""
        ...

    def open_ids_with_chip(self, chip: Microchip, species: Species, limit: int) -> list[UUID]:
        """Ids of the open reports whose pet is of `species` and carries `chip`, in id order,
        at most `limit`, whoever asks and wherever the pet went missing: the certain-match
        candidates of a found report with a chip (docs/decisions.md D36)."""
        ...


class FoundReportRepository(Protocol):
    """Found reports. `get` and `list_for_reporter` see the reporter's own reports and, on
    PostgreSQL, those matched with a lost report of one of the actor's families."""

    def add(self, report: FoundReport) -> None: ...

    def get(self, report_id: UUID) -> FoundReport | None: ...

    def list_for_reporter(self, reporter_id: UUID, after: UUID | None, limit: int) -> list[FoundReport]:
        """The reporter's found reports in id order, after the cursor id when one is given."""
        ...

    def candidates(
        self,
        point: GeoPoint,
        radius_km: float,
        species: Species,
        seen_from: datetime,
        seen_until: datetime,
        limit: int,
    ) -> list[FoundReport]:
        """Found reports of `species` seen in [seen_from, seen_until] within `radius_km`
        (great-circle, boundary included) of `point`, nearest first, whoever filed them:
        the candidates of matching a newly opened lost report (a cross-reporter read)."""
        ...

    def with_chip(
        self, chip: Microchip, species: Species, seen_from: datetime, limit: int
    ) -> list[FoundReport]:
        """Found reports of `species` with `chip` seen at or after `seen_from`, wherever and
        however late, latest seen first (ties by id), at most `limit`, whoever filed them: the
        certain-match candidates of a newly opened lost report whose pet is chipped (D36)."""
        ...


class SightingRepository(Protocol):
    def add(self, sighting: Sighting) -> None: ...

    def list_for_report(self, report_id: UUID, after: UUID | None, limit: int) -> list[Sighting]:
        """The report's sightings in id order (the family's, under row-level security)."""
        ...


class MatchRepository(Protocol):
    """One Match per (lost report, found report) pair, kept at its latest score."""

    def upsert(self, match: Match) -> bool:
        """Store the match, replacing the pair's earlier one; True when the pair is new
        (notices go out only for new pairs above the threshold; the pair's `match_key`
        keeps them once-only even if two writers race)."""
        ...

    def for_lost_report(self, lost_report_id: UUID, limit: int) -> list[Match]:
        """Best first: certain (chip) matches, then by score, then nearest, then ids."""
        ...

    def for_found_report(self, found_report_id: UUID, limit: int) -> list[Match]:
        """Best first, as `for_lost_report`."""
        ...


@frozen
class IndexedReport:
    """What the geo index keeps of an open lost report."""

    report_id: UUID
    location: GeoPoint
    species: Species


class GeoIndex(Protocol):
    """Spatial queries over open lost reports and users' alert locations.

    Distances are great-circle on the core's sphere (`geo.distance_km`), boundaries included,
    whatever the backend's own metric: adapters prefilter with their index (PostGIS, a
    bounding box, Redis GEO) and decide with `distance_km`. The database adapters ARE the
    index (put/remove do nothing); a cache adapter (Redis) is fed by put/remove from the
    outbox events and re-checks every candidate against the database, so a closed report
    is absent at once even before its event is handled.
    """

    def nearby_open_reports(
        self, point: GeoPoint, radius_km: float, species: Species | None, limit: int
    ) -> list[tuple[UUID, float]]:
        """(report id, distance km) of open lost reports within `radius_km` of `point`,
        nearest first (ties by id), at most `limit`; of one species when given."""
        ...

    def alert_candidates(
        self, point: GeoPoint, radius_km: float, after_user_id: UUID | None, limit: int
    ) -> list[tuple[UUID, float]]:
        """(user id, distance km) of users whose alert location lies within `radius_km` of
        `point` AND within their own `alert_radius_km`, in user id order after
        `after_user_id` (pages for batching), at most `limit`. Consent, the family exclusion
        and the daily cap are the use case's (`lost_found.alert_recipients`)."""
        ...

    def open_reports(self, after: UUID | None, limit: int) -> list[IndexedReport]:
        """Every open lost report in id order (a page after `after`): to rebuild a cache."""
        ...

    def put(self, entry: IndexedReport) -> None:
        """A report opened (cache adapters add it; idempotent)."""
        ...

    def remove(self, report_id: UUID) -> None:
        """A report was found or closed (cache adapters drop it; idempotent)."""
        ...


# --- care and health (docs/care.md) -----------------------------------------------------------


@frozen
class DueCursor:
    """A row whose reminder cursor has come: what the reminder scheduler needs to load it."""

    id: UUID
    pet_id: UUID
    family_id: UUID
    next_fire_at: datetime  # aware, UTC


class VaccinationRepository(Protocol):
    """Doses of a pet. Each row carries `next_fire_at`, the reminder cursor (model/cursors.py),
    set by the use cases on every change and moved on by the scheduler with `advance`."""

    def add(self, dose: Vaccination, family_id: UUID, next_fire_at: datetime | None) -> None: ...

    def get(self, dose_id: UUID) -> Vaccination | None: ...

    def save(self, dose: Vaccination) -> None:
        """Store a changed dose whose `version` is one above the stored one; Conflict otherwise.
        The cursor is left alone (set it with `advance`)."""
        ...

    def delete(self, dose_id: UUID) -> None: ...

    def for_pet(self, pet_id: UUID) -> list[Vaccination]:
        """Every dose of the pet, in id order (a pet has tens at most)."""
        ...

    def next_fire_at(self, dose_id: UUID) -> datetime | None: ...

    def advance(self, dose_id: UUID, next_fire_at: datetime | None) -> None:
        """Move the dose's cursor (None: nothing more to remind)."""
        ...

    def due(self, before: datetime, limit: int) -> list[DueCursor]:
        """Doses whose cursor is at or before `before`, earliest first, at most `limit`."""
        ...


class MedicalRecordRepository(Protocol):
    def add(self, record: MedicalRecord, family_id: UUID) -> None: ...

    def get(self, record_id: UUID) -> MedicalRecord | None: ...

    def save(self, record: MedicalRecord) -> None:
        """Optimistic: `version` one above the stored one; Conflict otherwise."""
        ...

    def delete(self, record_id: UUID) -> None: ...

    def list_for_pet(self, pet_id: UUID, after: UUID | None, limit: int) -> list[MedicalRecord]:
        """The pet's records in id order, after the cursor id when one is given."""
        ...


class CareScheduleRepository(Protocol):
    """Care schedules with their reminder cursor, and the completions of their occurrences."""

    def add(self, schedule: CareSchedule, family_id: UUID, next_fire_at: datetime | None) -> None: ...

    def get(self, schedule_id: UUID) -> CareSchedule | None: ...

    def save(self, schedule: CareSchedule, next_fire_at: datetime | None) -> None:
        """Optimistic: `version` one above the stored one; Conflict otherwise. Sets the cursor."""
        ...

    def delete(self, schedule_id: UUID) -> None:
        """Delete the schedule with its completions."""
        ...

    def for_pet(self, pet_id: UUID) -> list[CareSchedule]:
        """Every schedule of the pet, in id order."""
        ...

    def next_fire_at(self, schedule_id: UUID) -> datetime | None: ...

    def advance(self, schedule_id: UUID, next_fire_at: datetime | None) -> None: ...

    def due(self, before: datetime, limit: int) -> list[DueCursor]:
        """Schedules whose cursor is at or before `before`, earliest first, at most `limit`."""
        ...

    def add_completion(self, completion: CareCompletion) -> CareCompletion:
        """Store the completion unless its (schedule, occurrence key) is already completed;
        return the stored one either way (the first completion wins, never a duplicate)."""
        ...

    def completions(
        self, schedule_ids: Sequence[UUID], start: datetime, end: datetime
    ) -> list[CareCompletion]:
        """Completions of these schedules whose occurrence starts in [start, end), by start."""
        ...


class CalendarFeedRepository(Protocol):
    """Calendar feed tokens (stored as SHA-256 hashes), one live feed per user and target."""

    def add(self, feed: CalendarFeed) -> None:
        """Conflict when the user already has a live feed of that pet or family."""
        ...

    def live_for(self, scope: FeedScope, target_id: UUID, user_id: UUID) -> CalendarFeed | None:
        """The user's live (not revoked) feed of this pet or family."""
        ...

    def save(self, feed: CalendarFeed) -> None: ...

    def find_by_token_hash(self, token_hash: str) -> CalendarFeed | None:
        """The feed behind a token, whoever asks (a calendar app signs in as nobody), revoked
        or not; None once its pet, family or creator no longer exists."""
        ...


class AlertLedger(Protocol):
    """One row per lost-pet alert decided (report, recipient), with the recipient's local
    day: what makes an alert once-only per report and caps alerts per recipient and day
    (docs/lost-and-found.md, "Alerts"). Written by the fan-out for anyone (PostgreSQL: the
    SECURITY DEFINER function `tt_claim_lost_pet_alert`); a user reads only their own."""

    def claim(self, user_id: UUID, report_id: UUID, day: date, cap: int, now: datetime) -> bool:
        """Record the alert of `report_id` to `user_id` on their local `day` and return True,
        unless one for this report and user exists (any day) or `cap` alerts of the user are
        recorded for `day` (then False, nothing written). Atomic per user: concurrent claims
        for one user (parallel batches of different reports) never exceed `cap`."""
        ...

    def claim_many(
        self, report_id: UUID, claims: Sequence[tuple[UUID, date]], cap: int, now: datetime
    ) -> set[UUID]:
        """`claim` for several users (each with their local day) of one report, in one round
        trip where the store allows; returns the users whose claim was recorded."""
        ...

    def count(self, user_id: UUID, day: date) -> int:
        """Alerts recorded for the user on that local day."""
        ...


class DeliveryRepository(Protocol):
    """Deliveries of notifications. On PostgreSQL a user sees only their own; anyone may add
    one for anyone (notifying is what other people's actions do); `queue_due` is the one
    cross-user path (a SECURITY DEFINER function), for schedulers."""

    def add(self, delivery: Delivery) -> bool:
        """Insert; False (and nothing changes) when a delivery with its key exists."""
        ...

    def add_many(self, deliveries: Sequence[Delivery]) -> set[UUID]:
        """Insert those whose key is new (a key repeated within the batch counts once, the
        first wins); the ids that went in. One round trip per chunk where the store can."""
        ...

    def get(self, delivery_id: UUID) -> Delivery | None: ...

    def get_by_key(self, key: str) -> Delivery | None: ...

    def save(self, delivery: Delivery) -> None:
        """Store a changed delivery whose `version` is one above the stored one; Conflict when
        another worker saved in between."""
        ...

    def queue_due(self, now: datetime, limit: int) -> list[DueDelivery]:
        """Move up to `limit` scheduled deliveries whose deliver_at <= now to queued, earliest
        first, for every user, and return them. Concurrent callers get disjoint sets
        (PostgreSQL: FOR UPDATE SKIP LOCKED)."""
        ...

    def lock_many(self, delivery_ids: Sequence[UUID]) -> list[Delivery]:
        """The deliveries among these ids, for EVERY user (the batch delivery worker's one
        cross-user read; PostgreSQL: a SECURITY DEFINER function), in id order, each locked
        until the transaction ends (PostgreSQL: FOR UPDATE, taken in id order so two batches
        sharing rows cannot deadlock; SQLite and memory: the unit of work is the only writer).
        Unknown ids are left out."""
        ...

    def save_many(self, deliveries: Sequence[Delivery]) -> set[UUID]:
        """Store changed deliveries of any users (the state columns: status, attempts,
        last_error, sent_at, lease_until, version), each only where the stored version is one
        below its own; returns the ids stored. A delivery changed by someone else meanwhile is
        left as it is (and not in the result). One round trip where the store can."""
        ...


class NotificationRepository(Protocol):
    """In-app notifications; a user sees only their own."""

    def add(self, notification: Notification) -> bool:
        """Insert; False when one exists for the same delivery (a redelivered task)."""
        ...

    def add_many(self, notifications: Sequence[Notification]) -> set[UUID]:
        """Insert in-app notifications of any users (the batch delivery worker) and return
        the delivery ids that went in. Skipped: one whose delivery already has a notification
        (a replay), and one that does not belong to an in-app delivery of its user
        (PostgreSQL: a SECURITY DEFINER function that checks exactly that)."""
        ...

    def get(self, notification_id: UUID) -> Notification | None: ...

    def save(self, notification: Notification) -> None: ...

    def list_for_user(
        self, user_id: UUID, unread_only: bool, before: UUID | None, limit: int
    ) -> list[Notification]:
        """Newest first (descending id), older than the cursor id when one is given."""
        ...

    def mark_all_read(self, user_id: UUID, now: datetime) -> int:
        """Mark every unread notification of the user read; how many changed."""
        ...


class NotificationPreferenceRepository(Protocol):
    def get(self, user_id: UUID) -> NotificationPreferences | None:
        """The user's stored choices; None when they never chose (the defaults apply)."""
        ...

    def put(self, user_id: UUID, preferences: NotificationPreferences, now: datetime) -> None:
        """Replace the user's choices and quiet hours."""
        ...

    def get_many(self, user_ids: Sequence[UUID]) -> dict[UUID, NotificationPreferences]:
        """Stored choices of several users (planners deciding who gets what); users who never
        chose are absent. On PostgreSQL a SECURITY DEFINER function (cross-user, read-only)."""
        ...


class EmailSuppressionRepository(Protocol):
    """Addresses disabled after a permanent failure (a bounce): never emailed again until
    the user changes their address or support removes the entry."""

    def add(self, email: str, reason: str, now: datetime) -> None:
        """Record (or keep) the suppression; compared case-insensitively."""
        ...

    def is_suppressed(self, email: str) -> bool: ...

    def suppressed_among(self, emails: Sequence[str]) -> set[str]:
        """The addresses among these that are suppressed, lower-cased (one query, for
        planners deciding about many recipients at once)."""
        ...

    def remove(self, email: str) -> None: ...


class FileRepository(Protocol):
    """Metadata of stored files (the bytes are in a FileStore)."""

    def add(self, file: StoredFile) -> None: ...

    def get(self, file_id: UUID) -> StoredFile | None: ...

    def get_many(self, file_ids: Sequence[UUID]) -> list[StoredFile]:
        """The files among these ids that exist (and the actor may see), in any order."""
        ...

    def list_for_pet(
        self, pet_id: UUID, kind: FileKind | None, after: UUID | None, limit: int
    ) -> list[StoredFile]:
        """A pet's files (of one kind, or all) in id order, after the cursor id when given."""
        ...

    def delete(self, file_id: UUID) -> None: ...

    def usage_of_family(self, family_id: UUID) -> int:
        """Bytes the family's files take in storage: stored copies and thumbnails."""
        ...

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these blob keys a file row names (copy or thumbnail) in ANY family, whoever
        asks: the one cross-family read of files (a SECURITY DEFINER function on PostgreSQL),
        for the orphan-blob sweep. Reveals nothing a caller could not already name."""
        ...


# --- the reminder scheduler (docs/reminders.md) ------------------------------------------------


@frozen
class DueSchedule:
    """A care schedule whose reminder cursor has come, claimed by one scheduler transaction."""

    schedule: CareSchedule
    family_id: UUID
    next_fire_at: datetime  # aware, UTC


@frozen
class DueDose:
    """A vaccination whose reminder cursor has come, claimed by one scheduler transaction."""

    dose: Vaccination
    family_id: UUID
    next_fire_at: datetime  # aware, UTC


@frozen
class PetAudience:
    """Who may be reminded about a pet: its family's members and their roles."""

    pet_id: UUID
    pet_name: str
    family_id: UUID
    members: Mapping[UUID, Role]


class ReminderRepository(Protocol):
    """The reminder scheduler's access across families, with no acting user (on PostgreSQL
    through SECURITY DEFINER functions; docs/reminders.md). Cursors move with
    `uow.care_schedules.advance` / `uow.vaccinations.advance` in the same transaction."""

    def claim_care_schedules(self, before: datetime, limit: int) -> list[DueSchedule]:
        """Schedules whose cursor is strictly before `before`, earliest first, at most `limit`,
        locked until this transaction ends; rows another transaction holds are skipped (not
        waited for), so two schedulers take disjoint batches."""
        ...

    def claim_vaccinations(self, before: datetime, limit: int) -> list[DueDose]:
        """Doses whose cursor is strictly before `before`, as `claim_care_schedules`."""
        ...

    def advance_care_schedules(self, cursors: Mapping[UUID, datetime | None]) -> None:
        """Move many schedules' cursors at once (one statement; `care_schedules.advance` is
        the one-row form)."""
        ...

    def advance_vaccinations(self, cursors: Mapping[UUID, datetime | None]) -> None:
        """Move many doses' cursors at once."""
        ...

    def audiences(self, pet_ids: Sequence[UUID]) -> dict[UUID, PetAudience]:
        """Each existing pet's name and its family's members (pets that are gone are absent)."""
        ...

    def completions(
        self, schedule_ids: Sequence[UUID], start: datetime, end: datetime
    ) -> list[CareCompletion]:
        """Completions of these schedules (any family) whose occurrence starts in [start, end)."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Events recorded here reach the outbox in that same transaction."""

    users: UserRepository
    families: FamilyRepository
    invitations: InvitationRepository
    pets: PetRepository
    consents: ConsentRepository
    subscriptions: SubscriptionRepository
    erasures: ErasureRepository
    idempotency: IdempotencyRepository
    lost_reports: LostReportRepository
    found_reports: FoundReportRepository
    sightings: SightingRepository
    matches: MatchRepository
    alert_ledger: AlertLedger
    deliveries: DeliveryRepository
    notifications: NotificationRepository
    notification_preferences: NotificationPreferenceRepository
    email_suppressions: EmailSuppressionRepository
    files: FileRepository
    vaccinations: VaccinationRepository
    medical_records: MedicalRecordRepository
    care_schedules: CareScheduleRepository
    calendar_feeds: CalendarFeedRepository
    reminders: ReminderRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    def record(self, event: DomainEvent) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[UUID | None], UnitOfWork]
"""Opens a unit of work acting for a user (row-level security reads it), or for nobody."""


# --- outbox relay ---------------------------------------------------------------------------


@frozen
class OutboxMessage:
    id: UUID
    topic: str
    payload: str  # JSON
    created_at: datetime


class OutboxStore(Protocol):
    def claim(self, limit: int) -> list[OutboxMessage]:
        """Unsent messages, oldest first, locked against other relays until mark_sent/release."""
        ...

    def mark_sent(self, ids: Sequence[UUID], now: datetime) -> None: ...

    def release(self) -> None:
        """End the claim without marking (a publish failed): the messages stay unsent."""
        ...

    def purge_sent(self, before: datetime, limit: int) -> int:
        """Delete at most `limit` messages sent before `before`, the earliest sent first, in a
        transaction of its own; how many went. Unsent messages are never deleted, however old."""
        ...


class EventPublisher(Protocol):
    def publish(self, message: OutboxMessage) -> None:
        """Hand one message to the queue; raise when the broker cannot take it."""
        ...


class ErasureRepository(Protocol):
    def add(self, request: ErasureRequest) -> None: ...

    def open_for_user(self, user_id: UUID) -> ErasureRequest | None:
        """The user's erasure request that is not completed yet, if any."""
        ...


# --- the read side (queries): async, one round trip where the adapter can ---------------------


class PetReader(Protocol):
    """Pets as one actor may see them, for the hot read endpoints (CQRS-style read side).

    Answers come from the same rows the unit of work writes; an adapter with row-level
    security reads as `actor`, so a non-member gets nothing even if the policy check were
    skipped.
    """

    async def pet_with_role(self, actor: UUID, pet_id: UUID) -> tuple[Pet, Role | None] | None:
        """The pet and the actor's role in its family; None when the pet is not visible."""
        ...

    async def family_pets(
        self, actor: UUID, family_id: UUID | None, species: Species | None, after: UUID | None, limit: int
    ) -> tuple[Role | None, list[Pet]]:
        """With `family_id`: the actor's role in that family and a page of its pets (empty when
        not a member). Without: None and a page of the pets of every family the actor is in.
        Pages are ordered by id, after `after`, at most `limit` long."""
        ...

    async def close(self) -> None: ...


@frozen
class CareTaskSource:
    """What a pet's care tasks in a window are expanded from: the actor's role in the pet's
    family (None: not a member), the pet's schedules by id, and their completions of
    occurrences starting in the window, by start then key."""

    role: Role | None
    schedules: list[CareSchedule]
    completions: list[CareCompletion]


class CareTaskReader(Protocol):
    """A pet's schedules and completions for the care-tasks read (CQRS-style read side).

    The expansion into tasks stays in the core (`usecases.care_queries`); an adapter answers
    from the rows the unit of work writes, in one round trip where it can, and one with
    row-level security reads as `actor`.
    """

    async def care_source(
        self, actor: UUID, pet_id: UUID, start: datetime, end: datetime
    ) -> CareTaskSource | None:
        """None when the pet is not visible to the actor. For a non-member the schedules and
        completions are empty. Completions are those with `start <= occurs_at < end`."""
        ...

    async def close(self) -> None: ...


class SessionReader(Protocol):
    """The read half of SessionStore, async: is this sign-in session still open?"""

    async def get(self, session_id: UUID) -> SessionRecord | None: ...


class NearbyReader(Protocol):
    """The public nearby search of open lost reports, for its hot endpoint (read side).

    Answers as `usecases.lost_found.nearby_public` does over the GeoIndex and the public
    views: open reports only (a report closed a moment ago is absent at once), within
    `radius_km` by the core's `distance_km` to the EXACT point (boundary included), nearest
    first by that distance, ties by id, at most `limit`; of one species when given. Each hit
    carries the public view and the distance to its PUBLIC (~100 m) point, never to the exact
    one. The caller checks the radius against the tier before calling (no I/O for a refusal).
    """

    async def nearby(
        self, point: GeoPoint, radius_km: float, species: Species | None, limit: int
    ) -> list[NearbyReport]: ...

    async def close(self) -> None: ...


# --- files: blob storage and image processing (docs/files.md) ---------------------------------------


class BlobNotFound(LookupError):
    """No blob under this key."""


class FileStore(Protocol):
    """Bytes by key. Keys are generated by the core (`model.files.storage_keys`): ids and
    slashes only, never a client's name. Writes are all-or-nothing: a reader sees the whole
    blob or none."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        """The blob in chunks; BlobNotFound is raised by this call (before any chunk) when
        there is none. Close the iterator (or exhaust it) to free what it holds."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Forget the blob; no error when there is none (deletes are retried)."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Forget every blob whose key starts with `prefix` (a pet's or a family's); how many."""
        ...

    def keys(self, prefix: str, written_before: datetime | None = None) -> Iterator[str]:
        """The keys under `prefix` (ending in '/'), in no particular order; with
        `written_before`, only blobs last written before then (the orphan sweep's grace).
        Left-overs of interrupted writes are listed too, so the sweep removes them."""
        ...


@frozen
class ProcessedImage:
    data: bytes
    content_type: MediaType
    width: int
    height: int


@frozen
class ImageVariants:
    original: ProcessedImage  # re-encoded, oriented, without metadata, at most max_edge
    thumbnail: ProcessedImage


class ImageProcessor(Protocol):
    def process(
        self, data: bytes, media_type: MediaType, *, max_pixels: int, max_edge: int, thumbnail_edge: int
    ) -> ImageVariants:
        """Decode (refusing more than `max_pixels` before decoding them), apply the EXIF
        orientation, drop every metadata block (EXIF, GPS, XMP, comments), re-encode, and make
        a thumbnail. FileRejected when the image is corrupt, truncated or too large."""
        ...

    def supports(self, media_type: MediaType) -> bool:
        """Whether this processor can decode the type (HEIC needs a HEIF decoder)."""
        ...
