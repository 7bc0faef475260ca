"""The repositories of the SQL unit of work. Each runs its statements on the unit of work's
connection (opening its transaction on first use), so all of them share one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Connection,
    Insert,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    column,
    delete,
    func,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sql import mapping as m
from adapters.sql.tables import (
    UtcDateTime,
    consent_records,
    erasure_requests,
    families,
    idempotency_keys,
    invitations,
    memberships,
    pets,
    subscriptions,
    users,
)
from tailtracker_core.errors import Conflict
from tailtracker_core.model.accounts import User, normalise_email
from tailtracker_core.model.consent import ConsentRecord, ErasureRequest
from tailtracker_core.model.families import Family, Invitation, Membership
from tailtracker_core.model.pets import Pet, Species
from tailtracker_core.model.roles import Role
from tailtracker_core.model.subscriptions import Subscription
from tailtracker_core.ports import IdempotencyRecord, InvitationLookup

__all__ = [
    "SqlConsents",
    "SqlErasures",
    "SqlFamilies",
    "SqlIdempotency",
    "SqlInvitations",
    "SqlPets",
    "SqlSubscriptions",
    "SqlUsers",
]

ConnectionSource = Callable[[], Connection]


def _insert_unless_duplicate(conn: Connection, table: Table, row: dict[str, Any]) -> bool:
    """Insert, or do nothing on a unique violation; True when the row went in.

    ON CONFLICT DO NOTHING rather than catching IntegrityError: on PostgreSQL a failed
    statement aborts the whole transaction, and the caller may want to carry on after a
    Conflict (as it can with the in-memory unit of work).
    """
    stmt: Insert
    if conn.dialect.name == "postgresql":
        stmt = postgresql.insert(table).values(row).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(table).values(row).on_conflict_do_nothing()
    # An INSERT's rowcount is kept only when asked for (SQLAlchemy 2.0.28+).
    return conn.execute(stmt.execution_options(preserve_rowcount=True)).rowcount == 1


class SqlUsers:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, user: User) -> None:
        if not _insert_unless_duplicate(self._conn(), users, m.user_row(user)):
            raise Conflict("an account with this email already exists; sign in instead")

    def get(self, user_id: UUID) -> User | None:
        row = self._conn().execute(select(users).where(users.c.id == user_id)).mappings().first()
        return m.user_from(row) if row else None

    def get_by_email(self, email: str) -> User | None:
        stmt = select(users).where(users.c.email_key == normalise_email(email))
        row = self._conn().execute(stmt).mappings().first()
        return m.user_from(row) if row else None

    def get_many(self, user_ids: Sequence[UUID]) -> list[User]:
        if not user_ids:
            return []
        rows = self._conn().execute(select(users).where(users.c.id.in_(list(user_ids)))).mappings()
        found = {r["id"]: m.user_from(r) for r in rows}
        return [found[i] for i in dict.fromkeys(user_ids) if i in found]

    def save(self, user: User) -> None:
        row = m.user_row(user)
        stmt = update(users).where(users.c.id == user.id, users.c.version == user.version - 1)
        if self._conn().execute(stmt.values(row)).rowcount == 0:
            _missing_or_stale(self._conn(), users, user.id, "account")
            self.add(user)


def _missing_or_stale(conn: Connection, table: Table, row_id: UUID, what: str) -> None:
    """After an update matched no row: raise when the row exists (someone saved a newer
    version meanwhile: optimistic concurrency), return when it is missing (save inserts)."""
    if conn.execute(select(table.c.id).where(table.c.id == row_id)).first() is not None:
        raise Conflict(f"this {what} was changed by someone else at the same time; read it again and retry")


def _members_of(conn: Connection, family_ids: Sequence[UUID]) -> dict[UUID, list[Membership]]:
    by_family: dict[UUID, list[Membership]] = {f: [] for f in family_ids}
    if family_ids:
        stmt = select(memberships).where(memberships.c.family_id.in_(list(family_ids)))
        for r in conn.execute(stmt).mappings():
            by_family[r["family_id"]].append(m.membership_from(r))
    return by_family


def _owners_first(members: Sequence[Membership]) -> list[Membership]:
    # Under row-level security an owner's membership must exist before others are added.
    return sorted(members, key=lambda ms: (ms.role is not Role.OWNER, ms.joined_at, ms.user_id))


class SqlFamilies:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, family: Family) -> None:
        conn = self._conn()
        conn.execute(families.insert().values(m.family_row(family)))
        for ms in _owners_first(list(family.members.values())):
            conn.execute(memberships.insert().values(m.membership_row(ms)))

    def get(self, family_id: UUID) -> Family | None:
        # One round trip: the family and its members through an outer join.
        stmt = (
            select(
                families,
                memberships.c.user_id.label("m_user_id"),
                memberships.c.role.label("m_role"),
                memberships.c.joined_at.label("m_joined_at"),
            )
            .outerjoin(memberships, memberships.c.family_id == families.c.id)
            .where(families.c.id == family_id)
        )
        rows = self._conn().execute(stmt).mappings().all()
        if not rows:
            return None
        members = [
            Membership(family_id, r["m_user_id"], Role(r["m_role"]), r["m_joined_at"])
            for r in rows
            if r["m_user_id"] is not None
        ]
        return m.family_from(rows[0], members)

    def save(self, family: Family) -> None:
        conn = self._conn()
        result = conn.execute(
            update(families)
            .where(families.c.id == family.id, families.c.version == family.version - 1)
            .values(name=family.name, version=family.version)
        )
        if result.rowcount == 0:
            _missing_or_stale(conn, families, family.id, "family")
            self.add(family)
            return
        stored = {ms.user_id: ms for ms in _members_of(conn, [family.id])[family.id]}
        wanted = family.members
        gone = [u for u in stored if u not in wanted]
        if gone:
            conn.execute(
                delete(memberships).where(
                    memberships.c.family_id == family.id, memberships.c.user_id.in_(gone)
                )
            )
        for ms in _owners_first([w for u, w in wanted.items() if stored.get(u) != w]):
            if ms.user_id in stored:
                conn.execute(
                    update(memberships)
                    .where(memberships.c.family_id == family.id, memberships.c.user_id == ms.user_id)
                    .values(role=ms.role.value, joined_at=ms.joined_at)
                )
            else:
                conn.execute(memberships.insert().values(m.membership_row(ms)))

    def delete(self, family_id: UUID) -> None:
        # Memberships, invitations and pets go with it (ON DELETE CASCADE).
        self._conn().execute(delete(families).where(families.c.id == family_id))

    def add_member(self, membership: Membership) -> None:
        if not _insert_unless_duplicate(self._conn(), memberships, m.membership_row(membership)):
            raise Conflict("already a member of this family")

    def lock(self, family_id: UUID) -> None:
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            conn.execute(select(families.c.id).where(families.c.id == family_id).with_for_update())
        # SQLite: every unit of work is a BEGIN IMMEDIATE transaction; writers are serialised.

    def role_of(self, family_id: UUID, user_id: UUID) -> Role | None:
        stmt = select(memberships.c.role).where(
            memberships.c.family_id == family_id, memberships.c.user_id == user_id
        )
        role = self._conn().execute(stmt).scalar()
        return Role(role) if role is not None else None

    def roles_of(self, user_id: UUID) -> dict[UUID, Role]:
        stmt = (
            select(memberships.c.family_id, memberships.c.role)
            .where(memberships.c.user_id == user_id)
            .order_by(memberships.c.family_id)
        )
        return {r.family_id: Role(r.role) for r in self._conn().execute(stmt)}

    def list_for_user(self, user_id: UUID, after: UUID | None, limit: int) -> list[Family]:
        conn = self._conn()
        stmt = (
            select(families)
            .join(
                memberships, and_(memberships.c.family_id == families.c.id, memberships.c.user_id == user_id)
            )
            .order_by(families.c.id)
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(families.c.id > after)
        rows = conn.execute(stmt).mappings().all()
        members = _members_of(conn, [r["id"] for r in rows])
        return [m.family_from(r, members[r["id"]]) for r in rows]

    def member_ids(self, family_id: UUID) -> list[UUID]:
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            # Across families (the caller is usually not a member): a SECURITY DEFINER function.
            rows = conn.execute(text("SELECT tt_family_member_ids(:f)"), {"f": str(family_id)})
            return sorted(UUID(str(r[0])) for r in rows)
        stmt = select(memberships.c.user_id).where(memberships.c.family_id == family_id)
        return sorted(r[0] for r in conn.execute(stmt))


# PostgreSQL: the invitee is not a member yet, so row-level security hides the invitation's
# family and inviter; this SECURITY DEFINER function (see the migration) answers instead.
_LOOKUP_PG = text("SELECT * FROM tt_invitation_by_token(:token_hash)").columns(
    *invitations.c, column("family_name", String), column("inviter_name", String)
)


class SqlInvitations:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, invitation: Invitation) -> None:
        self._conn().execute(invitations.insert().values(m.invitation_row(invitation)))

    def get(self, invitation_id: UUID) -> Invitation | None:
        stmt = select(invitations).where(invitations.c.id == invitation_id)
        row = self._conn().execute(stmt).mappings().first()
        return m.invitation_from(row) if row else None

    def find_by_token_hash(self, token_hash: str) -> InvitationLookup | None:
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            row = conn.execute(_LOOKUP_PG, {"token_hash": token_hash}).mappings().first()
        else:
            sel = (
                select(
                    invitations,
                    families.c.name.label("family_name"),
                    users.c.display_name.label("inviter_name"),
                )
                .join(families, families.c.id == invitations.c.family_id)
                .outerjoin(users, users.c.id == invitations.c.invited_by)
                .where(invitations.c.token_hash == token_hash)
            )
            row = conn.execute(sel).mappings().first()
        if row is None:
            return None
        return InvitationLookup(m.invitation_from(row), row["family_name"], row["inviter_name"] or "")

    def save(self, invitation: Invitation) -> None:
        row = m.invitation_row(invitation)
        result = self._conn().execute(
            update(invitations).where(invitations.c.id == invitation.id).values(row)
        )
        if result.rowcount == 0:
            self.add(invitation)


class SqlPets:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, pet: Pet) -> None:
        self._conn().execute(pets.insert().values(m.pet_row(pet)))

    def get(self, pet_id: UUID) -> Pet | None:
        row = self._conn().execute(select(pets).where(pets.c.id == pet_id)).mappings().first()
        return m.pet_from(row) if row else None

    def save(self, pet: Pet) -> None:
        stmt = update(pets).where(pets.c.id == pet.id, pets.c.version == pet.version - 1)
        if self._conn().execute(stmt.values(m.pet_row(pet))).rowcount == 0:
            _missing_or_stale(self._conn(), pets, pet.id, "pet")
            self.add(pet)

    def delete(self, pet_id: UUID) -> None:
        self._conn().execute(delete(pets).where(pets.c.id == pet_id))

    def count_in_family(self, family_id: UUID) -> int:
        stmt = select(func.count()).select_from(pets).where(pets.c.family_id == family_id)
        return int(self._conn().execute(stmt).scalar_one())

    def list(
        self, family_ids: Sequence[UUID], species: Species | None, after: UUID | None, limit: int
    ) -> list[Pet]:
        if not family_ids or limit <= 0:
            return []
        stmt = select(pets).where(pets.c.family_id.in_(list(family_ids))).order_by(pets.c.id).limit(limit)
        if species is not None:
            stmt = stmt.where(pets.c.species == species.value)
        if after is not None:
            stmt = stmt.where(pets.c.id > after)
        return [m.pet_from(r) for r in self._conn().execute(stmt).mappings()]


class SqlConsents:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, record: ConsentRecord) -> None:
        self._conn().execute(consent_records.insert().values(m.consent_row(record)))

    def get(self, record_id: UUID) -> ConsentRecord | None:
        stmt = select(consent_records).where(consent_records.c.id == record_id)
        row = self._conn().execute(stmt).mappings().first()
        return m.consent_from(row) if row else None

    def history(self, user_id: UUID) -> list[ConsentRecord]:
        stmt = (
            select(consent_records)
            .where(consent_records.c.user_id == user_id)
            .order_by(consent_records.c.recorded_at, consent_records.c.id)
        )
        return [m.consent_from(r) for r in self._conn().execute(stmt).mappings()]

    def histories(self, user_ids: Sequence[UUID]) -> dict[UUID, list[ConsentRecord]]:
        out: dict[UUID, list[ConsentRecord]] = {}
        if not user_ids:
            return out
        stmt = (
            select(consent_records)
            .where(consent_records.c.user_id.in_(list(dict.fromkeys(user_ids))))
            .order_by(consent_records.c.user_id, consent_records.c.recorded_at, consent_records.c.id)
        )
        for r in self._conn().execute(stmt).mappings():
            record = m.consent_from(r)
            out.setdefault(record.user_id, []).append(record)
        return out


class SqlSubscriptions:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, subscription: Subscription) -> None:
        self._conn().execute(subscriptions.insert().values(m.subscription_row(subscription)))

    def for_users(self, user_ids: Sequence[UUID]) -> list[Subscription]:
        if not user_ids:
            return []
        stmt = (
            select(subscriptions)
            .where(subscriptions.c.user_id.in_(list(user_ids)))
            .order_by(subscriptions.c.id)
        )
        return [m.subscription_from(r) for r in self._conn().execute(stmt).mappings()]


class SqlIdempotency:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def get(self, user_id: UUID, key: str) -> IdempotencyRecord | None:
        t = idempotency_keys
        row = self._conn().execute(select(t).where(t.c.user_id == user_id, t.c.key == key)).mappings().first()
        if row is None:
            return None
        return IdempotencyRecord(
            row["user_id"],
            row["key"],
            row["fingerprint"],
            row["status"],
            bytes(row["body"]),
            row["headers"],
            row["created_at"],
        )

    def add(self, record: IdempotencyRecord) -> None:
        values = {
            "user_id": record.user_id,
            "key": record.key,
            "fingerprint": record.fingerprint,
            "status": record.status,
            "body": record.body,
            "headers": record.headers,
            "created_at": record.created_at,
        }
        if not _insert_unless_duplicate(self._conn(), idempotency_keys, values):
            raise Conflict("a request with this Idempotency-Key was just answered; retry to get its answer")

    def purge(self, user_id: UUID, before: datetime) -> None:
        t = idempotency_keys
        self._conn().execute(delete(t).where(t.c.user_id == user_id, t.c.created_at < before))

    def purge_expired(self, before: datetime, limit: int) -> int:
        """One bounded DELETE, the victims picked from the old end of
        `ix_idempotency_keys_created_at` (0016); on PostgreSQL by ctid, a TID scan (see
        SqlOutbox.purge_sent). No row-level security on this table: every user's rows."""
        conn = self._conn()
        if conn.dialect.name == "postgresql":
            return conn.execute(_PURGE_KEYS_PG, {"before": before, "limit": limit}).rowcount
        t = idempotency_keys
        victims = select(t.c.user_id, t.c.key).where(t.c.created_at < before)
        victims = victims.order_by(t.c.created_at).limit(limit)
        return conn.execute(delete(t).where(tuple_(t.c.user_id, t.c.key).in_(victims))).rowcount


_PURGE_KEYS_PG = text(
    "DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY("
    "SELECT ctid FROM idempotency_keys WHERE created_at < :before ORDER BY created_at LIMIT :limit))"
).bindparams(bindparam("before", type_=UtcDateTime()), bindparam("limit", type_=Integer()))


class SqlErasures:
    def __init__(self, conn: ConnectionSource) -> None:
        self._conn = conn

    def add(self, request: ErasureRequest) -> None:
        self._conn().execute(erasure_requests.insert().values(m.erasure_row(request)))

    def open_for_user(self, user_id: UUID) -> ErasureRequest | None:
        stmt = (
            select(erasure_requests)
            .where(erasure_requests.c.user_id == user_id, erasure_requests.c.status == "pending")
            .order_by(erasure_requests.c.id)
            .limit(1)
        )
        row = self._conn().execute(stmt).mappings().first()
        return m.erasure_from(row) if row else None
